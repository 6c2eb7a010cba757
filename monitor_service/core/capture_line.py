"""The capture line's envelope rules in plain Python: what the Spark reader decides per line, as a spec.

The Spark reader (`spark/capture.py`) decides everything in SQL expressions; another engine
(DuckDB) or the gateway must decide the same. This module states the line-level rules as
code, in the reader's order, with the reasons of `core.quarantine`:

1. `line_too_long`: more bytes than `max_line_bytes` (nothing else is looked at);
2. `invalid_utf8`: the bytes are not UTF-8;
3. `malformed_json`: not a JSON object;
4. `missing_capture_data`: no `captureData` object, no side (endpointInput, batchTransformOutput
   as the input side when there is no endpointInput, endpointOutput), or a side without `data`;
5. per side, input first: `unsupported_encoding` (not CSV, JSON or BASE64, case-insensitive),
   `invalid_base64` (strict base64 once whitespace is removed), `invalid_utf8` (decoded bytes).

A JSON object that repeats a key keeps its last value, as Spark's JSON reader does. A line
passing all of this yields the decoded payload text of each side; splitting payloads into
records and naming fields stays with the engines. `record_names` gives the flattened names of one
JSON object record, the input of the `duplicate_key` rule.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from monitor_service.core.quarantine import DEFAULT_MAX_LINE_BYTES

_STRICT_BASE64 = re.compile(r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
ENCODINGS = ("CSV", "JSON", "BASE64")
FLATTEN_DEPTH = 4  # spark.payloads.FLATTEN_DEPTH
MAX_LIST_COLUMNS = 100  # spark.payloads.MAX_LIST_COLUMNS


@dataclass(frozen=True)
class Side:
    """One decoded side of a capture line."""

    content_type: str | None
    text: str


@dataclass(frozen=True)
class CaptureLine:
    """A line whose envelope is usable: its metadata and decoded sides (None where absent)."""

    event_id: str | None
    inference_id: str | None
    inference_time: str | None
    input: Side | None
    output: Side | None


def _text(value: Any) -> str | None:
    """A field read as Spark's `string` schema type does: scalars as their JSON text, null as None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _object(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _side(raw: Any) -> tuple[Side | None, str | None]:
    side = _object(raw)
    if side is None:
        return None, None
    data = _text(side.get("data"))
    if data is None:
        return None, "missing_capture_data"
    encoding = (_text(side.get("encoding")) or "").upper()
    if encoding not in ENCODINGS:
        return None, "unsupported_encoding"
    if encoding == "BASE64":
        compact = re.sub(r"\s", "", data)
        if not _STRICT_BASE64.match(compact):
            return None, "invalid_base64"
        try:
            data = base64.b64decode(compact, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, "invalid_utf8"
    return Side(_text(side.get("observedContentType")), data), None


def parse_capture_line(raw: bytes, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                       capture_output: bool = True) -> CaptureLine | str:
    """The usable envelope of one capture line, or the quarantine reason of the line."""
    if len(raw) > max_line_bytes:
        return "line_too_long"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8"
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        return "malformed_json"
    if not isinstance(envelope, dict):
        return "malformed_json"
    capture = _object(envelope.get("captureData"))
    if capture is None:
        return "missing_capture_data"
    raw_in = capture.get("endpointInput") if _object(capture.get("endpointInput")) else capture.get(
        "batchTransformOutput")
    raw_out = capture.get("endpointOutput") if capture_output else None
    if _object(raw_in) is None and _object(raw_out) is None:
        return "missing_capture_data"
    sides = []
    for raw_side in (raw_in, raw_out):
        side, reason = _side(raw_side)
        if reason is not None:
            return reason
        sides.append(side)
    metadata = _object(envelope.get("eventMetadata")) or {}
    return CaptureLine(event_id=_text(metadata.get("eventId")), inference_id=_text(metadata.get("inferenceId")),
                       inference_time=_text(metadata.get("inferenceTime")), input=sides[0], output=sides[1])


def record_names(record: str) -> list[str] | None:
    """The flattened field names of one JSON object record, repeats kept (None if not an object).

    As the Spark reader flattens: `FLATTEN_DEPTH` passes, each replacing an object value by its
    keys (`name.key`) and a list of at most `MAX_LIST_COLUMNS` elements by `name.0`, `name.1`,
    ...; a name that occurs twice makes the record `duplicate_key`.
    """
    try:
        top = json.loads(record, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return None
    if not isinstance(top, _Pairs):
        return None
    entries: list[tuple[str, Any]] = list(top)
    for _ in range(FLATTEN_DEPTH):
        flat: list[tuple[str, Any]] = []
        for name, value in entries:
            if isinstance(value, _Pairs):
                flat.extend((f"{name}.{key}", child) for key, child in value)
            elif isinstance(value, list) and len(value) <= MAX_LIST_COLUMNS:
                flat.extend((f"{name}.{i}", child) for i, child in enumerate(value))
            else:
                flat.append((name, value))
        entries = flat
    return [name for name, _ in entries]


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs in document order, repeated keys kept."""
