"""The SQL fast path for capture lines: SageMaker's envelope with CSV payloads, parsed by DuckDB.

DuckDB parses each line once (`from_json` with the capture schema; for the few lines where
DuckDB's lenient reading could differ from Spark's, `json_type` of the envelope's parts shows
whether Spark would read the line the same way), decodes BASE64
payloads, splits multi-record payloads and CSV rows, pairs input record i with output record
i and decides the line-level quarantine reasons. A line whose envelope or payloads need more
than that (JSON payloads, quoted CSV, lenient JSON Spark accepts, odd types) is marked
`general` and decoded in Python by `monitor_service.duckdb.general`, which implements every rule.
"""

from __future__ import annotations

from monitor_service.duckdb.timestamps import time_parts_sql, timestamp_sql
from monitor_service.spark.payloads import sql_string
from monitor_service.specs import DatasetConfig

_SIDE_NAMES = ("endpointInput", "endpointOutput", "batchTransformOutput")
_SIDE_FIELDS = ("observedContentType", "mode", "data", "encoding")
_META = ("eventId", "inferenceId", "inferenceTime")
_SIDE_TYPE = "{" + ",".join(f'"{f}":"VARCHAR"' for f in _SIDE_FIELDS) + "}"
CAPTURE_STRUCTURE = (
    '{"captureData":{' + ",".join(f'"{s}":{_SIDE_TYPE}' for s in _SIDE_NAMES) + "},"
    '"eventMetadata":{' + ",".join(f'"{m}":"VARCHAR"' for m in _META) + "}}"
)
# Where DuckDB's lenient reading could differ from Spark's (a part of the envelope of the
# wrong type reads as a struct of nulls, a `_corrupt_record` or non-list `customAttributes`
# makes Spark's line corrupt), json_type of these paths decides (NULL: absent).
_OBJECT_PATHS = ["$.captureData", *(f"$.captureData.{s}" for s in _SIDE_NAMES), "$.eventMetadata"]
_TYPE_PATHS = [*_OBJECT_PATHS, "$.eventMetadata.customAttributes", "$._corrupt_record"]
_STRICT_BASE64 = "([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"


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
    parts += ["strpos(line, 'customAttributes') > 0", "strpos(line, '_corrupt_record') > 0"]
    return " OR ".join(parts)


def side_stage(p: str) -> list[str]:
    """Decode one side: its text and error, and whether the SQL path can split it."""
    enc = f"upper({p}.encoding)"
    stripped = f"regexp_replace({p}.data, '[ \\t\\n\\x0B\\f\\r]', '', 'g')"
    text = (f"CASE WHEN {enc} = 'BASE64' THEN TRY(decode(from_base64({stripped}))) ELSE {p}.data END")
    error = (
        f"CASE WHEN {p} IS NULL THEN NULL "
        f"WHEN {p}.data IS NULL THEN 'missing_capture_data' "
        f"WHEN {enc} IS NULL OR {enc} NOT IN ('CSV', 'JSON', 'BASE64') THEN 'unsupported_encoding' "
        f"WHEN {enc} = 'BASE64' AND NOT regexp_full_match({stripped}, '{_STRICT_BASE64}') THEN 'invalid_base64' "
        f"WHEN {p}_text IS NULL THEN 'invalid_utf8' END"
    )
    ctype = f"lower({p}.observedContentType)"
    csv = (
        f"CASE WHEN {ctype} LIKE '%csv%' THEN true "
        f"WHEN {ctype} LIKE '%json%' THEN false "
        f"ELSE NOT (starts_with(ltrim({p}_text, ' '), '{{') OR starts_with(ltrim({p}_text, ' '), '[')) END"
    )
    return [f"{text} AS {p}_text", f"{error} AS {p}_error",
            f"{p} IS NULL OR {p}_error IS NOT NULL OR (({csv}) AND strpos({p}_text, '\"') = 0) AS {p}_fast"]


def records_of(p: str, delimiter: str) -> str:
    """The CSV records of a side's text: lines (blank ones dropped), values split, '' -> NULL."""
    lines = (f"CASE WHEN strpos({p}_text, chr(10)) = 0 THEN "
             f"CASE WHEN trim({p}_text) = '' THEN []::VARCHAR[] ELSE [{p}_text] END "
             f"ELSE list_filter(regexp_split_to_array({p}_text, '\\r?\\n'), lambda x: trim(x) <> '') END")
    return (f"CASE WHEN {p} IS NOT NULL THEN list_transform({lines}, lambda r: "
            f"list_transform(string_split(r, {sql_string(delimiter)}), lambda v: nullif(v, ''))) END")


