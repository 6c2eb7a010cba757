"""Reading SageMaker endpoint data capture (JSONL, one line per invocation) into records.

A capture line is parsed with an explicit schema (never schema inference, which is a full
extra pass), each side's payload is decoded (`CSV`/`JSON` raw, `BASE64` decoded and then
parsed by its content type, or sniffed when the type is not tabular, e.g. `text/html`), split
into records (CSV rows, JSON Lines, JSON lists, `{"instances": [...]}`, columnar objects), and
input record i is paired with output record i. Lines that cannot be used get a quarantine
reason instead of failing the job.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from monitor_service.capture import record as R
from monitor_service.core.quarantine import LINE_TOO_LONG
from monitor_service.spark import payloads as P
from monitor_service.spark.lines import text_lines
from monitor_service.specs import DatasetConfig, SideConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# The envelope's field names and schema come from the record type the gateway writes.
_SIDE = R.SIDE_DDL
CAPTURE_SCHEMA = f"{R.ENVELOPE_DDL}, _corrupt_record string"
_ENV_DATA, _ENV_META = f"env.{R.CAPTURE_DATA}", f"env.{R.EVENT_METADATA}"
# Columns carried unchanged from a capture line to each of its records.
_CARRIED = ("source_file", "line", "error", "event_id", "inference_id", "inference_time_raw")
_STRICT_BASE64 = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def side_kind(side: str, text: str) -> str:
    """How a side's payload `text` is split: 'csv', 'jsonl' or 'json', by content type, else sniffed."""
    ctype = f"lower({side}.observedContentType)"
    return (
        f"CASE WHEN {ctype} LIKE '%csv%' THEN 'csv' "
        f"WHEN {ctype} LIKE '%jsonl%' OR {ctype} LIKE '%json-lines%' OR {ctype} LIKE '%jsonlines%' THEN 'jsonl' "
        f"WHEN {ctype} LIKE '%json%' THEN 'json' "
        f"WHEN ltrim({text}) LIKE '{{%' OR ltrim({text}) LIKE '[%' THEN 'json' ELSE 'csv' END"
    )


def side_plain(side: str, text: str, kind: str) -> str:
    """True for the common case, a plain CSV payload of one record (see `_side_columns`)."""
    return (
        f"coalesce({side}.data IS NOT NULL AND upper({side}.encoding) IN ('CSV', 'JSON') AND {kind} = 'csv' "
        f"AND instr({text}, '\"') = 0 AND instr({text}, '\\n') = 0 AND trim({text}) != '', false)"
    )


def _side_columns(side: str, prefix: str, cfg: SideConfig, delimiter: str) -> list[list[str]]:
    """Expressions decoding one side into `{prefix}_error` and `{prefix}_records` (array of entries).

    Each list is applied as one stage (using the columns of the stages before it); the last one
    gives `{prefix}_records` and its one-key columnar alternative `{prefix}_alt`.

    `{prefix}_plain` marks the common case, a plain CSV payload of one record (CSV or JSON
    encoding, a CSV or sniffed-CSV content type, no quote, no line break): its records are then
    the one split of the text, which is exactly what the general expressions give it, without
    their line splitting and per-record branches.
    """
    enc = f"upper({side}.encoding)"
    text = f"CASE WHEN {enc} = 'BASE64' THEN cast(try_to_binary({side}.data, 'base64') as string) ELSE {side}.data END"
    kind = side_kind(side, f"{prefix}_text")
    error = (
        f"CASE WHEN {side} IS NULL THEN NULL "
        f"WHEN {side}.data IS NULL THEN 'missing_capture_data' "
        f"WHEN {enc} NOT IN ('CSV', 'JSON', 'BASE64') OR {enc} IS NULL THEN 'unsupported_encoding' "
        f"WHEN {enc} = 'BASE64' AND NOT regexp_replace({side}.data, '\\\\s', '') RLIKE '{_STRICT_BASE64}' "
        f"THEN 'invalid_base64' "
        f"WHEN NOT is_valid_utf8({prefix}_text) THEN 'invalid_utf8' END"
    )
    json_records = P.json_payload_records(f"{prefix}_text", cfg.records_attribute, cfg.layout)
    texts = f"CASE WHEN {prefix}_kind = 'json' THEN {json_records} ELSE {P.split_lines(f'{prefix}_text')} END"

    def entries(texts: str) -> str:
        return (
            f"transform({texts}, r -> CASE WHEN {prefix}_kind = 'csv' "
            f"THEN {P.positional_entries(P.csv_values('r', delimiter))} "
            f"ELSE {P.json_record_entries('r', cfg.features_attribute)} END)"
        )

    # A one-key columnar object ({"median_house_value": [a, b]}) is only recognisable next to
    # the other side's record count, so its columnar split is kept as an alternative.
    alt_texts = (
        (
            f"CASE WHEN {prefix}_kind = 'json' AND size({prefix}_texts) = 1 THEN "
            f"{P.columnar_records(f'{prefix}_text', 1)} END"
        )
        if cfg.layout == "auto"
        else "NULL"
    )
    plain = side_plain(side, f"{prefix}_text", f"{prefix}_kind")
    single = P.positional_entries(f"split({prefix}_text, {P.sql_string(re.escape(delimiter))})")
    return [
        [f"{text} AS {prefix}_text"],
        [f"{kind} AS {prefix}_kind"],
        [f"{error} AS {prefix}_error", f"{plain} AS {prefix}_plain"],
        [f"CASE WHEN {prefix}_plain THEN array({prefix}_text) "
         f"WHEN {prefix}_error IS NULL AND {side} IS NOT NULL THEN {texts} END AS {prefix}_texts"],
        [f"CASE WHEN {prefix}_plain THEN array({single}) ELSE {entries(f'{prefix}_texts')} END AS {prefix}_records",
         f"CASE WHEN {prefix}_plain THEN NULL ELSE {entries(f'cast({alt_texts} as array<string>)')} END "
         f"AS {prefix}_alt"],
    ]


