"""SageMaker's target-tracking autoscaling policy and a simulator that replays a request-rate trace.

The policy is Application Auto Scaling's, as SageMaker users write it: `MinCapacity`,
`MaxCapacity` and `TargetTrackingScalingPolicyConfiguration` with `TargetValue` on the predefined
metric `SageMakerVariantInvocationsPerInstance` (invocations per instance per MINUTE),
`ScaleOutCooldown` and `ScaleInCooldown`. Every `EvaluationSeconds` (CloudWatch's 60 s period) the
metric over the last period gives the desired count ceil(current x metric / target), clamped to the
bounds. A scale-out waits for the scale-out cooldown since the last scale-out; a scale-in waits for
the scale-in cooldown since the last scaling activity of either kind (Application Auto Scaling's
rules: scaling in never undoes a fresh scale-out). New instances serve after `StartupSeconds`.

Latency is modelled per second as an M/M/c queue (Erlang C mean wait) plus the backlog a
saturated fleet builds up: each instance serves `ConcurrencyPerInstance` requests at a time,
`ServiceTimeMs` each.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor_service.core.json_fields import describe_validation_error
from monitor_service.errors import ConfigError, InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PredefinedMetricSpecification(_Strict):
    PredefinedMetricType: Literal["SageMakerVariantInvocationsPerInstance"]


class TargetTrackingConfiguration(_Strict):
    TargetValue: float = Field(gt=0, description="Invocations per instance per minute")
    PredefinedMetricSpecification: PredefinedMetricSpecification
    ScaleOutCooldown: float = Field(default=300, ge=0)
    ScaleInCooldown: float = Field(default=300, ge=0)
    DisableScaleIn: bool = False


class SimulationSettings(_Strict):
    ServiceTimeMs: float = Field(default=20, gt=0)
    ConcurrencyPerInstance: int = Field(default=1, ge=1)
    InitialInstances: int | None = Field(default=None, ge=1)
    StartupSeconds: float = Field(default=0, ge=0)
    EvaluationSeconds: float = Field(default=60, gt=0)


class ScalingPolicy(_Strict):
    MinCapacity: int = Field(ge=1)
    MaxCapacity: int = Field(ge=1)
    TargetTrackingScalingPolicyConfiguration: TargetTrackingConfiguration
    Simulation: SimulationSettings = Field(default_factory=lambda: SimulationSettings())

    @model_validator(mode="after")
    def _bounds(self) -> ScalingPolicy:
        if self.MinCapacity > self.MaxCapacity:
            raise ValueError(f"MinCapacity {self.MinCapacity} is above MaxCapacity {self.MaxCapacity}")
        return self


def load_policy(path: str | Path) -> ScalingPolicy:
    from monitor_service.gateway.config import parse_text

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read scaling policy {path}: {exc.strerror}", hint="pass an existing file") from exc
    try:
        return ScalingPolicy.model_validate(parse_text(text, f"scaling policy {path}"))
    except ValidationError as exc:
        raise ConfigError(f"scaling policy {path} is invalid: {describe_validation_error(exc, None)}",
                          hint="see docs/deployments.md, Autoscaling") from exc


def load_trace(path: str | Path) -> list[tuple[float, float]]:
    """(second, requests per second) rows from a CSV with those two columns (a header is allowed)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read trace {path}: {exc.strerror}") from exc
    if text.lstrip().startswith("["):
        rows = [(float(a), float(b)) for a, b in json.loads(text)]
    else:
        rows = []
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or row[0].strip().startswith("#"):
                continue
            try:
                rows.append((float(row[0]), float(row[1])))
            except (ValueError, IndexError):
                if number == 1:
                    continue  # header
                raise InputError(f"trace {path} line {number}: expected 'second,requests_per_second', "
                                 f"got {row}") from None
    if not rows:
        raise InputError(f"trace {path} has no rows", hint="write 'second,requests_per_second' lines")
    rows.sort()
    if any(r < 0 for _, r in rows):
        raise InputError(f"trace {path} has a negative request rate")
    return rows


