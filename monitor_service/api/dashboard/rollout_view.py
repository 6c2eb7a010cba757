"""The endpoint page's deployments section: rollouts in progress (step, weights, gates and their
evaluations) and the last finished ones, from the rollouts tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor_service.service import rollouts as service

EVALUATIONS_SHOWN = 20


@dataclass(frozen=True)
class GateView:
    name: str
    metric: str
    threshold: float
    rolls_back: bool
    failures: int
    last_status: str | None
    last_value: float | None
    last_detail: str | None


@dataclass
class RolloutView:
    id: str
    kind: str
    status: str
    phase: str
    reason: str | None
    started: datetime
    finished: datetime | None
    step: str | None
    weights: dict[str, float]
    failure_limit: int | None
    gates: list[GateView] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    arms: dict[str, dict[str, Any]] | None = None


def _step(row: Any) -> str | None:
    state = row.state
    if row.kind == "Deployment" and state.get("steps"):
        percent = state["steps"][state["step"]]
        text = f"step {state['step'] + 1} of {len(state['steps'])}: {percent:g} % on {row.spec['TargetVariant']}"
        return f"{text} (baking)" if state.get("phase") == "Baking" else text
    if row.kind == "Autoscaling":
        return f"{state.get('instances')} instance(s) of {row.spec['VariantName']}"
    return None


def rollout_view(session: Session, row: Any) -> RolloutView:
    state = row.state
    view = RolloutView(id=row.id, kind=row.kind, status=row.status, phase=str(state.get("phase", "")),
                       reason=row.reason, started=row.created_at, finished=row.finished_at, step=_step(row),
                       weights=dict(state.get("weights") or state.get("initial_weights") or {}),
                       failure_limit=row.spec.get("FailureLimit") if row.kind == "Deployment" else None)
    if row.kind == "Deployment":
        evaluations = [e for e in service.events(session, row.id, kind="GateEvaluation", limit=10_000)]
        last: dict[str, dict[str, Any]] = {}
        for e in evaluations:
            last[e.detail["gate"]] = e.detail
        alarms = {a["AlarmName"] for a in row.spec.get("AutoRollbackConfiguration", {}).get("Alarms", [])}
        for gate in row.spec.get("Gates", []):
            seen = last.get(gate["Name"], {})
            view.gates.append(GateView(gate["Name"], gate["Metric"], gate["Threshold"], gate["Name"] in alarms,
                                       int(state.get("failures", {}).get(gate["Name"], 0)), seen.get("status"),
                                       seen.get("value"), seen.get("detail")))
        view.evaluations = [{"at": e.created_at, **e.detail} for e in evaluations[-EVALUATIONS_SHOWN:]][::-1]
    if row.kind in ("Bandit", "ABTest"):
        view.arms = service.arm_stats(session, row.id)
    return view


def endpoint_rollouts(session: Session, endpoint: str) -> tuple[list[RolloutView], list[RolloutView]]:
    """(in progress, the last five finished) rollouts of the endpoint."""
    rows = service.list_rollouts(session, endpoint=endpoint, limit=50)
    running = [rollout_view(session, r) for r in rows if r.status == "InProgress"]
    finished = [rollout_view(session, r) for r in rows if r.status != "InProgress"][:5]
    return running, finished
