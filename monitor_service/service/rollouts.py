"""Rollouts in the database: start, promote, roll back, stop; the controller's tick; audit and webhooks.

Every change is one transaction that writes the rollout, its events (the audit trail, served as
history over REST) and, for events users subscribe to, a webhook delivery in the same outbox as
the monitors' alerts, so a step is never recorded without its notification or the reverse. Traffic
moves by `service.gateway.update_weights` (recorded as a weight change, bumping the gateway
version); routing rollouts (A/B tests, bandits) and shadow tests bump the version too, so every
gateway process reloads its routing within `Gateway.PollSeconds`.

The controller (`tick`) runs in the gateway process holding the `controller` lease: it advances
due deployments (gates over the metric samples of all gateway processes and over monitoring
executions), ends shadow tests at their end time, and matches bandit feedback to assignments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from monitor_service.core.json_fields import describe_validation_error
from monitor_service.errors import ConflictError, InvalidField, NotFoundError
from monitor_service.gateway.config import parse_config
from monitor_service.rollout import machine
from monitor_service.rollout.gates import GateResult, MetricWindow, MonitorVerdict, evaluate
from monitor_service.rollout.specs import (
    ABTestSpec,
    AutoscalingSpec,
    BanditSpec,
    DeploymentSpec,
    RolloutRequest,
    RolloutSpec,
    ShadowSpec,
    slot,
    spec_variants,
)
from monitor_service.service import gateway as gateway_service
from monitor_service.service.common import new_id
from monitor_service.store.db import affected
from monitor_service.store.models import Execution, Violation, Webhook, WebhookDelivery
from monitor_service.store.rollout_models import (
    BanditFeedback,
    GatewayMetricSample,
    Rollout,
    RolloutAssignment,
    RolloutEvent,
    RolloutLease,
)

AnySpec = DeploymentSpec | ShadowSpec | ABTestSpec | BanditSpec | AutoscalingSpec
_SPEC: TypeAdapter[Any] = TypeAdapter(RolloutSpec)
ROUTING_KINDS = ("Deployment", "ABTest", "Bandit")
# Events users get a webhook for (gate evaluations only when they fail).
WEBHOOK_EVENTS = {"Started": "rollout.started", "StepStarted": "rollout.step", "BakingStarted": "rollout.step",
                  "ScaledOut": "rollout.scaled", "ScaledIn": "rollout.scaled",
                  "Completed": "rollout.completed", "RolledBack": "rollout.rolled_back",
                  "Promoted": "rollout.promoted", "Stopped": "rollout.stopped", "GateFailed": "rollout.gate_failed"}
SAMPLE_RETENTION = timedelta(days=2)
FEEDBACK_WAIT = timedelta(days=7)  # feedback that matches no assignment for this long is dropped


def spec_of(row: Rollout) -> AnySpec:
    return _SPEC.validate_python(row.spec)  # type: ignore[no-any-return]


def parse_request(document: Any) -> RolloutRequest:
    try:
        return RolloutRequest.model_validate(document)
    except ValidationError as exc:
        raise InvalidField("Spec", describe_validation_error(exc, None), hint="see docs/deployments.md") from exc


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# -- audit and webhooks ----------------------------------------------------------------------------
def record(session: Session, rollout: Rollout, events: Iterable[machine.Event], now: datetime,
           actor: str | None) -> list[RolloutEvent]:
    rows = []
    for event in events:
        row = RolloutEvent(rollout_id=rollout.id, kind=event.kind, detail=event.detail, actor=actor, created_at=now)
        session.add(row)
        rows.append(row)
        webhook_event = WEBHOOK_EVENTS.get(event.kind)
        if event.kind == "GateEvaluation" and event.detail.get("status") == "Fail":
            webhook_event = WEBHOOK_EVENTS["GateFailed"]
        if webhook_event is not None:
            _enqueue(session, rollout, event, webhook_event, now)
    session.flush()
    return rows


def _enqueue(session: Session, rollout: Rollout, event: machine.Event, name: str, now: datetime) -> None:
    for webhook in session.scalars(select(Webhook).where(Webhook.enabled.is_(True), Webhook.schedule_id.is_(None))):
        if name not in webhook.events:
            continue
        delivery_id = new_id()
        body = {"event": name, "delivery_id": delivery_id,
                "rollout": {"id": rollout.id, "endpoint_name": rollout.endpoint_name, "kind": rollout.kind,
                            "status": rollout.status, "reason": rollout.reason,
                            "url": f"/api/v1/gateway/rollouts/{rollout.id}"},
                "step": {"kind": event.kind, "at": _stamp(now), **event.detail}}
        session.add(WebhookDelivery(id=delivery_id, webhook_id=webhook.id, execution_id=None, event=name,
                                    payload=json.dumps(body, separators=(",", ":"), sort_keys=True, default=str),
                                    status="Pending", attempts=0, next_attempt_at=now, created_at=now))


# -- reads -----------------------------------------------------------------------------------------
def get_rollout(session: Session, rollout_id: str) -> Rollout:
    row = session.get(Rollout, rollout_id)
    if row is None:
        raise NotFoundError(f"rollout {rollout_id} does not exist")
    return row


def list_rollouts(session: Session, *, endpoint: str | None = None, status: str | None = None,
                  limit: int = 100) -> list[Rollout]:
    query = select(Rollout)
    if endpoint is not None:
        query = query.where(Rollout.endpoint_name == endpoint)
    if status is not None:
        query = query.where(Rollout.status == status)
    return list(session.scalars(query.order_by(Rollout.created_at.desc(), Rollout.id).limit(max(1, min(limit, 1000)))))


def events(session: Session, rollout_id: str, *, kind: str | None = None, after: int = 0,
           limit: int = 1000) -> list[RolloutEvent]:
    get_rollout(session, rollout_id)
    query = select(RolloutEvent).where(RolloutEvent.rollout_id == rollout_id, RolloutEvent.id > after)
    if kind is not None:
        query = query.where(RolloutEvent.kind == kind)
    return list(session.scalars(query.order_by(RolloutEvent.id).limit(max(1, min(limit, 10_000)))))


def active(session: Session) -> list[Rollout]:
    return list(session.scalars(select(Rollout).where(Rollout.status == "InProgress").order_by(Rollout.created_at)))


def routing(session: Session) -> dict[str, dict[str, Any]]:
    """What gateway processes need: endpoint -> {"routing": {id, kind, spec}, "shadow": {id, spec},
    "sampled": True}; `sampled`: a deployment or scaling policy reads the endpoint's metric samples."""
    out: dict[str, dict[str, Any]] = {}
    for row in active(session):
        if row.kind in ("Deployment", "Autoscaling"):
            out.setdefault(row.endpoint_name, {})["sampled"] = True  # they act through weights and counts
            continue
        place = "shadow" if row.kind == "Shadow" else "routing"
        out.setdefault(row.endpoint_name, {})[place] = {"id": row.id, "kind": row.kind, "spec": row.spec}
    return out


