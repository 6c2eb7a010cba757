"""Router policies of rollouts: sticky A/B assignment and multi-armed bandits (with an exploration floor).

Sticky A/B: the variant is a pure function of a key (a header, a cookie or the inference id): the
first 8 bytes of BLAKE2b of the key, as a point in [0, 1), fall into one variant's slice of the
cumulative weights. Every gateway process agrees, a restart changes nothing, and a user stays on
one variant as long as the weights stay. A request without the key is assigned at random by the
weights (and counted), since there is nothing to stick to.

Bandits: the arm-choosing policies are river's (`river.bandit.ThompsonSampling` with a Beta
posterior, `EpsilonGreedy`, `UCB` with delta 1, which is UCB1: mean + sqrt(2 ln n / n_i)). What no
library gives is hand-written here: the exploration floor (with probability floor x arms the arm is
drawn uniformly, so every arm keeps at least `ExplorationFloor` of the traffic whatever the policy
believes), and fractional rewards for Thompson sampling (a reward r in [0, 1] counts as a success
with probability r, Agrawal and Goyal's trick, so the Beta posterior stays exact in expectation).
The policy learns only from rewards; the rewards themselves live in the database and every gateway
process replays the new ones into its policy (`BanditState.learn`), so all workers share one state
and a restart rebuilds it.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from itertools import accumulate
from typing import Any

from monitor_service.gateway.routing import Outcome, RoutingContext, VariantState
from monitor_service.rollout.specs import ABTestSpec, BanditSpec

_SPACE = float(1 << 64)


def hash_point(key: str) -> float:
    """The key's point in [0, 1)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") / _SPACE


def sticky_key(spec: ABTestSpec, context: RoutingContext) -> str | None:
    if spec.StickyBy == "inference-id":
        return context.inference_id
    assert spec.KeyName is not None
    if spec.StickyBy == "header":
        return context.headers.get(spec.KeyName.lower())
    raw = context.headers.get("cookie")
    if not raw:
        return None
    try:
        cookie = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = cookie.get(spec.KeyName)
    return morsel.value if morsel is not None else None


class StickyPolicy:
    """A/B routing: each key always lands on the same variant (by hash), shares by the test's weights."""

    def __init__(self, spec: ABTestSpec, rng: random.Random | None = None,
                 pending: list[dict[str, Any]] | None = None) -> None:
        self.spec = spec
        self.pending = pending if pending is not None else []  # assignments for the report, by inference id
        self.names = [v.VariantName for v in spec.Variants]
        total = sum(v.Weight for v in spec.Variants)
        self.bounds = [c / total for c in accumulate(v.Weight for v in spec.Variants)]
        self.random = (rng or random.Random()).random
        self.unkeyed = 0

    def assign(self, key: str) -> str:
        point = hash_point(key)
        for name, bound in zip(self.names, self.bounds, strict=True):
            if point < bound:
                return name
        return self.names[-1]

    def choose(self, variants: Sequence[VariantState], context: RoutingContext) -> str | None:
        key = sticky_key(self.spec, context)
        if key is None:
            self.unkeyed += 1
            point = self.random()
            return next((n for n, b in zip(self.names, self.bounds, strict=True) if point < b), self.names[-1])
        return self.assign(key)

    def observe(self, context: RoutingContext, outcome: Outcome) -> None:
        if context.inference_id is not None:
            self.pending.append(assignment(context.inference_id, outcome, time.time()))


def assignment(inference_id: str, outcome: Outcome, at: float) -> dict[str, Any]:
    """An assignment record, written to `rollout_assignments` by the runtime."""
    return {"inference_id": inference_id, "variant": outcome.variant, "status": outcome.status, "at": at,
            "response": outcome.response}


def river_policy(spec: BanditSpec) -> Any:
    from river import bandit, proba

    if spec.Policy == "ThompsonSampling":
        return bandit.ThompsonSampling(reward_obj=proba.Beta(), seed=spec.Seed)
    if spec.Policy == "EpsilonGreedy":
        return bandit.EpsilonGreedy(epsilon=spec.Epsilon, seed=spec.Seed)
    return bandit.UCB(delta=1.0, seed=spec.Seed)


@dataclass
class BanditState:
    """One bandit's live state in a gateway process: the river policy plus what is not yet in the database."""

    rollout_id: str
    endpoint: str
    spec: BanditSpec
    policy: Any = None
    last_reward_seq: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)  # assignments not yet written
    rng: random.Random = field(default_factory=random.Random)
    rewards_seen: int = 0

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = river_policy(self.spec)
        if self.spec.Seed is not None:
            self.rng = random.Random(self.spec.Seed + 1)

    def learn(self, rewards: Sequence[tuple[int, str, float]]) -> None:
        """Replay rewards (sequence number, arm, reward) newer than the last seen."""
        for seq, arm, reward in rewards:
            if seq <= self.last_reward_seq:
                continue
            self.last_reward_seq = seq
            if arm not in self.spec.Arms:
                continue
            value: Any = reward
            if self.spec.Policy == "ThompsonSampling":
                value = self.rng.random() < min(1.0, max(0.0, reward))
            self.policy.update(arm, value)
            self.rewards_seen += 1

    def pull(self) -> str:
        arms = list(self.spec.Arms)
        floor = self.spec.ExplorationFloor * len(arms)
        if floor > 0 and self.rng.random() < floor:
            return arms[int(self.rng.random() * len(arms)) % len(arms)]
        return str(self.policy.pull(arms))

    def arm_means(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for arm in self.spec.Arms:
            reward = self.policy._rewards.get(arm)  # river keeps one reward object per arm
            if reward is None:
                out[arm] = None
            elif hasattr(reward, "alpha"):
                out[arm] = reward.alpha / (reward.alpha + reward.beta)
            else:
                out[arm] = float(reward.get())
        return out


class BanditPolicy:
    """Router policy over a shared `BanditState`; records each assignment for rewards by inference id."""

    def __init__(self, state: BanditState, when: Any) -> None:
        self.state = state
        self.when = when  # a clock (seconds), so the record carries when the arm was pulled

    def choose(self, variants: Sequence[VariantState], context: RoutingContext) -> str | None:
        return self.state.pull()

    def observe(self, context: RoutingContext, outcome: Outcome) -> None:
        if context.inference_id is not None:
            self.state.pending.append(assignment(context.inference_id, outcome, self.when()))


