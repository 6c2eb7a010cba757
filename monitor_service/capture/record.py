"""The SageMaker data-capture line: one JSON object per endpoint invocation.

Shared by the writer (the inference gateway) and the reader (`monitor_service.spark.capture`), so
both agree on every field name. The layout is SageMaker's (sagemaker_formats.md 1.3):

    {"captureData": {"endpointInput":  {"observedContentType", "mode": "INPUT",  "data", "encoding"},
                     "endpointOutput": {"observedContentType", "mode": "OUTPUT", "data", "encoding"}},
     "eventMetadata": {"eventId", "inferenceId"?, "inferenceTime", "customAttributes"?},
     "eventVersion": "0"}

`data` is the payload as text under `CSV` / `JSON` and base64 of the raw bytes under `BASE64`
(chosen by the capture config's content-type lists; bytes that are not UTF-8 are always BASE64,
so nothing is ever altered). Serialisation writes one line of compact JSON ending in `\\n`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

# Field names, used by the reader's schema too.
CAPTURE_DATA = "captureData"
ENDPOINT_INPUT = "endpointInput"
ENDPOINT_OUTPUT = "endpointOutput"
BATCH_TRANSFORM_OUTPUT = "batchTransformOutput"
EVENT_METADATA = "eventMetadata"
EVENT_VERSION = "eventVersion"
OBSERVED_CONTENT_TYPE = "observedContentType"
MODE = "mode"
DATA = "data"
ENCODING = "encoding"
EVENT_ID = "eventId"
INFERENCE_ID = "inferenceId"
INFERENCE_TIME = "inferenceTime"
CUSTOM_ATTRIBUTES = "customAttributes"
SIDES = (ENDPOINT_INPUT, ENDPOINT_OUTPUT, BATCH_TRANSFORM_OUTPUT)
EVENT_VERSION_VALUE = "0"

Encoding = Literal["CSV", "JSON", "BASE64"]
Mode = Literal["INPUT", "OUTPUT"]

# The Spark DDL of a capture line (the reader parses with it; never schema inference).
SIDE_DDL = f"struct<{OBSERVED_CONTENT_TYPE}:string,{MODE}:string,{DATA}:string,{ENCODING}:string>"
METADATA_DDL = (f"struct<{EVENT_ID}:string,{INFERENCE_ID}:string,{INFERENCE_TIME}:string,"
                f"{CUSTOM_ATTRIBUTES}:array<string>>")
ENVELOPE_DDL = (f"{CAPTURE_DATA} struct<{ENDPOINT_INPUT}:{SIDE_DDL},{ENDPOINT_OUTPUT}:{SIDE_DDL},"
                f"{BATCH_TRANSFORM_OUTPUT}:{SIDE_DDL}>, {EVENT_METADATA} {METADATA_DDL}, {EVENT_VERSION} string")


def media_type(content_type: str | None) -> str:
    """`text/csv; charset=utf-8` -> `text/csv` (lower case), for matching against config lists."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def choose_encoding(content_type: str | None, csv_types: Iterable[str], json_types: Iterable[str]) -> Encoding:
    """SageMaker's rule: CSV if the type is a CSV content type, JSON if a JSON one, else BASE64."""
    kind = media_type(content_type)
    if kind and kind in {media_type(t) for t in csv_types}:
        return "CSV"
    if kind and kind in {media_type(t) for t in json_types}:
        return "JSON"
    return "BASE64"


@dataclass(frozen=True)
class CapturePayload:
    """One side of an invocation as captured: the observed content type, the mode and the data."""

    observed_content_type: str | None
    mode: Mode
    data: str
    encoding: Encoding

    @classmethod
    def of(cls, body: bytes, content_type: str | None, mode: Mode, encoding: Encoding) -> CapturePayload:
        """Capture raw bytes; text encodings fall back to BASE64 when the bytes are not UTF-8."""
        if encoding != "BASE64":
            try:
                return cls(content_type, mode, body.decode("utf-8"), encoding)
            except UnicodeDecodeError:
                pass
        return cls(content_type, mode, base64.b64encode(body).decode("ascii"), "BASE64")

    def raw(self) -> bytes:
        """The bytes as the caller sent them (or the model answered)."""
        return base64.b64decode(self.data) if self.encoding == "BASE64" else self.data.encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        return {OBSERVED_CONTENT_TYPE: self.observed_content_type, MODE: self.mode, DATA: self.data,
                ENCODING: self.encoding}

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> CapturePayload:
        return cls(obj.get(OBSERVED_CONTENT_TYPE), obj[MODE], obj[DATA], obj[ENCODING])


def format_inference_time(moment: datetime) -> str:
    """SageMaker's form, UTC with second precision: `2022-04-18T00:21:48Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CaptureRecord:
    """One capture line: what went in, what came out, and the event's metadata."""

    event_id: str
    inference_time: datetime
    endpoint_input: CapturePayload | None = None
    endpoint_output: CapturePayload | None = None
    inference_id: str | None = None
    custom_attributes: tuple[str, ...] = field(default_factory=tuple)
    event_version: str = EVENT_VERSION_VALUE

    def to_dict(self) -> dict[str, Any]:
        capture: dict[str, Any] = {}
        if self.endpoint_input is not None:
            capture[ENDPOINT_INPUT] = self.endpoint_input.to_dict()
        if self.endpoint_output is not None:
            capture[ENDPOINT_OUTPUT] = self.endpoint_output.to_dict()
        metadata: dict[str, Any] = {EVENT_ID: self.event_id}
        if self.inference_id is not None:
            metadata[INFERENCE_ID] = self.inference_id
        metadata[INFERENCE_TIME] = format_inference_time(self.inference_time)
        if self.custom_attributes:
            metadata[CUSTOM_ATTRIBUTES] = list(self.custom_attributes)
        return {CAPTURE_DATA: capture, EVENT_METADATA: metadata, EVENT_VERSION: self.event_version}

    def to_line(self) -> bytes:
        """One JSONL line (compact, UTF-8, ending in a newline); payload text stays a JSON string."""
        return (json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> CaptureRecord:
        capture, metadata = obj[CAPTURE_DATA], obj[EVENT_METADATA]
        sides = {k: CapturePayload.from_dict(capture[k]) for k in (ENDPOINT_INPUT, ENDPOINT_OUTPUT) if k in capture}
        when = datetime.fromisoformat(metadata[INFERENCE_TIME].replace("Z", "+00:00"))
        return cls(event_id=metadata[EVENT_ID], inference_time=when, endpoint_input=sides.get(ENDPOINT_INPUT),
                   endpoint_output=sides.get(ENDPOINT_OUTPUT), inference_id=metadata.get(INFERENCE_ID),
                   custom_attributes=tuple(metadata.get(CUSTOM_ATTRIBUTES) or ()),
                   event_version=obj.get(EVENT_VERSION, EVENT_VERSION_VALUE))

    @classmethod
    def from_line(cls, line: str | bytes) -> CaptureRecord:
        return cls.from_dict(json.loads(line))
