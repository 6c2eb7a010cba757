"""Deciding what to capture and building the capture line (the spool makes it durable).

Sampling is decided by a hash of the inference id (of the event id when the caller sent none): the
first 8 bytes of BLAKE2b as a number in [0, 2^64) against `InitialSamplingPercentage`, so a retried
request with the same `X-Amzn-SageMaker-Inference-Id` is sampled the same way, on every gateway
process, and the sampled share converges to the percentage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from monitor_service.capture.record import CapturePayload, CaptureRecord, choose_encoding
from monitor_service.gateway.config import CaptureConfig

_SPACE = 1 << 64


def sampled(key: str, percentage: float) -> bool:
    """True when `key` falls in the sampled `percentage` (0-100) of the hash space."""
    if percentage >= 100:
        return True
    if percentage <= 0:
        return False
    point = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")
    # Integer arithmetic (percentages to 1/1000 of a percent), so the boundary is exact.
    return point < _SPACE * round(percentage * 1000) // 100_000


@dataclass(frozen=True)
class EndpointCapture:
    """An endpoint's DataCaptureConfig, ready for the request path."""

    enabled: bool
    percentage: float
    destination: str
    capture_input: bool
    capture_output: bool
    csv_types: tuple[str, ...]
    json_types: tuple[str, ...]

    @classmethod
    def of(cls, config: CaptureConfig | None) -> EndpointCapture | None:
        if config is None or not config.EnableCapture:
            return None
        header = config.CaptureContentTypeHeader
        return cls(enabled=True, percentage=float(config.InitialSamplingPercentage),
                   destination=config.DestinationS3Uri.rstrip("/"), capture_input="Input" in config.modes(),
                   capture_output="Output" in config.modes(),
                   csv_types=tuple(header.CsvContentTypes) if header else (),
                   json_types=tuple(header.JsonContentTypes) if header else ())

    def wants(self, key: str) -> bool:
        return sampled(key, self.percentage)

    def record(self, *, event_id: str, inference_id: str | None, when: datetime, custom_attributes: str | None,
               request: bytes, request_type: str | None, response: bytes, response_type: str | None) -> CaptureRecord:
        def side(body: bytes, content_type: str | None, mode: str) -> CapturePayload:
            encoding = choose_encoding(content_type, self.csv_types, self.json_types)
            return CapturePayload.of(body, content_type, mode, encoding)  # type: ignore[arg-type]

        return CaptureRecord(
            event_id=event_id, inference_time=when, inference_id=inference_id,
            endpoint_input=side(request, request_type, "INPUT") if self.capture_input else None,
            endpoint_output=side(response, response_type, "OUTPUT") if self.capture_output else None,
            custom_attributes=(custom_attributes,) if custom_attributes else ())
