"""The gateway's live state: endpoints, their variants' invokers, weights and policies, as one value.

A new configuration (or a weight change) builds a whole new `GatewayState` off the request path and
is swapped in with one assignment, so a request sees either the old state or the new one, never a
mix. Models whose definition did not change keep their loaded invoker across versions (a weight
change reloads nothing); invokers no longer used are closed once their in-flight calls are done.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor_service.gateway.capture import EndpointCapture
from monitor_service.gateway.config import EndpointDefinition, GatewayConfig, ModelDefinition
from monitor_service.gateway.invokers import BuildContext, Invoker, build_model
from monitor_service.gateway.metrics import GatewayMetrics
from monitor_service.gateway.routing import DEFAULT_POLICY, ROUTER_POLICIES, RouterPolicy, VariantState


@dataclass
class VariantMetrics:
    """The variant's metric children, bound once (a label lookup per request costs microseconds)."""

    invocations: Any
    errors_4xx: Any
    errors_5xx: Any
    model_latency: Any
    overhead_latency: Any
    sampled_out: Any
    dropped_full: Any
    dropped_error: Any
    rejected: Any

    @classmethod
    def bind(cls, metrics: GatewayMetrics, endpoint: str, variant: str) -> VariantMetrics:
        labels = (endpoint, variant)
        return cls(metrics.invocations.labels(*labels), metrics.errors_4xx.labels(*labels),
                   metrics.errors_5xx.labels(*labels), metrics.model_latency.labels(*labels),
                   metrics.overhead_latency.labels(*labels), metrics.sampled_out.labels(*labels),
                   metrics.dropped.labels(*labels, "spool_full"), metrics.dropped.labels(*labels, "write_error"),
                   metrics.rejected.labels(*labels))


@dataclass
class VariantRuntime:
    state: VariantState
    model_name: str
    invoker: Invoker
    metrics: VariantMetrics


@dataclass
class EndpointRuntime:
    name: str
    variants: dict[str, VariantRuntime]
    policy: RouterPolicy
    capture: EndpointCapture | None

    def states(self) -> list[VariantState]:
        return [v.state for v in self.variants.values()]


@dataclass
class GatewayState:
    version: str
    config: GatewayConfig
    endpoints: dict[str, EndpointRuntime] = field(default_factory=dict)
    invokers: dict[str, Invoker] = field(default_factory=dict)


def model_key(model: ModelDefinition) -> str:
    text = json.dumps(model.model_dump(mode="json"), sort_keys=True)
    return f"{model.ModelName}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def initial_states(endpoint: EndpointDefinition) -> list[VariantState]:
    return [VariantState(v.VariantName, v.InitialVariantWeight, v.InitialInstanceCount)
            for v in endpoint.ProductionVariants]


def build_state(config: GatewayConfig, version: str, context: BuildContext, metrics: GatewayMetrics,
                variant_states: Mapping[str, list[VariantState]] | None = None,
                previous: GatewayState | None = None, policy: str = DEFAULT_POLICY) -> GatewayState:
    """Load what changed and assemble the state; raises ModelError / ConfigError, leaving `previous` intact.

    `variant_states` (endpoint name -> live states, from the database) overrides the initial
    weights of endpoints whose variant names match the configuration's.
    """
    reused = previous.invokers if previous is not None else {}
    invokers: dict[str, Invoker] = {}
    state = GatewayState(version=version, config=config, invokers=invokers)
    try:
        for endpoint in config.Endpoints:
            states = initial_states(endpoint)
            live = (variant_states or {}).get(endpoint.EndpointName)
            if live is not None and {s.name for s in live} == {s.name for s in states}:
                states = live
            variants = {}
            for s in states:
                spec = endpoint.variant(s.name)
                assert spec is not None
                model = config.model(spec.ModelName)
                # One invoker per variant: its metrics (cache hits, ...) carry the variant's labels.
                key = f"{endpoint.EndpointName}/{s.name}/{model_key(model)}"
                invoker = reused.get(key)
                if invoker is None:
                    events = functools.partial(_cache_event, metrics, endpoint.EndpointName, s.name)
                    invoker = build_model(model, dataclasses.replace(context, on_cache_event=events))
                invokers[key] = invoker
                variants[s.name] = VariantRuntime(s, spec.ModelName, invoker,
                                                  VariantMetrics.bind(metrics, endpoint.EndpointName, s.name))
            state.endpoints[endpoint.EndpointName] = EndpointRuntime(
                endpoint.EndpointName, variants, ROUTER_POLICIES.get(policy)(states),
                EndpointCapture.of(endpoint.DataCaptureConfig))
    except BaseException:
        for key, invoker in invokers.items():
            if key not in reused:
                invoker.close()
        raise
    return state


def _cache_event(metrics: GatewayMetrics, endpoint: str, variant: str, kind: str, value: float) -> None:
    labels = (endpoint, variant)
    if kind == "hit":
        metrics.cache_hit.labels(*labels).inc()
    elif kind == "miss":
        metrics.cache_miss.labels(*labels).inc()
    elif kind == "eviction":
        metrics.cache_eviction.labels(*labels).inc()
    elif kind == "loaded":
        metrics.loaded_models.labels(*labels).set(value)
    elif kind == "bytes":
        metrics.cache_bytes.labels(*labels).set(value)
    elif kind == "loading_us":
        metrics.model_loading.labels(*labels).observe(value)


def retired(previous: GatewayState | None, current: GatewayState) -> list[Invoker]:
    """Invokers of `previous` that `current` no longer uses."""
    if previous is None:
        return []
    kept = {id(i) for i in current.invokers.values()}
    return [i for i in previous.invokers.values() if id(i) not in kept]
