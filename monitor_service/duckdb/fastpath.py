"""The fast path for capture lines: DuckDB parses the envelope, Arrow splits CSV payloads.

DuckDB parses each line once (`from_json` with the capture schema) and hands back the fields
Spark's reader uses. For the few lines where DuckDB's lenient reading could differ from
Spark's (a part of the envelope of the wrong type reads as a struct of nulls; a
`customAttributes` that is not a list makes Spark's line corrupt; a `_corrupt_record` key in
the line is ignored by Spark's parser, which keeps that name for its own use),
`json_type` of the envelope's parts decides whether the line is read here at all.

`split_sides` then decides per line, with vectorized Arrow kernels, what the Spark reader
decides with its SQL expressions: the line-level quarantine reasons and, for CSV payloads
(plain CSV encoding, CSV or sniffed content type, no quotes), the records of each side. Every
other line (JSON payloads, BASE64, quoted CSV, lenient JSON) is marked for the general path
(`monitor_service.duckdb.general`), which implements every rule in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitor_service.duckdb import kernels as K
from monitor_service.duckdb.profiler import Spans
from monitor_service.duckdb.timestamps import time_parts_sql, timestamp_sql
from monitor_service.specs import DatasetConfig

_SIDE_NAMES = ("endpointInput", "endpointOutput", "batchTransformOutput")
_SIDE_FIELDS = ("observedContentType", "mode", "data", "encoding")
_META = ("eventId", "inferenceId", "inferenceTime")
_SIDE_TYPE = "{" + ",".join(f'"{f}":"VARCHAR"' for f in _SIDE_FIELDS) + "}"
CAPTURE_STRUCTURE = (
    '{"captureData":{' + ",".join(f'"{s}":{_SIDE_TYPE}' for s in _SIDE_NAMES) + "},"
    '"eventMetadata":{' + ",".join(f'"{m}":"VARCHAR"' for m in _META) + ',"customAttributes":"JSON"}}'
)
_OBJECT_PATHS = ["$.captureData", *(f"$.captureData.{s}" for s in _SIDE_NAMES), "$.eventMetadata"]
_TYPE_PATHS = [*_OBJECT_PATHS, "$.eventMetadata.customAttributes"]


def _types_ok() -> str:
    checks = [f"coalesce(t[{i + 1}], 'OBJECT') IN ('OBJECT', 'NULL')" for i in range(len(_OBJECT_PATHS))]
    checks.append(f"coalesce(t[{len(_OBJECT_PATHS) + 1}], 'ARRAY') IN ('ARRAY', 'NULL')")
    return " AND ".join(checks)


def _suspicious() -> str:
    """Lines whose envelope DuckDB may read differently from Spark: checked with json_type."""
    def empty(struct: str, fields: tuple[str, ...]) -> str:
        return f"({struct} IS NOT NULL AND " + " AND ".join(f"{struct}.{f} IS NULL" for f in fields) + ")"

    parts = [empty("e.captureData", _SIDE_NAMES), empty("e.eventMetadata", _META)]
    parts += [empty(f"e.captureData.{s}", _SIDE_FIELDS) for s in _SIDE_NAMES]
    parts.append("e.eventMetadata.customAttributes IS NOT NULL")
    return " OR ".join(parts)


def _canonical_time(column: str) -> str:
    """SageMaker's own `inferenceTime` layout, which DuckDB's cast reads exactly as Spark does."""
    return (f"coalesce(({column} LIKE '____-__-__T__:__:__Z' OR {column} LIKE '____-__-__T__:__:__.___Z') "
            f"AND substr({column}, 12, 2) < '24' AND substr({column}, 15, 2) < '60' AND substr({column}, 18, 2) < '60' "
            f"AND TRY_CAST({column} AS TIMESTAMPTZ) IS NOT NULL, false)")


def envelope_query(config: DatasetConfig, table: str) -> str:
    """One row per line of `table` (file_index, line_no, raw, too_long): `state` (NULL: read here;
    'too_long'; 'bad_utf8'; 'general'), the envelope's fields and the line itself (for the general
    path and samples)."""
    out_side = ("e.captureData.endpointOutput" if config.capture_output
                else "NULL::STRUCT(" + ", ".join(f"{f} VARCHAR" for f in _SIDE_FIELDS) + ")")
    side_columns = []
    for prefix, struct in (("i", "i"), ("o", "o")):
        side_columns.append(f"{struct} IS NOT NULL AS {prefix}_present")
        side_columns += [f"{struct}.{f} AS {prefix}_{f}" for f in ("observedContentType", "data", "encoding")]
    return f"""
