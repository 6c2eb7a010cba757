"""The general path: one capture line to records in Python, exactly as the Spark reader does it.

The DuckDB SQL fast path handles the common line shapes (a SageMaker envelope with CSV
payloads); every other line comes here, so each encoding, content type, payload layout and
quarantine reason of `monitor_service.spark.capture` is reproduced in one place, rule for rule.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from monitor_service.duckdb import payloads as P
from monitor_service.duckdb.jackson import JObject, JValue, to_text, try_parse
from monitor_service.specs import DatasetConfig, SideConfig

Fields = list[tuple[str, str | None]]
_SIDES = ("endpointInput", "endpointOutput", "batchTransformOutput")
_SIDE_FIELDS = ("observedContentType", "mode", "data", "encoding")
_META_FIELDS = ("eventId", "inferenceId", "inferenceTime")
_STRICT_BASE64 = re.compile(r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_JAVA_SPACE = re.compile(r"[ \t\n\x0b\f\r]")


class Corrupt(Exception):
    """The envelope does not fit the capture schema (Spark's `_corrupt_record`)."""


@dataclass
class Record:
    record_index: int
    in_count: int | None
    out_count: int | None
    fields: Fields


@dataclass
class LineResult:
    """What one capture line yields: an error, or records, plus the event metadata."""

    error: str | None = None
    event_id: str | None = None
    inference_id: str | None = None
    inference_time: str | None = None
    records: list[Record] = field(default_factory=list)


# --- the envelope, as from_json(line, CAPTURE_SCHEMA) reads it ------------------------------------

@dataclass
class Envelope:
    """A line's envelope as from_json(line, CAPTURE_SCHEMA) reads it in PERMISSIVE mode.

    A part of the wrong type (a side or the metadata that is not an object, customAttributes
    that is not a list) reads as null and marks the line `corrupt`; like Spark's partial results,
    the other parts are still read, so a malformed line keeps its event id and inferenceTime.
    """

    sides: dict[str, dict[str, str | None] | None]
    meta: dict[str, str | None]
    has_capture: bool
    corrupt: bool = False

    def struct(self, value: JValue) -> JObject | None:
        if value is None or isinstance(value, JObject):
            return value
        self.corrupt = True
        return None


def _fields(obj: JObject | None, names: tuple[str, ...]) -> dict[str, JValue]:
    """The schema's fields of a struct; the last of duplicate keys wins, unknown keys are ignored."""
    out: dict[str, JValue] = {}
    if obj is not None:
        for key, value in obj.pairs:
            if key in names:
                out[key] = value
    return out


def envelope(line: str) -> Envelope:
    """The envelope of a line; raises Corrupt when it is not a JSON object (Spark keeps nothing then)."""
    ok, root = try_parse(line)
    if not ok or not isinstance(root, JObject):
        raise Corrupt
    # (a `_corrupt_record` key is ignored: Spark's parser drops the name it keeps for corrupt lines)
    top = _fields(root, ("captureData", "eventMetadata"))
    read = Envelope({}, {}, False)
    capture = read.struct(top.get("captureData"))
    read.has_capture = capture is not None
    meta_raw = _fields(read.struct(top.get("eventMetadata")), (*_META_FIELDS, "customAttributes"))
    attributes = meta_raw.get("customAttributes")
    if attributes is not None and not isinstance(attributes, list):
        read.corrupt = True
    read.meta = {k: to_text(meta_raw.get(k)) for k in _META_FIELDS}
    raw_sides = _fields(capture, _SIDES)
    for name in _SIDES:
        side = read.struct(raw_sides.get(name))
        read.sides[name] = None if side is None else {k: to_text(v) for k, v in _fields(side, _SIDE_FIELDS).items()}
    return read


def envelope_metadata(line: str) -> dict[str, str | None]:
    """The event metadata of a line as Spark's PERMISSIVE reading keeps it (empty if it cannot)."""
    try:
        return envelope(line).meta
    except Corrupt:
        return {}


# --- one side: `_side_columns` ----------------------------------------------------------------------

@dataclass
class Side:
    error: str | None
    records: list[P.Entries | None] | None
    alt: list[P.Entries | None] | None = None


def _kind(content_type: str | None, text: str | None) -> str:
    lowered = (content_type or "").lower() if content_type is not None else None
    if lowered is not None:
        if "csv" in lowered:
            return "csv"
        if "jsonl" in lowered or "json-lines" in lowered or "jsonlines" in lowered:
            return "jsonl"
        if "json" in lowered:
            return "json"
    if text is not None and P.ltrim(text).startswith(("{", "[")):
        return "json"
    return "csv"


def decode_side(side: dict[str, str | None] | None, cfg: SideConfig, delimiter: str) -> Side | None:
    """The side's error or its records (None: the side is absent)."""
    if side is None:
        return None
    data = side.get("data")
    encoding = side.get("encoding")
    enc = encoding.upper() if encoding is not None else None
    if data is None:
        return Side("missing_capture_data", None)
    if enc not in ("CSV", "JSON", "BASE64"):
        return Side("unsupported_encoding", None)
    text: str
    if enc == "BASE64":
        stripped = _JAVA_SPACE.sub("", data)
        if not _STRICT_BASE64.fullmatch(stripped):
            return Side("invalid_base64", None)
        try:
            text = base64.b64decode(stripped, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return Side("invalid_utf8", None)
    else:
        text = data
    kind = _kind(side.get("observedContentType"), text)
    texts = P.json_payload_records(text, cfg.records_attribute, cfg.layout) if kind == "json" else P.split_lines(text)
    records = None if texts is None else [_entries(t, kind, cfg, delimiter) for t in texts]
    alt = None
    if cfg.layout == "auto" and kind == "json" and texts is not None and len(texts) == 1:
        columnar = P.columnar_records(text, 1)
        if columnar is not None:
            alt = [_entries(t, kind, cfg, delimiter) for t in columnar]
    return Side(None, records, alt)


def _entries(text: str | None, kind: str, cfg: SideConfig, delimiter: str) -> P.Entries | None:
    if kind == "csv":
        return None if text is None else P.positional(list(P.csv_values(text, delimiter)))
    return P.json_record_entries(text, cfg.features_attribute)


# --- the line ---------------------------------------------------------------------------------------

def capture_line(line: str, config: DatasetConfig) -> LineResult:
    """Records of one (valid UTF-8) capture line, or its quarantine reason."""
    try:
        read = envelope(line)
    except Corrupt:
        return LineResult(error="malformed_json")
    sides, meta = read.sides, read.meta
    result = LineResult(event_id=meta["eventId"], inference_id=meta["inferenceId"],
                        inference_time=meta["inferenceTime"])
    if read.corrupt:
        result.error = "malformed_json"
        return result
    in_raw = sides["endpointInput"] if sides["endpointInput"] is not None else sides["batchTransformOutput"]
    out_raw = sides["endpointOutput"] if config.capture_output else None
    if not read.has_capture or (in_raw is None and out_raw is None):
        result.error = "missing_capture_data"
        return result
    delimiter = config.csv_delimiter
    ins = decode_side(in_raw, config.input, delimiter)
    outs = decode_side(out_raw, config.output, delimiter)
    for side in (ins, outs):
        if side is not None and side.error is not None:
            result.error = side.error
            return result
    in_records = ins.records if ins is not None else None
    out_records = outs.records if outs is not None else None
    # The one-key columnar reading of a side, when it makes both sides' record counts agree.
    if ins is not None and outs is not None and in_records is not None and out_records is not None:
        if len(in_records) != len(out_records) and ins.alt is not None and len(ins.alt) == len(out_records):
            in_records = ins.alt
        elif len(out_records) != len(in_records) and outs.alt is not None and len(outs.alt) == len(in_records):
            out_records = outs.alt
    if (any(r is None for r in in_records or []) or any(r is None for r in out_records or [])
            or (ins is not None and in_records is None) or (outs is not None and out_records is None)):
        result.error = "malformed_payload"
        return result
    if in_records is not None and out_records is not None and len(in_records) != len(out_records):
        result.error = "record_count_mismatch"
        return result
    result.records = _pair(in_records, out_records, config)
    return result


def _pair(in_records: list[P.Entries | None] | None, out_records: list[P.Entries | None] | None,
          config: DatasetConfig) -> list[Record]:
    n = max(len(in_records or []), len(out_records or []))
    # Spark's sequence(0, n - 1) counts down for n = 0: two empty pairs (kept for parity).
    indexes = range(n) if n > 0 else (0, -1)
    start_first = config.output_position == "START"
    records: list[Record] = []
    for position, k in enumerate(indexes):
        i = _at(in_records, k)
        o = _at(out_records, k)
        if n == 0 and i is None and o is None and in_records is None and out_records is None:
            continue
        first, second = (o, i) if start_first else (i, o)
        names = ((config.output.names, config.input.names) if start_first
                 else (config.input.names, config.output.names))
        fields = P.name_fields(first, second, names[0], names[1], start_first)
        records.append(Record(position, P.signature(i), P.signature(o), fields))
    return records


def _at(records: list[P.Entries | None] | None, k: int) -> P.Entries | None:
    """Spark's `records[k]`: null when out of range (negative indexes included)."""
    if records is None or k < 0 or k >= len(records):
        return None
    return records[k]