def capture_records(spark: SparkSession, files: list[str], config: DatasetConfig, where: str | None = None,
                    ) -> DataFrame:
    """One row per record with metadata, `fields`, positional signatures and a quarantine `error`.

    `where` (a condition over the columns of `envelopes`) reads only some lines, e.g. those the
    wide plan (`spark.wide`) did not take.

    Columns: source_file, line (kept only on rows with an error), error, event_id, inference_id,
    inference_time_raw, record_index, in_count / out_count (number of positional values, -1 for
    keyed JSON, null when the side is absent) and fields array<struct<name, value>>.
    """
    from pyspark.sql import functions as F

    lines = text_lines(spark, files, config.max_line_bytes)  # over-long lines arrive as NULL, flagged
    parsed = envelopes(lines, config)
    if where is not None:
        parsed = parsed.where(where)
    in_cols = _side_columns("in_side", "in", config.input, config.csv_delimiter)
    out_cols = _side_columns("out_side", "out", config.output, config.csv_delimiter)
    # Each side is decoded in stages so that every intermediate is computed once.
    for in_stage, out_stage in zip(in_cols, out_cols, strict=True):
        parsed = barrier(parsed.selectExpr("*", *in_stage, *out_stage))
    # Use a side's one-key columnar reading when that makes both sides' record counts agree.
    for side, other in (("in", "out"), ("out", "in")):
        parsed = parsed.withColumn(
            f"{side}_records",
            F.expr(
                f"CASE WHEN {side}_records IS NOT NULL AND {other}_records IS NOT NULL "
                f"AND size({side}_records) != size({other}_records) AND {side}_alt IS NOT NULL "
                f"AND size({side}_alt) = size({other}_records) THEN {side}_alt ELSE {side}_records END"
            ),
        )
    parsed = barrier(parsed)
    line_error = (
        f"CASE WHEN too_long THEN '{LINE_TOO_LONG}' WHEN NOT is_valid_utf8(line) THEN 'invalid_utf8' "
        "WHEN env IS NULL OR env._corrupt_record IS NOT NULL THEN 'malformed_json' "
        f"WHEN env.{R.CAPTURE_DATA} IS NULL OR (in_side IS NULL AND out_side IS NULL) THEN 'missing_capture_data' "
        "WHEN in_error IS NOT NULL THEN in_error WHEN out_error IS NOT NULL THEN out_error "
        "WHEN exists(coalesce(in_records, array()), r -> r IS NULL) "
        "OR exists(coalesce(out_records, array()), r -> r IS NULL) "
        "OR (in_side IS NOT NULL AND in_records IS NULL) OR (out_side IS NOT NULL AND out_records IS NULL) "
        "THEN 'malformed_payload' "
        "WHEN in_records IS NOT NULL AND out_records IS NOT NULL AND size(in_records) != size(out_records) "
        "THEN 'record_count_mismatch' END"
    )
    paired = parsed.selectExpr(
        "source_file",
        "coalesce(line, long_prefix) AS line",
        f"{line_error} AS error",
        f"{_ENV_META}.{R.EVENT_ID} AS event_id",
        f"{_ENV_META}.{R.INFERENCE_ID} AS inference_id",
        f"{_ENV_META}.{R.INFERENCE_TIME} AS inference_time_raw",
        "in_records",
        "out_records",
    ).selectExpr(
        "source_file",
        "CASE WHEN error IS NOT NULL THEN line END AS line",
        "error",
        "event_id",
        "inference_id",
        "inference_time_raw",
        # a failed line still yields exactly one row so that it is counted and sampled
        "CASE WHEN error IS NOT NULL THEN array(named_struct('i', cast(null as "
        + P.ENTRY_TYPE
        + "), 'o', cast(null as "
        + P.ENTRY_TYPE
        + "))) "
        "ELSE transform(sequence(0, greatest(size(coalesce(in_records, array())), "
        "size(coalesce(out_records, array()))) - 1), k -> named_struct('i', in_records[k], 'o', out_records[k])) "
        "END AS pairs",
    )
    records = (
        barrier(paired)
        .selectExpr(*_CARRIED, "posexplode_outer(pairs) AS (record_index, pair)")
        .where("error IS NOT NULL OR pair IS NOT NULL")
    )
    start_first = config.output_position == "START"
    first, second = ("pair.o", "pair.i") if start_first else ("pair.i", "pair.o")
    first_names, second_names = (
        (config.output.names, config.input.names) if start_first else (config.input.names, config.output.names)
    )
    return records.selectExpr(
        *_CARRIED,
        "cast(record_index as int) AS record_index",
        f"{_signature('pair.i')} AS in_count",
        f"{_signature('pair.o')} AS out_count",
        f"CASE WHEN error IS NULL THEN {P.name_fields(first, second, first_names, second_names, start_first)} "
        "END AS fields",
    )