WITH decoded AS (
  SELECT file_index, line_no, raw, too_long, CASE WHEN NOT too_long THEN TRY(decode(raw)) END AS line FROM {table}
), parsed AS (
  SELECT file_index, line_no, raw, too_long, line,
    CASE WHEN starts_with(ltrim(line, E' \\t\\n\\r'), '{{') THEN TRY(from_json(line, '{CAPTURE_STRUCTURE}')) END AS e
  FROM decoded
), typed AS (
  SELECT file_index, line_no, raw, too_long, line IS NULL AS bad_utf8, e,
    CASE WHEN e IS NOT NULL AND ({_suspicious()}) THEN json_type(line, {_TYPE_PATHS}) END AS t,
    CASE WHEN NOT {_canonical_time("e.eventMetadata.inferenceTime")} THEN
      {time_parts_sql("e.eventMetadata.inferenceTime")} END AS tm
  FROM parsed
), sides AS (
  SELECT *, coalesce(e.captureData.endpointInput, e.captureData.batchTransformOutput) AS i, {out_side} AS o
  FROM typed
)
SELECT file_index, line_no, raw,
  CASE WHEN too_long THEN 'too_long' WHEN bad_utf8 THEN 'bad_utf8'
       WHEN e IS NULL OR (t IS NOT NULL AND NOT ({_types_ok()})) THEN 'general' END
    AS state,
  e.captureData IS NOT NULL AS has_capture,
  {", ".join(side_columns)},
  e.eventMetadata.eventId AS event_id, e.eventMetadata.inferenceId AS inference_id,
  e.eventMetadata.inferenceTime AS inference_time,
  CASE WHEN {_canonical_time("e.eventMetadata.inferenceTime")} THEN epoch_us(TRY_CAST(e.eventMetadata.inferenceTime
    AS TIMESTAMPTZ)) ELSE epoch_us({timestamp_sql("tm")}) END AS time_us
FROM sides
"""


@dataclass
class SideRecords:
    """One side of the kept lines: `present` per line; for the kept lines where it is present, in
    line order, their records' values (`values`, record r holding `offsets[r]:offsets[r + 1]`)."""

    present: np.ndarray
    offsets: np.ndarray
    values: Spans


@dataclass
class Sides:
    """What `split_sides` decided for each line of a batch (numpy masks over the lines)."""

    fast: np.ndarray         # decided here (with an error, or with records)
    error: list[str | None]  # per line: the quarantine reason of fast lines (None: none / not fast)
    records: np.ndarray      # per line: records of fast lines without error (0 otherwise)
    sides: dict[str, SideRecords]


def _text(rows: pa.Table, name: str) -> pa.Array:
    """A text column as large strings (a column that is null in every row may come typed null)."""
    return rows.column(name).combine_chunks().cast(pa.large_string())


def _masked(array: pa.Array, mask: np.ndarray) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), bool) & mask


