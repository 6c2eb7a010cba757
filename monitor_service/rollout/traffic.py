"""Traffic schedules of a blue/green deployment and the variant weights at each step.

SageMaker's `TrafficRoutingConfiguration`: `ALL_AT_ONCE` moves everything in one step; `CANARY`
sends `CanarySize` first, then everything; `LINEAR` moves `LinearStepSize` at a time. Each step
waits `WaitIntervalInSeconds` (gated) before the next; the last step (100 %) is followed by the
bake. Weights are written so that shares come out exact under weighted routing: the new variant
gets p / 100 and the old variants share the rest in their old proportions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from monitor_service.rollout.specs import TrafficRouting


def traffic_steps(routing: TrafficRouting, target_instances: int = 1) -> list[float]:
    """The new variant's share (percent) at each step, ending at 100."""
    if routing.Type == "ALL_AT_ONCE":
        return [100.0]
    if routing.Type == "CANARY":
        assert routing.CanarySize is not None
        canary = routing.CanarySize.percent(target_instances)
        return [canary, 100.0] if canary < 100 else [100.0]
    assert routing.LinearStepSize is not None
    step = routing.LinearStepSize.percent(target_instances)
    count = math.ceil(100.0 / step - 1e-9)
    return [min(100.0, round(step * (i + 1), 6)) for i in range(count)]


def step_weights(old: Mapping[str, float], target: str, percent: float) -> dict[str, float]:
    """Weights giving `target` `percent` % of the traffic and the old variants the rest, pro rata."""
    total = sum(w for name, w in old.items() if name != target)
    weights = {name: 0.0 for name in old}
    share = percent / 100.0
    for name, w in old.items():
        if name != target and total > 0:
            weights[name] = round((1.0 - share) * w / total, 9)
    weights[target] = round(share if total > 0 else 1.0, 9)
    return weights