# -- start / promote / roll back / stop ------------------------------------------------------------
def start(session: Session, endpoint: str, request: RolloutRequest, *, now: datetime,
          created_by: str | None) -> Rollout:
    spec = request.Spec
    states = {s.variant_name: s for s in gateway_service.describe_endpoint(session, endpoint)}
    for name in spec_variants(spec):
        if name not in states:
            raise InvalidField("Spec", f"endpoint {endpoint!r} has no variant {name!r} (variants: "
                               f"{', '.join(states)}); add it to the configuration first (weight 0)",
                               hint="PUT /api/v1/gateway/config?retain_variant_properties=true")
    clash = [r for r in active(session) if r.endpoint_name == endpoint and slot(spec_of(r)) == slot(spec)]
    if clash:
        raise ConflictError(f"endpoint {endpoint!r} already has {clash[0].kind} rollout {clash[0].id} in progress; "
                            "promote, roll back or stop it first")
    row = Rollout(id=new_id(), endpoint_name=endpoint, kind=spec.Kind, status="InProgress",
                  spec=spec.model_dump(mode="json"), state={}, reason=None, comment=request.Comment,
                  created_by=created_by, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    old = {n: s.current_weight for n, s in states.items()}
    if isinstance(spec, DeploymentSpec):
        if old.get(spec.TargetVariant, 0) > 0 and all(w == 0 for n, w in old.items() if n != spec.TargetVariant):
            raise ConflictError(f"variant {spec.TargetVariant!r} already takes all the traffic of {endpoint!r}")
        step = machine.start(spec, old, states[spec.TargetVariant].current_instance_count, now.timestamp())
        row.state = step.state
        _apply(session, row, step, now, created_by)
    elif isinstance(spec, AutoscalingSpec):
        count = states[spec.VariantName].current_instance_count
        row.state = {"phase": "InProgress", "started_at": now.timestamp(), "initial_instance_count": count,
                     "instances": count, "next_evaluation_at": now.timestamp() + spec.EvaluationSeconds,
                     "last_scale_out": None, "last_activity": None}
        gateway_service.bump(session, now)  # gateways start writing the variant's metric samples
        record(session, row, [machine.Event("Started", {"spec": row.spec, "instances": count})], now, created_by)
        bounded = min(max(count, spec.MinCapacity), spec.MaxCapacity)
        if bounded != count:
            _scale(session, row, spec, count, bounded, f"bring {count} within {spec.MinCapacity}-{spec.MaxCapacity}",
                   now, created_by)
    else:
        row.state = {"phase": "InProgress", "initial_weights": old, "started_at": now.timestamp()}
        gateway_service.bump(session, now)
        record(session, row, [machine.Event("Started", {"spec": row.spec})], now, created_by)
    return row


def _apply(session: Session, row: Rollout, step: machine.Transition, now: datetime, actor: str | None) -> None:
    row.state = step.state
    row.updated_at = now
    if step.weights is not None:
        desired = [{"VariantName": n, "DesiredWeight": w} for n, w in sorted(step.weights.items())]
        gateway_service.update_weights(session, row.endpoint_name, desired, now=now, created_by=actor)
    phase = step.state.get("phase")
    if phase in machine.FINISHED:
        row.status, row.reason, row.finished_at = phase, step.state.get("reason"), now
    record(session, row, step.events, now, actor)


def _in_progress(session: Session, rollout_id: str) -> Rollout:
    row = get_rollout(session, rollout_id)
    if row.status != "InProgress":
        raise ConflictError(f"rollout {rollout_id} is {row.status}, not in progress")
    return row


def promote(session: Session, rollout_id: str, *, variant: str | None, now: datetime, actor: str | None) -> Rollout:
    """Deployment: 100 % on the new variant now. Shadow: the shadow takes the source's traffic.
    A/B test and bandit: `variant` (default: the bandit's best arm / the test's first variant) takes it all."""
    row = _in_progress(session, rollout_id)
    spec = spec_of(row)
    if isinstance(spec, DeploymentSpec):
        _apply(session, row, machine.promote(spec, row.state), now, actor)
        return row
    if isinstance(spec, AutoscalingSpec):
        raise ConflictError(f"rollout {rollout_id} is a scaling policy: there is nothing to promote (stop it, or "
                            "roll it back to its starting instance count)")
    names = spec_variants(spec)
    if isinstance(spec, ShadowSpec):
        chosen = spec.ShadowVariant
    else:
        chosen = variant or _best_arm(session, row, spec) or names[0]
    if chosen not in names:
        raise InvalidField("VariantName", f"{chosen!r} is not a variant of rollout {rollout_id} ({', '.join(names)})")
    weights = {n: 0.0 for n in row.state["initial_weights"]}
    weights[chosen] = 1.0
    _finish(session, row, "Completed", f"promoted {chosen}", "Promoted", {"variant": chosen, "weights": weights},
            now, actor, weights)
    return row


def roll_back(session: Session, rollout_id: str, *, now: datetime, actor: str | None) -> Rollout:
    row = _in_progress(session, rollout_id)
    spec = spec_of(row)
    if isinstance(spec, DeploymentSpec):
        _apply(session, row, machine.roll_back(spec, row.state, "rolled back by hand"), now, actor)
        return row
    if isinstance(spec, AutoscalingSpec):
        start_count = int(row.state["initial_instance_count"])
        if start_count != row.state["instances"]:
            _scale(session, row, spec, row.state["instances"], start_count, "rolled back by hand", now, actor)
        _finish(session, row, "RolledBack", "rolled back by hand", "RolledBack", {"instances": start_count}, now,
                actor, None)
        return row
    weights = dict(row.state["initial_weights"])
    _finish(session, row, "RolledBack", "rolled back by hand", "RolledBack", {"weights": weights}, now, actor,
            weights if not isinstance(spec, ShadowSpec) else None)
    return row


def stop(session: Session, rollout_id: str, *, now: datetime, actor: str | None) -> Rollout:
    """Deployment: halt at the current weights. Others: end the test (routing returns to the weights)."""
    row = _in_progress(session, rollout_id)
    if row.kind == "Deployment":
        _apply(session, row, machine.stop(row.state, "stopped by hand"), now, actor)
        return row
    _finish(session, row, "Stopped", "stopped by hand", "Stopped", {}, now, actor, None)
    return row


def _finish(session: Session, row: Rollout, status: str, reason: str, kind: str, detail: dict[str, Any],
            now: datetime, actor: str | None, weights: Mapping[str, float] | None) -> None:
    row.status, row.reason, row.finished_at, row.updated_at = status, reason, now, now
    row.state = {**row.state, "phase": status, "reason": reason}
    if weights is not None:
        desired = [{"VariantName": n, "DesiredWeight": w} for n, w in sorted(weights.items())]
        gateway_service.update_weights(session, row.endpoint_name, desired, now=now, created_by=actor)
    else:
        gateway_service.bump(session, now)
    record(session, row, [machine.Event(kind, {"reason": reason, **detail})], now, actor)


# -- the controller --------------------------------------------------------------------------------
def acquire_lease(session: Session, holder: str, now: datetime, seconds: float, name: str = "controller") -> bool:
    """Take or renew the lease; True when `holder` has it until now + seconds."""
    until = now + timedelta(seconds=seconds)
    changed = affected(session.execute(update(RolloutLease).where(
        RolloutLease.name == name, or_(RolloutLease.holder == holder, RolloutLease.expires_at < now))
        .values(holder=holder, expires_at=until)))
    if changed:
        return True
    if session.get(RolloutLease, name) is None:
        session.add(RolloutLease(name=name, holder=holder, expires_at=until))
        session.flush()
        return True
    return False


def record_samples(session: Session, gateway_id: str, at: datetime,
                   samples: Sequence[tuple[str, str, int, int, list[int]]]) -> None:
    """(endpoint, variant, invocations, 5xx, latency bucket counts) deltas of one gateway process."""
    for endpoint, variant, invocations, errors, counts in samples:
        session.add(GatewayMetricSample(gateway_id=gateway_id, endpoint_name=endpoint, variant_name=variant, at=at,
                                        invocations=invocations, errors_5xx=errors, latency_counts=counts))


def window(session: Session, endpoint: str, variant: str, since: datetime, bounds: Sequence[float]) -> MetricWindow:
    out = MetricWindow(bucket_bounds=bounds)
    rows = session.execute(select(GatewayMetricSample.invocations, GatewayMetricSample.errors_5xx,
                                  GatewayMetricSample.latency_counts).where(
        GatewayMetricSample.endpoint_name == endpoint, GatewayMetricSample.variant_name == variant,
        GatewayMetricSample.at > since))
    for invocations, errors, counts in rows:
        out.add(invocations, errors, counts)
    return out


def verdict(session: Session, schedule_id: str, after: datetime) -> MonitorVerdict:
    """The newest execution of the schedule over a window ending after `after`."""
    execution = session.scalars(select(Execution).where(
        Execution.schedule_id == schedule_id, Execution.window_end > after,
        Execution.status.in_(("Completed", "CompletedWithViolations", "Failed")))
        .order_by(Execution.window_end.desc()).limit(1)).first()
    if execution is None:
        return MonitorVerdict(None, None, 0)
    metrics = tuple(sorted({m for m in session.scalars(select(Violation.metric_name).where(
        Violation.execution_id == execution.id)) if m}))
    return MonitorVerdict(execution.id, execution.status, int(execution.violation_count or 0), metrics)


def evaluate_gates(session: Session, row: Rollout, spec: DeploymentSpec, now: datetime,
                   bounds: Sequence[float]) -> list[GateResult]:
    started = datetime.fromtimestamp(row.state["started_at"], UTC)
    results = []
    for gate in spec.Gates:
        since = max(started, now - timedelta(seconds=gate.WindowSeconds))
        if gate.ScheduleId is not None:
            results.append(evaluate(gate, MetricWindow(), verdict(session, gate.ScheduleId, started)))
        else:
            results.append(evaluate(gate, window(session, row.endpoint_name, spec.TargetVariant, since, bounds)))
    return results


def tick(session: Session, now: datetime, bounds: Sequence[float]) -> list[str]:
    """Advance every due rollout; returns the ids that changed. Call with the controller lease held."""
    changed = []
    at = now.timestamp()
    for row in active(session):
        spec = spec_of(row)
        if isinstance(spec, DeploymentSpec):
            if machine.due_at(spec, row.state) > at:
                continue
            results = evaluate_gates(session, row, spec, now, bounds) if at >= row.state["next_evaluation_at"] else None
            _apply(session, row, machine.advance(spec, row.state, at, results), now, "controller")
            changed.append(row.id)
        elif isinstance(spec, AutoscalingSpec) and at >= row.state["next_evaluation_at"]:
            if _autoscale(session, row, spec, now):
                changed.append(row.id)
        elif isinstance(spec, ShadowSpec) and at - row.state["started_at"] >= spec.DurationSeconds:
            _finish(session, row, "Completed", f"the shadow test ran its {spec.DurationSeconds:g} s", "Completed", {},
                    now, "controller", None)
            changed.append(row.id)
    apply_feedback(session, now)
    session.execute(delete(GatewayMetricSample).where(GatewayMetricSample.at < now - SAMPLE_RETENTION))
    return changed


# -- autoscaling -----------------------------------------------------------------------------------
def _scale(session: Session, row: Rollout, spec: AutoscalingSpec, current: int, desired: int, reason: str,
           now: datetime, actor: str | None, metric: float | None = None) -> None:
    gateway_service.update_weights(session, row.endpoint_name,
                                   [{"VariantName": spec.VariantName, "DesiredInstanceCount": desired}], now=now,
                                   created_by=actor)
    kind = "ScaledOut" if desired > current else "ScaledIn"
    state = {**row.state, "instances": desired, "last_activity": now.timestamp()}
    if desired > current:
        state["last_scale_out"] = now.timestamp()
    row.state, row.updated_at = state, now
    record(session, row, [machine.Event(kind, {"from": current, "to": desired, "reason": reason,
                                               "invocations_per_instance_minute": metric})], now, actor)


def _autoscale(session: Session, row: Rollout, spec: AutoscalingSpec, now: datetime) -> bool:
    """One evaluation: the variant's invocations per instance per minute over the last period, all gateways."""
    from monitor_service.rollout.autoscaling import decide

    at = now.timestamp()
    row.state = {**row.state, "next_evaluation_at": at + spec.EvaluationSeconds}
    current = int(row.state["instances"])
    since = max(datetime.fromtimestamp(row.state["started_at"], UTC), now - timedelta(seconds=spec.EvaluationSeconds))
    seconds = max(1e-9, (now - since).total_seconds())
    invocations = window(session, row.endpoint_name, spec.VariantName, since, ()).invocations
    metric = invocations * 60.0 / seconds / max(1, current)
    decision = decide(spec.TargetTrackingScalingPolicyConfiguration, spec.MinCapacity, spec.MaxCapacity, current,
                      metric, at, row.state.get("last_scale_out"), row.state.get("last_activity"))
    if decision.action is None:
        return False
    _scale(session, row, spec, current, decision.desired, decision.action, now, "controller", metric)
    return True


# -- bandits ---------------------------------------------------------------------------------------
def write_assignments(session: Session, rollout_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Assignments of one gateway process (an inference id seen twice keeps its first arm)."""
    if not rows:
        return
    ids = [r["inference_id"] for r in rows]
    known = set(session.scalars(select(RolloutAssignment.inference_id).where(
        RolloutAssignment.rollout_id == rollout_id, RolloutAssignment.inference_id.in_(ids))))
    for r in rows:
        if r["inference_id"] in known:
            continue
        known.add(r["inference_id"])
        session.add(RolloutAssignment(rollout_id=rollout_id, inference_id=r["inference_id"], variant_name=r["variant"],
                                     prediction=r.get("prediction"), status=r["status"],
                                     at=datetime.fromtimestamp(r["at"], UTC)))
    session.flush()


def add_feedback(session: Session, endpoint: str, items: Sequence[Mapping[str, Any]], now: datetime) -> int:
    for item in items:
        session.add(BanditFeedback(endpoint_name=endpoint, inference_id=item["InferenceId"],
                                   reward=item.get("Reward"), label=item.get("GroundTruth"), received_at=now))
    session.flush()
    return len(items)


def feedback_from_labels(session: Session, labels: Iterable[tuple[str, str]], now: datetime) -> int:
    """Labels posted to the service's ground-truth route, as feedback for every endpoint with a bandit or A/B
    test in progress (matched by inference id like posted feedback; ids no assignment has expire)."""
    endpoints = sorted({r.endpoint_name for r in active(session) if r.kind in ("Bandit", "ABTest")})
    items = [{"InferenceId": i, "GroundTruth": label} for i, label in labels if len(i) <= 64]
    return sum(add_feedback(session, endpoint, items, now) for endpoint in endpoints) if items else 0


def _label_reward(label: str, prediction: str | None) -> float:
    """1.0 when the label equals the arm's prediction (as numbers when both are numbers), else 0.0."""
    if prediction is None:
        return 0.0
    a, b = label.strip(), prediction.strip()
    try:
        return 1.0 if float(a) == float(b) else 0.0
    except ValueError:
        return 1.0 if a == b else 0.0


def apply_feedback(session: Session, now: datetime) -> int:
    """Match pending feedback to assignments of the endpoint's bandit or A/B test; unmatched feedback waits
    (it may have arrived before the gateway wrote the assignment: delayed and early feedback both work).

    Only feedback whose assignment exists is read (a join on the assignment's key, oldest first), so
    feedback nothing matches never starves the rest; it is deleted after FEEDBACK_WAIT.
    """
    session.execute(delete(BanditFeedback).where(BanditFeedback.applied_at.is_(None),
                                                 BanditFeedback.received_at < now - FEEDBACK_WAIT))
    seq: int | None = None
    applied = 0
    for rollout in active(session):
        if rollout.kind not in ("Bandit", "ABTest"):
            continue
        pairs = session.execute(
            select(BanditFeedback, RolloutAssignment)
            .join(RolloutAssignment, and_(RolloutAssignment.rollout_id == rollout.id,
                                          RolloutAssignment.inference_id == BanditFeedback.inference_id))
            .where(BanditFeedback.endpoint_name == rollout.endpoint_name, BanditFeedback.applied_at.is_(None))
            .order_by(BanditFeedback.id).limit(5000)).all()
        if pairs and seq is None:
            seq = session.scalar(select(func.max(RolloutAssignment.reward_seq))) or 0
        for feedback, assignment in pairs:
            feedback.applied_at, feedback.rollout_id = now, rollout.id
            if assignment.reward_seq is not None:
                continue  # the first reward of an inference id counts; repeats are recorded, not applied
            reward = feedback.reward if feedback.reward is not None else _label_reward(feedback.label or "",
                                                                                       assignment.prediction)
            seq = (seq or 0) + 1
            assignment.reward, assignment.reward_seq, assignment.label = float(reward), seq, feedback.label
            applied += 1
    session.flush()
    return applied


def rewards_since(session: Session, rollout_id: str, seq: int, limit: int = 100_000) -> list[tuple[int, str, float]]:
    rows = session.execute(select(RolloutAssignment.reward_seq, RolloutAssignment.variant_name,
                                  RolloutAssignment.reward)
                           .where(RolloutAssignment.rollout_id == rollout_id, RolloutAssignment.reward_seq > seq)
                           .order_by(RolloutAssignment.reward_seq).limit(limit))
    return [(int(s), str(v), float(r)) for s, v, r in rows]


def arm_stats(session: Session, rollout_id: str) -> dict[str, dict[str, float | int | None]]:
    rows = session.execute(select(RolloutAssignment.variant_name, func.count(), func.count(RolloutAssignment.reward),
                                  func.avg(RolloutAssignment.reward)).where(RolloutAssignment.rollout_id == rollout_id)
                           .group_by(RolloutAssignment.variant_name))
    return {v: {"assignments": int(n), "rewards": int(k), "mean_reward": None if m is None else float(m)}
            for v, n, k, m in rows}


def _best_arm(session: Session, row: Rollout, spec: AnySpec) -> str | None:
    if not isinstance(spec, BanditSpec):
        return None
    stats = arm_stats(session, row.id)
    scored = [(s["mean_reward"], arm) for arm, s in stats.items() if s["mean_reward"] is not None]
    return max(scored)[1] if scored else None


# -- A/B report --------------------------------------------------------------------------------------
def _errors(rows: Iterable[tuple[str | None, str | None]], squared: bool) -> list[float]:
    out = []
    for prediction, label in rows:
        try:
            diff = float((prediction or "").strip().split(",")[0]) - float((label or "").strip())
        except ValueError:
            continue
        out.append(diff * diff if squared else abs(diff))
    return out


def report(session: Session, row: Rollout, ground_truth: str | None = None) -> dict[str, Any]:
    """An A/B test's significance report, or a shadow test's comparison with production (from the
    endpoint's capture destination in the configuration in force; labels from `ground_truth`)."""
    spec = spec_of(row)
    if isinstance(spec, ShadowSpec):
        from monitor_service.rollout.shadow_report import compare

        config = gateway_service.current_config(session)
        endpoint = gateway_service.stored_config(config).endpoint(row.endpoint_name) if config else None
        capture = endpoint.DataCaptureConfig if endpoint is not None else None
        if capture is None or not capture.EnableCapture:
            raise ConflictError(f"endpoint {row.endpoint_name!r} has no data capture: the shadow's answers are "
                                "only kept in the capture", hint="add DataCaptureConfig to the endpoint")
        result = compare(capture.DestinationS3Uri, row.endpoint_name, spec.SourceVariant, spec.ShadowVariant,
                         ground_truth=ground_truth)
        result.pop("differences")
        return {"rollout_id": row.id, **result}
    return ab_report(session, row)


def ab_report(session: Session, row: Rollout) -> dict[str, Any]:
    """Each variant's metric from the labels matched so far, and each challenger against the first variant."""
    from statistics import fmean, variance

    from monitor_service.rollout.significance import two_proportion, welch

    spec = spec_of(row)
    if not isinstance(spec, ABTestSpec):
        raise ConflictError(f"rollout {row.id} is a {row.kind}; reports are for A/B and shadow tests")
    variants: dict[str, dict[str, Any]] = {}
    for v in spec.Variants:
        labelled = session.execute(select(RolloutAssignment.prediction, RolloutAssignment.label,
                                          RolloutAssignment.reward).where(RolloutAssignment.rollout_id == row.id,
                                          RolloutAssignment.variant_name == v.VariantName,
                                          RolloutAssignment.reward_seq.is_not(None))).all()
        assigned = session.scalar(select(func.count()).where(RolloutAssignment.rollout_id == row.id,
                                                             RolloutAssignment.variant_name == v.VariantName)) or 0
        entry: dict[str, Any] = {"assigned": int(assigned), "labelled": len(labelled)}
        if spec.Metric == "accuracy":
            entry["successes"] = int(sum(1 for _, _, r in labelled if r and r >= 0.5))
            entry["accuracy"] = entry["successes"] / len(labelled) if labelled else None
        else:
            errors = _errors(((p, lab) for p, lab, _ in labelled), squared=spec.Metric == "mse")
            entry.update(n=len(errors), **{spec.Metric: fmean(errors) if errors else None},
                         variance=variance(errors) if len(errors) > 1 else None)
        variants[v.VariantName] = entry
    names = [v.VariantName for v in spec.Variants]
    control = variants[names[0]]
    comparisons = []
    for name in names[1:]:
        other = variants[name]
        if spec.Metric == "accuracy":
            result = two_proportion(control["successes"], control["labelled"], other["successes"], other["labelled"],
                                    alpha=spec.Alpha, power=spec.Power, mde=spec.MinimumDetectableEffect)
            better = (result.effect or 0) > 0
        else:
            result = welch(control[spec.Metric] or 0.0, control["variance"] or 0.0, control["n"],
                           other[spec.Metric] or 0.0, other["variance"] or 0.0, other["n"], alpha=spec.Alpha,
                           power=spec.Power, mde=spec.MinimumDetectableEffect)
            better = (result.effect or 0) < 0  # a lower error is better
        have = min(control.get("labelled", 0), other.get("labelled", 0))
        if result.significant:
            decision = f"{name} is {'better' if better else 'worse'} than {names[0]} (p = {result.p_value:.4g})"
        elif result.sample_size_needed is not None and have < result.sample_size_needed:
            decision = (f"no significant difference yet: {have} labelled answers per variant of the "
                        f"{result.sample_size_needed} needed to detect {spec.MinimumDetectableEffect:g}")
        else:
            decision = (f"no significant difference with {have} labelled answers per variant: keep {names[0]} "
                        "or decide on other grounds")
        comparisons.append({"control": names[0], "challenger": name, "test": result.test,
                            "statistic": result.statistic, "p_value": result.p_value,
                            "significant": result.significant, "effect": result.effect,
                            "sample_size_needed_per_variant": result.sample_size_needed, "detail": result.detail,
                            "decision": decision})
    return {"rollout_id": row.id, "metric": spec.Metric, "alpha": spec.Alpha, "power": spec.Power,
            "minimum_detectable_effect": spec.MinimumDetectableEffect, "variants": variants,
            "comparisons": comparisons}


def update_endpoint(session: Session, endpoint: str, document: Any, deployment: Mapping[str, Any], *,
                    now: datetime, created_by: str | None, comment: str | None = None) -> Rollout:
    """SageMaker's UpdateEndpoint with a DeploymentConfig: store the configuration and start the
    blue/green deployment to the variant it adds, in one transaction.

    The new configuration must add exactly one variant to `endpoint` (the green fleet); it starts at
    weight 0 and the variants already serving keep their live weights, so traffic moves only as the
    deployment's TrafficRoutingConfiguration says. `deployment` is SageMaker's DeploymentConfig
    (`BlueGreenUpdatePolicy`, `AutoRollbackConfiguration`) plus this product's `Gates`,
    `FailureLimit` and `EvaluationIntervalSeconds`."""
    config = parse_config(document, "Config")
    live = {s.variant_name for s in gateway_service.describe_endpoint(session, endpoint)}
    target = next((e for e in config.Endpoints if e.EndpointName == endpoint), None)
    if target is None:
        raise InvalidField("Config", f"the configuration has no endpoint {endpoint!r}; an update keeps the endpoint "
                                     "it deploys to")
    added = [v.VariantName for v in target.ProductionVariants if v.VariantName not in live]
    if len(added) != 1:
        said = f"adds {', '.join(added)}" if added else "adds no variant"
        raise InvalidField("Config", f"a blue/green update adds exactly one variant to {endpoint!r} (the new "
                                     f"fleet); this configuration {said} (serving now: {', '.join(sorted(live))})",
                           hint="give the new model version a variant name of its own")
    variants = [v.model_copy(update={"InitialVariantWeight": 0.0}) if v.VariantName == added[0] else v
                for v in target.ProductionVariants]
    endpoints = [e.model_copy(update={"ProductionVariants": variants}) if e.EndpointName == endpoint else e
                 for e in config.Endpoints]
    config = config.model_copy(update={"Endpoints": endpoints})
    policy = deployment.get("BlueGreenUpdatePolicy")
    if not isinstance(policy, Mapping):
        raise InvalidField("DeploymentConfig.BlueGreenUpdatePolicy", "is required: TrafficRoutingConfiguration "
                                                                     "(ALL_AT_ONCE, CANARY or LINEAR) and the bake")
    extra = {k: v for k, v in deployment.items() if k != "BlueGreenUpdatePolicy"}
    request = parse_request({"Spec": {"Kind": "Deployment", "TargetVariant": added[0], **policy, **extra},
                             "Comment": comment})
    gateway_service.put_config(session, config, now=now, created_by=created_by, comment=comment,
                               retain_variant_properties=True)
    return start(session, endpoint, request, now=now, created_by=created_by)