def split_sides(rows: pa.Table, config: DatasetConfig) -> Sides:
    """Decide the fast lines' reasons and split their CSV payloads (see the module docstring)."""
    n = len(rows)
    usable = np.asarray(pc.is_null(rows.column("state")).to_numpy(zero_copy_only=False), bool)
    has_capture = _masked(rows.column("has_capture").combine_chunks(), usable)
    delimiter = config.csv_delimiter.encode("utf-8")
    error: list[str | None] = [None] * n
    side_error: dict[str, np.ndarray] = {}
    side_ok: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    splits: dict[str, _Split] = {}
    for side in ("i", "o"):
        here = _masked(rows.column(f"{side}_present").combine_chunks(), usable)
        present[side] = here
        data = _text(rows, f"{side}_data")
        encoding = pc.utf8_upper(_text(rows, f"{side}_encoding"))
        no_data = here & np.asarray(data.is_null().to_numpy(zero_copy_only=False), bool)
        known = np.asarray(pc.fill_null(pc.is_in(encoding, pa.array(["CSV", "JSON", "BASE64"])),
                                        False).to_numpy(zero_copy_only=False), bool)
        unsupported = here & ~no_data & ~known
        plain = here & ~no_data & known & ~_masked(pc.equal(encoding, "BASE64"), here)
        if len(delimiter) != 1:  # a delimiter of several bytes: every CSV side goes the general way
            plain &= False
        split = splits[side] = _Split(data, plain, delimiter[0] if len(delimiter) == 1 else 0)
        ctype = pc.utf8_lower(_text(rows, f"{side}_observedContentType"))
        says_csv = _masked(pc.match_substring(ctype, "csv"), plain)
        says_json = _masked(pc.match_substring(ctype, "json"), plain)
        csv = plain & (says_csv | (~says_json & ~split.json_lead)) & ~split.quoted
        side_error[side] = np.where(no_data, 1, np.where(unsupported, 2, 0))
        side_ok[side] = ~here | csv
    missing = usable & (~has_capture | (~present["i"] & ~present["o"]))
    # Spark's order: capture data, then the input side's error, then the output side's.
    first_error = np.where(side_error["i"] != 0, side_error["i"], side_error["o"])
    erred = usable & (missing | (first_error != 0))
    fast_plain = usable & ~erred & side_ok["i"] & side_ok["o"]
    counts = {side: np.where(present[side] & fast_plain, splits[side].per_payload, -1) for side in ("i", "o")}
    mismatch = fast_plain & (counts["i"] >= 0) & (counts["o"] >= 0) & (counts["i"] != counts["o"])
    records = np.where(fast_plain & ~mismatch, np.maximum(counts["i"], counts["o"]), 0)
    phantom = fast_plain & ~mismatch & (records <= 0)  # Spark's two empty pairs: the general path's
    fast = erred | mismatch | (fast_plain & ~phantom)
    reasons = {1: "missing_capture_data", 2: "unsupported_encoding"}
    for i in np.flatnonzero(erred).tolist():
        error[i] = "missing_capture_data" if missing[i] else reasons[int(first_error[i])]
    for i in np.flatnonzero(mismatch).tolist():
        error[i] = "record_count_mismatch"
    keep = fast & ~erred & ~mismatch
    sides = {name: splits[side].kept(present[side] & keep) for name, side in (("in", "i"), ("out", "o"))}
    return Sides(fast=fast, error=error, records=np.where(keep, records, 0), sides=sides)


class _Split:
    """The CSV records of the picked payloads (`kernels.split_csv`), selectable by line."""

    def __init__(self, data: pa.Array, picked: np.ndarray, delimiter: int) -> None:
        whole = Spans.of(data)
        self.data = whole.data
        offsets = np.concatenate([whole.starts, whole.ends[-1:]]) if len(whole) else np.zeros(1, np.int64)
        (self.per_payload, self.per_record, self.starts, self.ends, self.valid, self.quoted,
         self.json_lead) = K.split_csv(offsets, whole.data, picked, delimiter)

    def kept(self, lines: np.ndarray) -> SideRecords:
        """The records of `lines` (a subset of the picked ones), in line order."""
        record_at = np.concatenate([[0], np.cumsum(self.per_payload)])
        value_at = np.concatenate([[0], np.cumsum(self.per_record)])
        first, count = record_at[:-1][lines], self.per_payload[lines]
        records = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count) + np.arange(int(count.sum()))
        lengths = self.per_record[records]
        values = np.repeat(value_at[records] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(
            int(lengths.sum()))
        offsets = np.zeros(len(records) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return SideRecords(lines, offsets, Spans(self.data, self.starts[values], self.ends[values],
                                                 self.valid[values]))
