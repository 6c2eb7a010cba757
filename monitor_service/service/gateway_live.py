"""Live figures of running gateways, read from their Prometheus `/metrics` for the dashboard.

The counters (invocations, errors, latency, capture) live in each gateway process, not in the
database, so the endpoint pages ask the gateways listed in `MONITOR_GATEWAY_URLS` directly, with a
short timeout, and sum what several gateway processes report for the same variant. A gateway that
does not answer is named on the page with the reason; the rest of the page still renders.
Latency quantiles come from the histogram buckets the way Prometheus' `histogram_quantile` does it
(linear inside the bucket), so the dashboard and a Grafana panel show the same p99.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

# Prometheus sample name (counters carry `_total`) -> VariantLive attribute.
_COUNTERS = {"Invocations_total": "invocations", "Invocation4XXErrors_total": "errors_4xx",
             "Invocation5XXErrors_total": "errors_5xx", "monitor_gateway_capture_captured_total": "captured",
             "monitor_gateway_capture_sampled_out_total": "sampled_out",
             "monitor_gateway_capture_dropped_total": "dropped", "monitor_gateway_capture_rejected_total": "rejected",
             "monitor_gateway_capture_uploaded_total": "uploaded"}
_HISTOGRAMS = {"ModelLatency": "model", "OverheadLatency": "overhead"}
_GAUGES = {"monitor_gateway_capture_spooled_bytes": "spooled_bytes",
           "monitor_gateway_capture_spooled_segments": "spooled_segments",
           "monitor_gateway_capture_upload_lag_seconds": "upload_lag_seconds",
           "monitor_gateway_config_version": "config_version"}
MAX_METRICS_BYTES = 8 * 1024 * 1024


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The q-quantile of a cumulative histogram [(upper bound, count <= bound)], as Prometheus computes it.

    None when it holds no observations. Inside a bucket the rank is placed linearly (the first
    bucket starts at 0); a rank in the +Inf bucket answers the largest finite bound."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile {q} is outside [0, 1]")
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    total = ordered[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank and count > lower_count:
            if math.isinf(bound):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = (bound if not math.isinf(bound) else lower_bound), count
    return lower_bound


@dataclass
class VariantLive:
    """One variant's counters, summed over the gateways that serve it."""

    invocations: float = 0.0
    errors_4xx: float = 0.0
    errors_5xx: float = 0.0
    captured: float = 0.0
    sampled_out: float = 0.0
    dropped: float = 0.0
    rejected: float = 0.0
    uploaded: float = 0.0
    buckets: dict[str, dict[float, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))

    def latency(self, kind: str, q: float) -> float | None:
        """Microseconds (CloudWatch's unit): kind is `model` or `overhead`."""
        return histogram_quantile(q, list(self.buckets.get(kind, {}).items()))

    @property
    def error_rate(self) -> float | None:
        return None if not self.invocations else (self.errors_4xx + self.errors_5xx) / self.invocations


@dataclass
class GatewayLive:
    """What one gateway answered (or why it did not)."""

    url: str
    error: str | None = None
    spooled_bytes: float = 0.0
    spooled_segments: float = 0.0
    upload_lag_seconds: float = 0.0
    config_version: float | None = None


@dataclass
class LiveFigures:
    gateways: list[GatewayLive]
    variants: dict[tuple[str, str], VariantLive]

    def endpoint(self, name: str) -> dict[str, VariantLive]:
        return {variant: live for (endpoint, variant), live in self.variants.items() if endpoint == name}


def parse_metrics(text: str, gateway: GatewayLive, variants: dict[tuple[str, str], VariantLive]) -> None:
    """Add one gateway's exposition text to `variants` (per endpoint and variant) and to `gateway`."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name in _GAUGES and not labels:
                setattr(gateway, _GAUGES[sample.name], float(sample.value))
                continue
            key = (labels.get("EndpointName"), labels.get("VariantName"))
            if key[0] is None or key[1] is None:
                continue
            if sample.name in _COUNTERS:
                live = variants.setdefault((key[0], key[1]), VariantLive())
                attribute = _COUNTERS[sample.name]
                setattr(live, attribute, getattr(live, attribute) + float(sample.value))
            elif sample.name.endswith("_bucket") and sample.name[:-len("_bucket")] in _HISTOGRAMS:
                live = variants.setdefault((key[0], key[1]), VariantLive())
                kind = _HISTOGRAMS[sample.name[:-len("_bucket")]]
                live.buckets[kind][float(labels["le"])] += float(sample.value)


def read_gateways(urls: Iterable[str], timeout: float) -> LiveFigures:
    """Ask every gateway for its metrics; one that fails is reported with the reason, never raised."""
    gateways: list[GatewayLive] = []
    variants: dict[tuple[str, str], VariantLive] = {}
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http:
        for url in urls:
            gateway = GatewayLive(url)
            gateways.append(gateway)
            try:
                response = http.get(url + "/metrics")
                if response.status_code != 200:
                    gateway.error = f"GET {url}/metrics answered {response.status_code}"
                    continue
                if len(response.content) > MAX_METRICS_BYTES:
                    gateway.error = f"GET {url}/metrics answered more than {MAX_METRICS_BYTES} bytes"
                    continue
                parse_metrics(response.text, gateway, variants)
            except httpx.HTTPError as exc:
                gateway.error = f"{url} did not answer: {exc or type(exc).__name__}"
            except ValueError as exc:  # not Prometheus exposition text
                gateway.error = f"{url}/metrics is not Prometheus text: {exc}"
    return LiveFigures(gateways, variants)