def capture_query(config: DatasetConfig, table: str = "batch") -> str:
    """Per line: `kind` (fast / general / bad_utf8), `error`, metadata, and for fast lines the records.

    `n` is the number of records of a fast line; `ir` / `orr` hold the input / output records
    (lists of values; NULL: the side is absent), record k of one side paired with record k of
    the other.
    """
    out_side = ("e.captureData.endpointOutput" if config.capture_output
                else f"NULL::STRUCT({', '.join(f'{f} VARCHAR' for f in _SIDE_FIELDS)})")
    delimiter = config.csv_delimiter
    line_error = (
        "CASE WHEN e.captureData IS NULL OR (i IS NULL AND o IS NULL) THEN 'missing_capture_data' "
        "WHEN i_error IS NOT NULL THEN i_error WHEN o_error IS NOT NULL THEN o_error "
        "WHEN ir IS NOT NULL AND orr IS NOT NULL AND len(ir) <> len(orr) THEN 'record_count_mismatch' END"
    )
    n = "greatest(coalesce(len(ir), 0), coalesce(len(orr), 0))"
    return f"""
WITH decoded AS (
  SELECT line_no, raw, TRY(decode(raw)) AS line FROM {table}
), parsed AS (
  SELECT line_no, raw, line,
    CASE WHEN starts_with(ltrim(line, E' \\t\\n\\r'), '{{') THEN TRY(from_json(line, '{CAPTURE_STRUCTURE}')) END AS e
  FROM decoded
), typed AS (
  SELECT line_no, raw, line, e,
    CASE WHEN e IS NOT NULL AND ({_suspicious()}) THEN json_type(line, {_TYPE_PATHS}) END AS t,
    {time_parts_sql("e.eventMetadata.inferenceTime")} AS tm
  FROM parsed
), sides AS (
  SELECT line_no, raw, line, e, t, tm,
    coalesce(e.captureData.endpointInput, e.captureData.batchTransformOutput) AS i,
    {out_side} AS o
  FROM typed
), texts AS (
  SELECT *, {", ".join(side_stage("i")[:1] + side_stage("o")[:1])} FROM sides
), errors AS (
  SELECT *, {", ".join(side_stage("i")[1:2] + side_stage("o")[1:2])} FROM texts
), states AS (
  SELECT *, {", ".join(side_stage("i")[2:] + side_stage("o")[2:])},
    CASE WHEN line IS NULL THEN 'bad_utf8'
         WHEN e IS NULL OR (t IS NOT NULL AND NOT ({_types_ok()})) THEN 'general' END AS pre
  FROM errors
), splits AS (
  SELECT *,
    CASE WHEN pre IS NULL AND i_fast AND o_fast AND i_error IS NULL AND o_error IS NULL
         THEN {records_of("i", delimiter)} END AS ir,
    CASE WHEN pre IS NULL AND i_fast AND o_fast AND i_error IS NULL AND o_error IS NULL
         THEN {records_of("o", delimiter)} END AS orr
  FROM states
), lines AS (
  SELECT *,
    CASE WHEN pre IS NOT NULL THEN pre
         WHEN NOT (i_fast AND o_fast) THEN 'general'
         WHEN e.captureData IS NULL OR (i IS NULL AND o IS NULL) OR i_error IS NOT NULL OR o_error IS NOT NULL
           THEN 'fast'
         WHEN ir IS NOT NULL AND orr IS NOT NULL AND len(ir) <> len(orr) THEN 'fast'
         WHEN {n} = 0 THEN 'general'
         ELSE 'fast' END AS kind,
    {line_error} AS fast_error
  FROM splits
)
SELECT line_no, kind,
  CASE WHEN kind = 'fast' THEN fast_error END AS error,
  CASE WHEN kind = 'general' OR (kind = 'fast' AND fast_error IS NOT NULL) THEN line END AS line,
  CASE WHEN kind = 'fast' THEN epoch_us({timestamp_sql("tm")}) END AS time_us,
  CASE WHEN kind = 'bad_utf8' THEN raw END AS raw,
  e.eventMetadata.eventId AS event_id, e.eventMetadata.inferenceId AS inference_id,
  e.eventMetadata.inferenceTime AS inference_time,
  CASE WHEN kind = 'fast' AND fast_error IS NULL THEN {n} END AS n,
  CASE WHEN kind = 'fast' AND fast_error IS NULL THEN ir END AS ir,
  CASE WHEN kind = 'fast' AND fast_error IS NULL THEN orr END AS orr
FROM lines
"""
