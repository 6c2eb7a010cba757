"""The rollout runtime inside a gateway process started with `--database`.

Plugged into the gateway as its `GatewayExtension` (the CLI wires it, so the gateway package knows
no strategy code). It

- routes endpoints with an A/B test (`StickyPolicy`) or a bandit (`BanditPolicy`) in progress;
- mirrors answered requests to a shadow variant off the request path: a bounded queue per shadow
  test, `Concurrency` workers; a full queue is a counted drop (`monitor_gateway_shadow_dropped`),
  never a wait; the shadow's answer is captured under its own variant folder with the production
  line's event id and inference id (so the two join), and discarded for the caller;
- every `SYNC_SECONDS` writes this process's metric samples (deltas of `Invocations`,
  `Invocation5XXErrors`, `ModelLatency` buckets per variant) of endpoints with a deployment or a
  scaling policy in progress (no writes otherwise), and bandit assignments, replays new
  bandit rewards into each bandit's policy, and, when it holds the controller lease, advances the
  rollouts (`service.rollouts.tick`) and applies any traffic change at once;
- serves `POST /endpoints/{name}/feedback` (rewards or ground-truth labels by inference id).

On SIGTERM it drains the shadow queues (bounded), then writes what it still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor_service.gateway.app import Gateway, error_response
from monitor_service.gateway.invokers import Invocation
from monitor_service.gateway.metrics import LATENCY_BUCKETS
from monitor_service.gateway.routing import RouterPolicy, VariantState
from monitor_service.gateway.sources import DatabaseSource, Snapshot
from monitor_service.rollout.policies import BanditPolicy, BanditState, StickyPolicy
from monitor_service.rollout.specs import ABTestSpec, BanditSpec, ShadowSpec, parse_feedback

log = logging.getLogger("monitor_service.gateway.rollouts")
SYNC_SECONDS = 0.25
LEASE_SECONDS = 5.0
DRAIN_SECONDS = 10.0
PREDICTION_CHARS = 256


@dataclass
class Mirrored:
    key: str
    event_id: str
    inference_id: str | None
    when: datetime
    custom: str | None
    invocation: Invocation
    capture: bool


class ShadowRuntime:
    """One shadow test's queue and workers."""

    def __init__(self, rollout_id: str, endpoint: str, spec: ShadowSpec, gateway: Gateway) -> None:
        from monitor_service.gateway.capture import sampled

        self.rollout_id, self.endpoint, self.spec, self.gateway = rollout_id, endpoint, spec, gateway
        self.sampled = sampled
        self.queue: asyncio.Queue[Mirrored] = asyncio.Queue(spec.QueueSize)
        labels = (endpoint, spec.ShadowVariant)
        self.mirrored = gateway.metrics.shadow_mirrored.labels(*labels)
        self.dropped = {reason: gateway.metrics.shadow_dropped.labels(*labels, reason)
                        for reason in ("queue_full", "model_error", "capture_error")}
        self.workers = [asyncio.create_task(self._work()) for _ in range(spec.Concurrency)]

    def offer(self, key: str, event_id: str, when: datetime, custom: str | None, invocation: Invocation) -> None:
        if not self.sampled(key, self.spec.SamplingPercentage):
            return
        state = self.gateway.state
        endpoint = state.endpoints.get(self.endpoint) if state is not None else None
        capture = endpoint is not None and endpoint.capture is not None and endpoint.capture.wants(key)
        try:
            self.queue.put_nowait(Mirrored(key, event_id, invocation.inference_id, when, custom, invocation, capture))
        except asyncio.QueueFull:
            self.dropped["queue_full"].inc()

    async def _work(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                await self._mirror(item)
            except Exception:  # a shadow must never take the gateway down
                log.exception("gateway: shadow %s/%s failed", self.endpoint, self.spec.ShadowVariant)
                self.dropped["model_error"].inc()
            finally:
                self.queue.task_done()

    async def _mirror(self, item: Mirrored) -> None:
        state = self.gateway.state
        endpoint = state.endpoints.get(self.endpoint) if state is not None else None
        variant = endpoint.variants.get(self.spec.ShadowVariant) if endpoint is not None else None
        if endpoint is None or variant is None:
            self.dropped["model_error"].inc()
            return
        m = variant.metrics
        m.invocations.inc()
        started = time.perf_counter()
        variant.invoker.inflight += 1
        try:
            reply = await variant.invoker.acall(item.invocation)
        except Exception:
            m.errors_5xx.inc()
            m.model_latency.observe((time.perf_counter() - started) * 1e6)
            self.dropped["model_error"].inc()
            return
        finally:
            variant.invoker.inflight -= 1
        m.model_latency.observe((time.perf_counter() - started) * 1e6)
        if item.capture and endpoint.capture is not None:
            drop = not self.gateway.spool.has_room()
            refused = await self.gateway._capture(
                endpoint.capture, variant, self.endpoint, drop, item.event_id, item.inference_id, item.when,
                item.custom, item.invocation, reply.body, reply.content_type, {})
            if refused is not None or drop:
                self.dropped["capture_error"].inc()
                return
        self.mirrored.inc()

    async def close(self, drain: bool) -> None:
        if drain:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), DRAIN_SECONDS)
        for worker in self.workers:
            worker.cancel()
        for worker in self.workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker


