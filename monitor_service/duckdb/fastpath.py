"""The fast path for capture lines: DuckDB parses the envelope, Arrow splits CSV payloads.

DuckDB parses each line once (`from_json` with the capture schema) and hands back the fields
Spark's reader uses. For the few lines where DuckDB's lenient reading could differ from
Spark's (a part of the envelope of the wrong type reads as a struct of nulls; a
`_corrupt_record` key or a `customAttributes` that is not a list makes Spark's line corrupt),
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

from monitor_service.duckdb.timestamps import time_parts_sql, timestamp_sql
from monitor_service.specs import DatasetConfig

_SIDE_NAMES = ("endpointInput", "endpointOutput", "batchTransformOutput")
_SIDE_FIELDS = ("observedContentType", "mode", "data", "encoding")
_META = ("eventId", "inferenceId", "inferenceTime")
_SIDE_TYPE = "{" + ",".join(f'"{f}":"VARCHAR"' for f in _SIDE_FIELDS) + "}"
CAPTURE_STRUCTURE = (
    '{"captureData":{' + ",".join(f'"{s}":{_SIDE_TYPE}' for s in _SIDE_NAMES) + "},"
    '"eventMetadata":{' + ",".join(f'"{m}":"VARCHAR"' for m in _META) + ',"customAttributes":"JSON"},'
    '"_corrupt_record":"JSON"}'
)
_OBJECT_PATHS = ["$.captureData", *(f"$.captureData.{s}" for s in _SIDE_NAMES), "$.eventMetadata"]
_TYPE_PATHS = [*_OBJECT_PATHS, "$.eventMetadata.customAttributes", "$._corrupt_record"]


def _types_ok() -> str:
    checks = [f"coalesce(t[{i + 1}], 'OBJECT') IN ('OBJECT', 'NULL')" for i in range(len(_OBJECT_PATHS))]
    checks.append(f"coalesce(t[{len(_OBJECT_PATHS) + 1}], 'ARRAY') IN ('ARRAY', 'NULL')")
    checks.append(f"t[{len(_OBJECT_PATHS) + 2}] IS NULL")
    return " AND ".join(checks)


def _suspicious() -> str:
    """Lines whose envelope DuckDB may read differently from Spark: checked with json_type."""
    def empty(struct: str, fields: tuple[str, ...]) -> str:
        return f"({struct} IS NOT NULL AND " + " AND ".join(f"{struct}.{f} IS NULL" for f in fields) + ")"

    parts = [empty("e.captureData", _SIDE_NAMES), empty("e.eventMetadata", _META)]
    parts += [empty(f"e.captureData.{s}", _SIDE_FIELDS) for s in _SIDE_NAMES]
    parts += ["e.eventMetadata.customAttributes IS NOT NULL", "e._corrupt_record IS NOT NULL"]
    return " OR ".join(parts)


def _canonical_time(column: str) -> str:
    """SageMaker's own `inferenceTime` layout, which DuckDB's cast reads exactly as Spark does."""
    return (f"coalesce(({column} LIKE '____-__-__T__:__:__Z' OR {column} LIKE '____-__-__T__:__:__.___Z') "
            f"AND substr({column}, 12, 2) < '24' AND substr({column}, 15, 2) < '60' AND substr({column}, 18, 2) < '60' "
            f"AND TRY_CAST({column} AS TIMESTAMPTZ) IS NOT NULL, false)")


def envelope_query(config: DatasetConfig, table: str) -> str:
    """One row per line: `state` (NULL: read here; 'bad_utf8'; 'general') and the envelope's fields."""
    out_side = "e.captureData.endpointOutput" if config.capture_output else "NULL"
    side_columns = []
    for prefix, struct in (("i", "i"), ("o", "o")):
        side_columns.append(f"{struct} IS NOT NULL AS {prefix}_present")
        side_columns += [f"{struct}.{f} AS {prefix}_{f}" for f in ("observedContentType", "data", "encoding")]
    return f"""
WITH decoded AS (
  SELECT line_no, TRY(decode(raw)) AS line FROM {table}
), parsed AS (
  SELECT line_no, line,
    CASE WHEN starts_with(ltrim(line, E' \\t\\n\\r'), '{{') THEN TRY(from_json(line, '{CAPTURE_STRUCTURE}')) END AS e
  FROM decoded
), typed AS (
  SELECT line_no, line IS NULL AS bad_utf8, e,
    CASE WHEN e IS NOT NULL AND ({_suspicious()}) THEN json_type(line, {_TYPE_PATHS}) END AS t,
    CASE WHEN NOT {_canonical_time("e.eventMetadata.inferenceTime")} THEN
      {time_parts_sql("e.eventMetadata.inferenceTime")} END AS tm
  FROM parsed
), sides AS (
  SELECT *, coalesce(e.captureData.endpointInput, e.captureData.batchTransformOutput) AS i, {out_side} AS o
  FROM typed
)
SELECT line_no,
  CASE WHEN bad_utf8 THEN 'bad_utf8' WHEN e IS NULL OR (t IS NOT NULL AND NOT ({_types_ok()})) THEN 'general' END
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
class Sides:
    """What `split_sides` decided for each line of a batch (numpy masks over the lines)."""

    fast: np.ndarray       # decided here (with an error, or with records)
    error: list[str | None]  # per line: the quarantine reason of fast lines (None: none / not fast)
    records: np.ndarray    # per line: records of fast lines without error (0 otherwise)
    sides: dict[str, tuple[np.ndarray, pa.ListArray]]  # side -> (present per line, records of the fast lines)


def _masked(array: pa.Array, mask: np.ndarray) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), bool) & mask


def split_sides(rows: pa.Table, config: DatasetConfig) -> Sides:
    """Decide the fast lines' reasons and split their CSV payloads (see the module docstring)."""
    n = len(rows)
    usable = np.asarray(pc.is_null(rows.column("state")).to_numpy(zero_copy_only=False), bool)
    has_capture = _masked(rows.column("has_capture").combine_chunks(), usable)
    error: list[str | None] = [None] * n
    decided = np.zeros(n, bool)
    side_error: dict[str, np.ndarray] = {}
    side_ok: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for side in ("i", "o"):
        here = _masked(rows.column(f"{side}_present").combine_chunks(), usable)
        present[side] = here
        data = rows.column(f"{side}_data").combine_chunks()
        encoding = pc.utf8_upper(rows.column(f"{side}_encoding").combine_chunks())
        no_data = here & np.asarray(data.is_null().to_numpy(zero_copy_only=False), bool)
        known = np.asarray(pc.fill_null(pc.is_in(encoding, pa.array(["CSV", "JSON", "BASE64"])),
                                        False).to_numpy(zero_copy_only=False), bool)
        unsupported = here & ~no_data & ~known
        plain = here & ~no_data & known & ~_masked(pc.equal(encoding, "BASE64"), here)
        ctype = pc.utf8_lower(rows.column(f"{side}_observedContentType").combine_chunks())
        says_csv = _masked(pc.match_substring(ctype, "csv"), plain)
        says_json = _masked(pc.match_substring(ctype, "json"), plain)
        lead = pc.utf8_slice_codeunits(pc.utf8_ltrim(data, characters=" "), 0, 1)
        sniffed_json = _masked(pc.is_in(lead, pa.array(["{", "["])), plain)
        quoted = _masked(pc.match_substring(data, '"'), plain)
        csv = plain & (says_csv | (~says_json & ~sniffed_json)) & ~quoted
        side_error[side] = np.where(no_data, 1, np.where(unsupported, 2, 0))
        side_ok[side] = ~here | csv
        decided |= no_data | unsupported
    missing = usable & (~has_capture | (~present["i"] & ~present["o"]))
    # Spark's order: capture data, then the input side's error, then the output side's.
    first_error = np.where(side_error["i"] != 0, side_error["i"], side_error["o"])
    erred = usable & (missing | (first_error != 0))
    fast_plain = usable & ~erred & side_ok["i"] & side_ok["o"]
    splits = {side: _csv_records(rows.column(f"{side}_data").combine_chunks(), present[side] & fast_plain,
                                 config.csv_delimiter) for side in ("i", "o")}
    counts = {side: np.where(present[side] & fast_plain, splits[side][1], -1) for side in ("i", "o")}
    mismatch = fast_plain & (counts["i"] >= 0) & (counts["o"] >= 0) & (counts["i"] != counts["o"])
    records = np.where(fast_plain & ~mismatch, np.maximum(counts["i"], counts["o"]), 0)
    phantom = fast_plain & ~mismatch & (records <= 0)  # Spark's two empty pairs: the general path's
    fast = erred | mismatch | (fast_plain & ~phantom)
    reasons = {1: "missing_capture_data", 2: "unsupported_encoding"}
    for i in np.flatnonzero(erred).tolist():
        error[i] = "missing_capture_data" if missing[i] else reasons[int(first_error[i])]
    for i in np.flatnonzero(mismatch).tolist():
        error[i] = "record_count_mismatch"
    records = np.where(phantom, 0, records)
    keep = fast & ~erred & ~mismatch
    return Sides(fast=fast, error=error, records=np.where(keep, records, 0),
                 sides={"in": (present["i"] & keep, _only(splits["i"][0], present["i"] & keep)),
                        "out": (present["o"] & keep, _only(splits["o"][0], present["o"] & keep))})