def envelopes(lines: DataFrame, config: DatasetConfig) -> DataFrame:
    """`text_lines` plus the parsed envelope `env` and its two sides `in_side`, `out_side`."""
    return lines.selectExpr(
        "line",
        "source_file",
        "too_long",
        "long_prefix",
        f"from_json(line, '{CAPTURE_SCHEMA}', "
        "map('mode', 'PERMISSIVE', 'columnNameOfCorruptRecord', '_corrupt_record')) AS env",
    ).selectExpr(
        "line",
        "source_file",
        "too_long",
        "long_prefix",
        "env",
        f"coalesce({_ENV_DATA}.{R.ENDPOINT_INPUT}, {_ENV_DATA}.{R.BATCH_TRANSFORM_OUTPUT}) AS in_side",
        f"{_ENV_DATA}.{R.ENDPOINT_OUTPUT} AS out_side" if config.capture_output
        else f"cast(null as {_SIDE}) AS out_side",
    )


def barrier(frame: DataFrame) -> DataFrame:
    """Stop the optimizer from inlining one stage's columns into the next.

    Each stage refers to the previous stage's columns several times; collapsed into one
    projection the expression tree grows multiplicatively (seconds of planning, and out of
    memory on the driver for JSON payloads). A one-row-to-one-row `explode` is a plan node that
    projections cannot be merged across, at the cost of one struct per row.
    """
    from pyspark.sql import functions as F

    # (`_stage.*` names the columns back in one expression: a Column object per column costs the
    # driver a few JVM calls each, and there are dozens per stage)
    return frame.select(F.explode(F.array(F.struct("*"))).alias("_stage")).selectExpr("_stage.*")


def _signature(entries: str) -> str:
    """Number of positional values of a side, -1 when keyed, null when the side is absent."""
    return (
        f"CASE WHEN {entries} IS NULL THEN NULL "
        f"WHEN exists({entries}, e -> e.key IS NOT NULL) THEN -1 ELSE size({entries}) END"
    )
