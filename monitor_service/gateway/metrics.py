"""Prometheus metrics of the gateway, named as SageMaker's CloudWatch metrics where one exists.

Per endpoint and variant (labels `EndpointName`, `VariantName`, CloudWatch's dimensions):
`Invocations`, `Invocation4XXErrors`, `Invocation5XXErrors` (counters; Prometheus adds `_total`),
`ModelLatency` and `OverheadLatency` (histograms in microseconds, CloudWatch's unit), the
multi-model cache (`ModelCacheHit`, `ModelCacheMiss`, `ModelCacheEviction`, `LoadedModelCount`,
`ModelLoadingTime`), and the capture pipeline's counters under `monitor_gateway_capture_*`:
captured, dropped (by reason), rejected, spooled bytes/segments, uploaded, upload failures and
upload lag. Each gateway has its own registry, so tests can run several in one interpreter.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LABELS = ("EndpointName", "VariantName")
# Microseconds: 50 us .. 60 s.
_LATENCY_BUCKETS = (50, 100, 200, 350, 500, 750, 1_000, 1_500, 2_000, 3_500, 5_000, 7_500, 10_000, 25_000,
                    50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 10_000_000, 60_000_000)


class GatewayMetrics:
    """Every metric of one gateway process, on a private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.invocations = Counter("Invocations", "InvokeEndpoint requests sent to the variant", _LABELS, registry=r)
        self.errors_4xx = Counter("Invocation4XXErrors", "Requests where the model answered 4xx", _LABELS,
                                  registry=r)
        self.errors_5xx = Counter("Invocation5XXErrors", "Requests where the model answered 5xx or failed", _LABELS,
                                  registry=r)
        self.model_latency = Histogram("ModelLatency", "Time the model took to answer, microseconds", _LABELS,
                                       buckets=_LATENCY_BUCKETS, registry=r)
        self.overhead_latency = Histogram("OverheadLatency", "Time the gateway added around the model "
                                          "(routing, capture, serialisation), microseconds", _LABELS,
                                          buckets=_LATENCY_BUCKETS, registry=r)
        self.validation_errors = Counter("monitor_gateway_validation_errors", "Requests refused before routing "
                                         "(unknown endpoint or variant, bad headers, payload too large)",
                                         ("EndpointName", "ErrorCode"), registry=r)
        self.cache_hit = Counter("ModelCacheHit", "Multi-model requests whose model was loaded", _LABELS, registry=r)
        self.cache_miss = Counter("ModelCacheMiss", "Multi-model requests that loaded their model", _LABELS,
                                  registry=r)
        self.cache_eviction = Counter("ModelCacheEviction", "Models unloaded to stay in the memory budget", _LABELS,
                                      registry=r)
        self.loaded_models = Gauge("LoadedModelCount", "Models loaded in the variant's multi-model cache", _LABELS,
                                   registry=r)
        self.cache_bytes = Gauge("monitor_gateway_model_cache_bytes", "Estimated bytes of the loaded models",
                                 _LABELS, registry=r)
        self.model_loading = Histogram("ModelLoadingTime", "Time to load a multi-model endpoint's model, "
                                       "microseconds", _LABELS, buckets=_LATENCY_BUCKETS, registry=r)
        self.captured = Counter("monitor_gateway_capture_captured", "Capture lines written to the spool", _LABELS,
                                registry=r)
        self.sampled_out = Counter("monitor_gateway_capture_sampled_out", "Invocations not sampled for capture",
                                   _LABELS, registry=r)
        self.dropped = Counter("monitor_gateway_capture_dropped", "Capture lines not written (counted, never "
                               "silent): reason spool_full or write_error", (*_LABELS, "reason"), registry=r)
        self.rejected = Counter("monitor_gateway_capture_rejected", "Requests answered 429 because the spool "
                                "budget was full", _LABELS, registry=r)
        self.spooled_bytes = Gauge("monitor_gateway_capture_spooled_bytes", "Bytes in the spool not yet uploaded",
                                   registry=r)
        self.spooled_segments = Gauge("monitor_gateway_capture_spooled_segments", "Closed segments waiting for "
                                      "upload", registry=r)
        self.uploaded_segments = Counter("monitor_gateway_capture_uploaded_segments", "Segments uploaded and "
                                         "verified", _LABELS, registry=r)
        self.uploaded_lines = Counter("monitor_gateway_capture_uploaded", "Capture lines uploaded and verified",
                                      _LABELS, registry=r)
        self.uploaded_bytes = Counter("monitor_gateway_capture_uploaded_bytes", "Bytes uploaded and verified",
                                      registry=r)
        self.upload_failures = Counter("monitor_gateway_capture_upload_failures", "Failed upload attempts "
                                       "(retried)", registry=r)
        self.upload_lag = Gauge("monitor_gateway_capture_upload_lag_seconds", "Age of the oldest closed segment "
                                "not yet uploaded (0 when none)", registry=r)
        self.config_version = Gauge("monitor_gateway_config_version", "Version of the configuration in use",
                                    registry=r)
        self.config_errors = Counter("monitor_gateway_config_errors", "Configuration changes that could not be "
                                     "applied (the previous one stays in use)", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
