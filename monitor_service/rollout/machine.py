"""The blue/green deployment as a state machine: pure, so every transition is testable without a clock.

`start` fixes the schedule and the old weights; `advance` is called by the controller whenever the
deployment is due (an evaluation, or the end of a wait) with the gate results of this evaluation
(None when no evaluation is due) and returns the new state, the events to record and, when
traffic must move, the weights to write. Rolling back restores the old weights in one write (the
old fleet never stopped being loaded), so 100 % of the traffic goes back at once.

Phases: `Shifting` (steps of the schedule, each held `WaitIntervalInSeconds`), `Baking` (100 % on
the new variant for `TerminationWaitInSeconds`), then `Completed`; or `RolledBack` (a rollback gate
failed `FailureLimit` evaluations in a row, or the deployment ran past
`MaximumExecutionTimeoutInSeconds`), `Stopped` (halted by hand at the current weights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor_service.rollout.gates import GateResult
from monitor_service.rollout.specs import DeploymentSpec
from monitor_service.rollout.traffic import step_weights, traffic_steps

FINISHED = ("Completed", "RolledBack", "Stopped")


@dataclass(frozen=True)
class Event:
    kind: str
    detail: dict[str, Any]


@dataclass
class Transition:
    state: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    weights: dict[str, float] | None = None


def start(spec: DeploymentSpec, old_weights: Mapping[str, float], target_instances: int, now: float) -> Transition:
    """The first step's state and weights."""
    steps = traffic_steps(spec.TrafficRoutingConfiguration, target_instances)
    old = {k: float(v) for k, v in old_weights.items()}
    if sum(w for n, w in old.items() if n != spec.TargetVariant) <= 0:
        old = {**old, spec.TargetVariant: 0.0}
    state: dict[str, Any] = {"phase": "Shifting", "steps": steps, "step": 0, "started_at": now,
                             "step_started_at": now, "baking_started_at": None, "old_weights": old,
                             "failures": {g.Name: 0 for g in spec.Gates}, "evaluations": 0,
                             "next_evaluation_at": now + spec.EvaluationIntervalSeconds}
    weights = step_weights(old, spec.TargetVariant, steps[0])
    state["weights"] = weights
    return Transition(state, [Event("Started", {"steps": steps, "old_weights": old}),
                              Event("StepStarted", {"step": 0, "percent": steps[0], "weights": weights})], weights)


def due_at(spec: DeploymentSpec, state: Mapping[str, Any]) -> float:
    """When the deployment next needs the controller."""
    if state["phase"] in FINISHED:
        return float("inf")
    if state["phase"] == "Shifting":
        end = state["step_started_at"] + spec.TrafficRoutingConfiguration.WaitIntervalInSeconds
    else:
        end = state["baking_started_at"] + spec.TerminationWaitInSeconds
    return min(end, float(state["next_evaluation_at"]))


def advance(spec: DeploymentSpec, state: Mapping[str, Any], now: float,
            results: Sequence[GateResult] | None) -> Transition:
    new = {**state, "failures": dict(state["failures"])}
    out = Transition(new)
    if new["phase"] in FINISHED:
        return out
    if results is not None:
        new["evaluations"] += 1
        new["next_evaluation_at"] = now + spec.EvaluationIntervalSeconds
        rollback = spec.rollback_gates()
        for r in results:
            if r.status == "Fail":
                new["failures"][r.gate] = new["failures"].get(r.gate, 0) + 1
            elif r.status == "Pass":
                new["failures"][r.gate] = 0
            out.events.append(Event("GateEvaluation", {
                "gate": r.gate, "status": r.status, "value": r.value, "threshold": r.threshold, "detail": r.detail,
                "failures": new["failures"][r.gate], "rolls_back": r.gate in rollback,
                "evaluation": new["evaluations"]}))
        tripped = sorted(g for g in rollback if new["failures"].get(g, 0) >= spec.FailureLimit)
        if tripped:
            return _roll_back(spec, out, f"gate {', '.join(tripped)} failed {spec.FailureLimit} evaluation(s) in a row",
                              {"gates": tripped})
    if now - new["started_at"] > spec.MaximumExecutionTimeoutInSeconds:
        return _roll_back(spec, out, f"the deployment ran past MaximumExecutionTimeoutInSeconds "
                          f"({spec.MaximumExecutionTimeoutInSeconds:g} s)", {})
    wait = spec.TrafficRoutingConfiguration.WaitIntervalInSeconds
    if new["phase"] == "Shifting" and now - new["step_started_at"] >= wait:
        if new["step"] + 1 < len(new["steps"]):
            new["step"] += 1
            new["step_started_at"] = now
            percent = new["steps"][new["step"]]
            out.weights = new["weights"] = step_weights(new["old_weights"], spec.TargetVariant, percent)
            out.events.append(Event("StepStarted", {"step": new["step"], "percent": percent, "weights": out.weights}))
        else:
            new["phase"] = "Baking"
            new["baking_started_at"] = now
            out.events.append(Event("BakingStarted", {"seconds": spec.TerminationWaitInSeconds}))
    if new["phase"] == "Baking" and now - new["baking_started_at"] >= spec.TerminationWaitInSeconds:
        new["phase"] = "Completed"
        new["reason"] = "every step and the bake passed their gates"
        out.events.append(Event("Completed", {"weights": new["weights"]}))
    return out


def promote(spec: DeploymentSpec, state: Mapping[str, Any]) -> Transition:
    """Finish now at 100 % on the new variant (skipping the remaining steps and the bake)."""
    new = {**state, "phase": "Completed", "reason": "promoted by hand"}
    weights = step_weights(state["old_weights"], spec.TargetVariant, 100.0)
    new["weights"] = weights
    return Transition(new, [Event("Promoted", {"weights": weights})], weights)


def roll_back(spec: DeploymentSpec, state: Mapping[str, Any], reason: str) -> Transition:
    return _roll_back(spec, Transition({**state}), reason, {"by_hand": True})


def stop(state: Mapping[str, Any], reason: str) -> Transition:
    new = {**state, "phase": "Stopped", "reason": reason}
    return Transition(new, [Event("Stopped", {"weights": state["weights"], "reason": reason})])


def _roll_back(spec: DeploymentSpec, out: Transition, reason: str, detail: dict[str, Any]) -> Transition:
    state = out.state
    weights = {**{n: 0.0 for n in state["weights"]}, **state["old_weights"]}
    weights[spec.TargetVariant] = float(state["old_weights"].get(spec.TargetVariant, 0.0))
    state.update(phase="RolledBack", reason=reason, weights=weights)
    out.weights = weights
    out.events.append(Event("RolledBack", {"reason": reason, "weights": weights, **detail}))
    return out