class RolloutRuntime:
    """The gateway extension; needs the gateway's `DatabaseSource` (rollouts live in the database)."""

    def __init__(self, source: DatabaseSource) -> None:
        self.source = source
        self.gateway_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.gateway: Gateway | None = None
        self.bandits: dict[str, BanditState] = {}
        self.ab_pending: dict[str, list[dict[str, Any]]] = {}
        self.shadows: dict[str, ShadowRuntime] = {}
        self._totals: dict[tuple[str, str], tuple[float, float, list[float]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.leader = False
        self.sampled: set[str] = set()  # endpoints whose metric samples a deployment or scaling policy reads

    # -- extension hooks -----------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [Route("/endpoints/{endpoint}/feedback", self.feedback, methods=["POST"])]

    async def start(self, gateway: Gateway) -> None:
        self.gateway = gateway
        await asyncio.to_thread(self._collect_metrics)  # the baseline of the first delta
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for shadow in self.shadows.values():
            await shadow.close(drain=True)
        with contextlib.suppress(Exception):
            await self._sync(run_controller=False)

    def policies(self, snapshot: Snapshot) -> Mapping[str, Callable[[list[VariantState]], RouterPolicy]]:
        out: dict[str, Callable[[list[VariantState]], RouterPolicy]] = {}
        bandits: dict[str, BanditState] = {}
        ab_pending: dict[str, list[dict[str, Any]]] = {}
        shadows: dict[str, tuple[str, ShadowSpec]] = {}
        for endpoint, slots in snapshot.rollouts.items():
            route = slots.get("routing")
            if route is not None and route["kind"] == "ABTest":
                ab = ABTestSpec.model_validate(route["spec"])
                log_ = ab_pending[route["id"]] = self.ab_pending.get(route["id"], [])
                out[endpoint] = lambda states, ab=ab, log_=log_: StickyPolicy(ab, pending=log_)
            elif route is not None and route["kind"] == "Bandit":
                state = self.bandits.get(route["id"]) or self._new_bandit(route["id"], endpoint, route["spec"])
                bandits[route["id"]] = state
                out[endpoint] = lambda states, state=state: BanditPolicy(state, time.time)
            shadow = slots.get("shadow")
            if shadow is not None:
                shadows[endpoint] = (shadow["id"], ShadowSpec.model_validate(shadow["spec"]))
        self.bandits = bandits
        self.sampled = {endpoint for endpoint, slots in snapshot.rollouts.items() if slots.get("sampled")}
        for rid in set(self.ab_pending) - set(ab_pending):
            ab_pending[rid] = self.ab_pending[rid]  # a finished test still writes what it recorded
        self.ab_pending = ab_pending
        self._set_shadows(shadows)
        return out

    def _new_bandit(self, rollout_id: str, endpoint: str, spec: Mapping[str, Any]) -> BanditState:
        """A bandit seen for the first time (a restart, or a new test): learn every reward so far before it
        routes a request (at start-up this runs before the gateway serves; a new test has no rewards yet)."""
        from monitor_service.service.rollouts import rewards_since
        from monitor_service.store.db import transaction

        state = BanditState(rollout_id, endpoint, BanditSpec.model_validate(spec))
        with transaction(self.source.factory) as session:
            state.learn(rewards_since(session, rollout_id, 0, limit=10_000_000))
        assert self.gateway is not None
        self.gateway.metrics.bandit_rewards.labels(endpoint, rollout_id).set(state.rewards_seen)
        return state

    def mirror(self, endpoint: str, variant: str, key: str, event_id: str, when: datetime, custom: str | None,
               invocation: Invocation, reply: Any) -> None:
        shadow = self.shadows.get(endpoint)
        if shadow is not None and shadow.spec.SourceVariant == variant:
            shadow.offer(key, event_id, when, custom, invocation)

    def _set_shadows(self, wanted: Mapping[str, tuple[str, ShadowSpec]]) -> None:
        assert self.gateway is not None
        for endpoint, shadow in list(self.shadows.items()):
            if wanted.get(endpoint, ("",))[0] != shadow.rollout_id:
                del self.shadows[endpoint]
                asyncio.get_running_loop().create_task(shadow.close(drain=False))
        for endpoint, (rollout_id, spec) in wanted.items():
            if endpoint not in self.shadows:
                self.shadows[endpoint] = ShadowRuntime(rollout_id, endpoint, spec, self.gateway)

    # -- feedback ------------------------------------------------------------------------------
    async def feedback(self, request: Request) -> Response:
        from monitor_service.service.rollouts import add_feedback
        from monitor_service.store.db import transaction

        endpoint = request.path_params["endpoint"]
        try:
            items = parse_feedback(json.loads(await request.body()))
        except (ValueError, ValidationError) as exc:
            return error_response(400, "ValidationError", f"feedback must be {{InferenceId, Reward}} or "
                                  f"{{InferenceId, GroundTruth}} (or a list, or {{Feedback: [...]}}): {exc}")
        rows = [i.model_dump(exclude_none=True) for i in items]

        def store() -> int:
            with transaction(self.source.factory) as session:
                return add_feedback(session, endpoint, rows, datetime.now(UTC))

        count = await asyncio.to_thread(store)
        return Response(json.dumps({"accepted": count}).encode(), status_code=202, media_type="application/json")

    # -- the sync loop ---------------------------------------------------------------------------
    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            try:
                if await self._sync(run_controller=True):
                    assert self.gateway is not None
                    await self.gateway.refresh()
            except Exception:
                log.exception("gateway: rollout sync failed; retrying")

    async def _sync(self, run_controller: bool) -> bool:
        pending = {rid: state.pending for rid, state in self.bandits.items()}
        for state in self.bandits.values():
            state.pending = []
        for rid, rows in self.ab_pending.items():
            pending[rid] = rows[:]
            del rows[:]
        seen = {rid: state.last_reward_seq for rid, state in self.bandits.items()}
        changed, rewards = await asyncio.to_thread(self._write, pending, seen, run_controller)
        assert self.gateway is not None
        for rid, new in rewards.items():
            state = self.bandits.get(rid)
            if state is not None:
                state.learn(new)
                self.gateway.metrics.bandit_rewards.labels(state.endpoint, rid).set(state.rewards_seen)
        return changed

    def _write(self, pending: Mapping[str, list[dict[str, Any]]], seen: Mapping[str, int],
               run_controller: bool) -> tuple[bool, dict[str, list[tuple[int, str, float]]]]:
        from monitor_service.service import rollouts as service
        from monitor_service.store.db import transaction

        now = datetime.now(UTC)
        samples = [s for s in self._collect_metrics() if s[0] in self.sampled]
        changed: list[str] = []
        with transaction(self.source.factory, immediate=True) as session:
            service.record_samples(session, self.gateway_id, now, samples)
            for rid, rows in pending.items():
                for row in rows:
                    text = row.pop("response", b"")
                    row["prediction"] = text[:PREDICTION_CHARS].decode("utf-8", "replace") if text else None
                service.write_assignments(session, rid, rows)
            if run_controller:
                self.leader = service.acquire_lease(session, self.gateway_id, now, LEASE_SECONDS)
                if self.leader:
                    changed = service.tick(session, now, LATENCY_BUCKETS)
        rewards = {}
        if seen:
            with transaction(self.source.factory) as session:
                rewards = {rid: service.rewards_since(session, rid, seq) for rid, seq in seen.items()}
        return bool(changed), rewards

    def _collect_metrics(self) -> list[tuple[str, str, int, int, list[int]]]:
        """Per-variant deltas since the last call, from the gateway's own Prometheus registry."""
        assert self.gateway is not None
        m = self.gateway.metrics
        totals: dict[tuple[str, str], list[Any]] = {}

        def slot(labels: Mapping[str, str]) -> list[Any]:
            key = (labels["EndpointName"], labels["VariantName"])
            return totals.setdefault(key, [0.0, 0.0, [0.0] * (len(LATENCY_BUCKETS) + 1)])

        for sample in m.invocations.collect()[0].samples:
            if sample.name.endswith("_total"):
                slot(sample.labels)[0] = sample.value
        for sample in m.errors_5xx.collect()[0].samples:
            if sample.name.endswith("_total"):
                slot(sample.labels)[1] = sample.value
        index = {float(b): i for i, b in enumerate(LATENCY_BUCKETS)}
        for sample in m.model_latency.collect()[0].samples:
            if sample.name.endswith("_bucket"):
                le = sample.labels["le"]
                i = len(LATENCY_BUCKETS) if le == "+Inf" else index[float(le)]
                slot(sample.labels)[2][i] = sample.value
        out = []
        for key, (calls, errors, cumulative) in totals.items():
            counts = [cumulative[0]] + [cumulative[i] - cumulative[i - 1] for i in range(1, len(cumulative))]
            before = self._totals.get(key, (0.0, 0.0, [0.0] * len(counts)))
            delta = [round(c - b) for c, b in zip(counts, before[2], strict=True)]
            self._totals[key] = (calls, errors, counts)
            calls_delta, errors_delta = round(calls - before[0]), round(errors - before[1])
            if calls_delta or errors_delta or any(delta):
                out.append((key[0], key[1], calls_delta, errors_delta, delta))
        return out
