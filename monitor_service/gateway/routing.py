"""Choosing the production variant of a request: the header override, then a router policy.

`X-Amzn-SageMaker-Target-Variant` always wins (SageMaker's rule), whatever the weights. Otherwise
the endpoint's router policy picks. A policy is an object with `choose(variants, context)`,
built per endpoint by a factory in `ROUTER_POLICIES`; the default, `Weighted`, is SageMaker's
(share = weight / sum of weights). Deployment strategies (canary, linear, shadow, sticky A/B,
bandits) plug in here as further policies: they get each variant's live state (weights and
instance counts kept in the database) and the request's context (inference id, headers), and may
keep their own state; `observe` is called after each invocation with its outcome, so a bandit
can learn from latencies and errors, and from rewards posted later by inference id.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Protocol

from monitor_service.core.registry import Registry


@dataclass(frozen=True)
class VariantState:
    """The live state of one production variant (DescribeEndpoint's CurrentWeight etc.)."""

    name: str
    weight: float
    instance_count: int = 1


@dataclass(frozen=True)
class RoutingContext:
    """What a policy may look at: the inference id (or the event id) and the request's headers."""

    key: str
    inference_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What happened to a routed request, for policies that learn."""

    variant: str
    status: int
    model_latency_us: float


class RouterPolicy(Protocol):
    def choose(self, variants: Sequence[VariantState], context: RoutingContext) -> str | None:
        """The variant's name, or None when no variant may take traffic (all weights 0)."""

    def observe(self, context: RoutingContext, outcome: Outcome) -> None:
        """Called after every routed invocation (policies that do not learn ignore it)."""


class WeightedPolicy:
    """SageMaker's weighted routing: variant i gets weight_i / sum(weights) of the traffic."""

    def __init__(self, variants: Sequence[VariantState], rng: random.Random | None = None) -> None:
        self._names = [v.name for v in variants if v.weight > 0]
        self._cumulative = list(accumulate(v.weight for v in variants if v.weight > 0))
        self._random = (rng or random.Random()).random

    def choose(self, variants: Sequence[VariantState], context: RoutingContext) -> str | None:
        if not self._cumulative:
            return None
        point = self._random() * self._cumulative[-1]
        return self._names[min(bisect.bisect_right(self._cumulative, point), len(self._names) - 1)]

    def observe(self, context: RoutingContext, outcome: Outcome) -> None:
        return None


# name -> factory(variant states) -> policy; a policy is rebuilt whenever the variants' state changes.
PolicyFactory = Callable[[Sequence[VariantState]], RouterPolicy]
ROUTER_POLICIES: Registry[PolicyFactory] = Registry("router policy")
ROUTER_POLICIES.register("Weighted", WeightedPolicy)
DEFAULT_POLICY = "Weighted"