def _csv_records(data: pa.Array, lines: np.ndarray, delimiter: str) -> tuple[pa.ListArray, np.ndarray]:
    """Per line: its CSV records (list of list of values, '' as null) and how many (`split_lines`)."""
    picked = pc.filter(data, pa.array(lines))
    if pc.any(pc.match_substring(picked, "\n")).as_py():
        texts = pc.split_pattern_regex(picked, r"\r?\n")
        flat = pc.list_flatten(texts)
        parents = pc.list_parent_indices(texts).to_numpy(zero_copy_only=False)
    else:  # one record per line (the common case): no split needed
        flat, parents = picked, np.arange(len(picked))
    keep = pc.not_equal(pc.utf8_trim(flat, characters=" "), "").to_numpy(zero_copy_only=False).astype(bool)
    kept = pc.filter(flat, pa.array(keep)) if not keep.all() else flat
    per_line = np.bincount(parents[keep], minlength=len(picked)).astype(np.int64)
    values = pc.split_pattern(kept, delimiter)
    flat_values = pc.list_flatten(values)
    empty = pc.equal(flat_values, "")
    nulled = pc.if_else(empty, pa.scalar(None, flat_values.type), flat_values)
    records = pa.ListArray.from_arrays(values.offsets, nulled)
    offsets = np.zeros(len(picked) + 1, np.int64)
    np.cumsum(per_line, out=offsets[1:])
    by_line = pa.LargeListArray.from_arrays(pa.array(offsets), records)
    counts = np.full(len(data), -1, np.int64)
    counts[lines] = per_line
    return _spread(by_line, lines), counts


def _spread(lists: pa.Array, lines: np.ndarray) -> pa.Array:
    """Lists of the picked lines placed back at their lines (null elsewhere)."""
    index = np.full(len(lines), -1, np.int64)
    index[lines] = np.arange(int(lines.sum()))
    return pc.take(lists, pa.array(index, mask=index < 0))


def _only(lists: pa.Array, mask: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(mask), lists, pa.scalar(None, lists.type))