@dataclass(frozen=True)
class Tick:
    second: int
    request_rate: float
    instances: int
    in_service: int
    invocations_per_instance_minute: float
    latency_ms: float
    backlog: float
    action: str | None


def erlang_c_wait(arrival: float, service: float, servers: int) -> float:
    """Mean wait in queue (seconds) of M/M/c; inf when the fleet is saturated."""
    if arrival <= 0:
        return 0.0
    a = arrival * service
    if a >= servers:
        return math.inf
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= a / k
        total += term
    term *= a / servers
    last = term * servers / (servers - a)
    return (last / (total + last)) * service / (servers - a)


def rate_at(trace: list[tuple[float, float]], second: float) -> float:
    """Step interpolation: the rate of the last row at or before `second`."""
    rate = trace[0][1]
    for at, r in trace:
        if at > second:
            break
        rate = r
    return rate


@dataclass(frozen=True)
class Decision:
    desired: int
    action: str | None  # "scale out a -> b" / "scale in a -> b", None when nothing changes


def decide(tt: TargetTrackingConfiguration, min_capacity: int, max_capacity: int, current: int,
           per_instance_minute: float, now: float, last_out: float | None, last_activity: float | None) -> Decision:
    """One target-tracking evaluation: the desired count and whether the cooldowns let it happen.

    Shared by the simulator and the live controller, so the simulator predicts what the gateway does.
    """
    desired = (math.ceil(current * per_instance_minute / tt.TargetValue - 1e-9) if per_instance_minute > 0
               else min_capacity)
    desired = min(max(desired, min_capacity), max_capacity)
    since_out = math.inf if last_out is None else now - last_out
    since_any = math.inf if last_activity is None else now - last_activity
    if desired > current and since_out >= tt.ScaleOutCooldown:
        return Decision(desired, f"scale out {current} -> {desired}")
    if desired < current and not tt.DisableScaleIn and since_any >= tt.ScaleInCooldown:
        return Decision(desired, f"scale in {current} -> {desired}")
    return Decision(current, None)


def simulate(policy: ScalingPolicy, trace: list[tuple[float, float]]) -> list[Tick]:
    sim = policy.Simulation
    tt = policy.TargetTrackingScalingPolicyConfiguration
    service = sim.ServiceTimeMs / 1000
    instances = min(max(sim.InitialInstances or policy.MinCapacity, policy.MinCapacity), policy.MaxCapacity)
    ready_at = [0.0] * instances
    last_out: float | None = None
    last_activity: float | None = None
    backlog = 0.0
    window: list[float] = []
    end = int(trace[-1][0])
    ticks: list[Tick] = []
    next_eval = sim.EvaluationSeconds
    for second in range(end + 1):
        rate = rate_at(trace, second)
        in_service = max(1, sum(1 for r in ready_at if r <= second))
        servers = in_service * sim.ConcurrencyPerInstance
        capacity = servers / service
        backlog = max(0.0, backlog + rate - capacity)
        served_rate = min(rate, capacity)
        wait = erlang_c_wait(served_rate, service, servers) if served_rate < capacity else service * 10
        latency = (service + (wait if math.isfinite(wait) else service * 10) + backlog / capacity) * 1000
        window.append(rate)
        action = None
        recent = window[-int(sim.EvaluationSeconds):]
        per_minute = sum(recent) / len(recent) * 60 / instances
        if second >= next_eval:
            next_eval += sim.EvaluationSeconds
            decision = decide(tt, policy.MinCapacity, policy.MaxCapacity, instances, per_minute, second, last_out,
                              last_activity)
            action = decision.action
            if decision.desired > instances:
                ready_at += [second + sim.StartupSeconds] * (decision.desired - instances)
                last_out = last_activity = second
            elif decision.desired < instances:
                ready_at = sorted(ready_at)[:decision.desired]
                last_activity = second
            instances = decision.desired
        ticks.append(Tick(second, rate, instances, in_service, per_minute, latency, backlog, action))
    return ticks
