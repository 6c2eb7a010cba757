"""The wide plan for plain-CSV capture: typed columns straight from the split, ONE wide aggregation.

Most capture lines of an endpoint look alike: both sides a plain CSV payload of one record
(CSV or JSON encoding, a CSV or sniffed-CSV content type, no quote, no line break) with the
same number of values. For those lines the general reader (`spark.capture`) computes nothing
but `split(data, delimiter)` per side, yet it evaluates every decoding expression around that
shortcut, copies the row through its plan barriers, pairs records, names fields and explodes
them to one row per value before a grouped aggregation: about 3x the time of reading three
strings per line and aggregating typed columns. This module does the latter for lines whose
shape matches the one `peek_shape` read from the first file: the line is parsed by the
envelope schema, each side split once, and one global aggregation profiles every column (the
same aggregates as `spark.profiler`, so the driver builds the same column profiles) and counts
the lines by window state, plus the lines it did not take. Those (other shapes, JSON, BASE64,
quoted CSV, every broken line) go through the general reader, filtered by the same condition
negated, so every quarantine reason and every record stays as it was; its profiles are merged
with these on the driver. A window of plain lines is therefore read and parsed once, without
the general plan even being built.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor_service.capture import record as R
from monitor_service.core.quarantine import CountRow
from monitor_service.spark.capture import envelopes, side_kind, side_plain
from monitor_service.spark.lines import text_lines
from monitor_service.spark.payloads import sql_string
from monitor_service.spark.profiler import AGGREGATE_KEYS, column_aggregates, number_expr, type_expr
from monitor_service.spark.records import window_state
from monitor_service.specs import DatasetConfig, InputSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Beyond this many columns one global aggregation (about 15 aggregates per column) costs more to
# plan and compile than the long format's grouped one. The projection feeding it holds three
# columns per field (value, type, number); whole-stage code generation only covers a projection
# of at most `spark.sql.codegen.maxFields` columns (interpreted, it is about 2x slower), so the
# session's setting bounds the wide plan too (`wide_columns`).
MAX_WIDE_COLUMNS = 64
# Lines of the first file looked at for the common shape.
PEEK_LINES = 50


@dataclass(frozen=True)
class WideShape:
    """The value counts of a plain line's two sides and the names of its fields, in record order."""

    in_count: int
    out_count: int | None  # None when the output side is not read (`capture_output` off)
    names: tuple[str, ...]
    slots: tuple[str, ...]  # per name: which side's split and index holds the value


def wide_columns(spark: SparkSession) -> int:
    """How many fields the wide plan takes in this session (see `MAX_WIDE_COLUMNS`)."""
    try:
        fields = int(spark.conf.get("spark.sql.codegen.maxFields", "100") or 100)
    except ValueError:
        fields = 100
    return max(0, min(MAX_WIDE_COLUMNS, (fields - 2) // 3))


def shape_for(in_count: int, out_count: int | None, config: DatasetConfig,
              max_fields: int = MAX_WIDE_COLUMNS) -> WideShape | None:
    """The fields of a plain record with these counts, named as `payloads.name_fields` names them,
    or None when the general reader must decide (repeated names, more than `max_columns`)."""
    sides = [("i", in_count, config.input.names), ("o", out_count or 0, config.output.names)]
    if config.output_position == "START":
        sides.reverse()
    names: list[str] = []
    slots: list[str] = []
    for side, count, configured in sides:
        offset = len(names)
        for i in range(count):
            names.append(configured[i] if configured and i < len(configured) else f"_c{i + offset}")
            slots.append(f"{side}_values[{i}]")
    if not names or len(names) > min(config.max_columns, max_fields) or len(set(names)) != len(names):
        return None
    return WideShape(in_count, out_count, tuple(names), tuple(slots))


def peek_shape(files: list[str], config: DatasetConfig, max_fields: int = MAX_WIDE_COLUMNS) -> WideShape | None:
    """The shape of the first plain line among the first lines of the first file, or None.

    Only a guess at the common case: the Spark condition (`wide_condition`) decides line by line,
    so a wrong guess costs speed, never a record. Unreadable files are left to Spark's reader."""
    if not files:
        return None
    import fsspec

    try:
        with fsspec.open(files[0], "rb", compression="infer") as handle:
            for _ in range(PEEK_LINES):
                raw = handle.readline(config.max_line_bytes + 1)
                if not raw:
                    return None
                shape = _line_shape(raw, config, max_fields)
                if shape is not None:
                    return shape
    except Exception:
        return None
    return None


def _line_shape(raw: bytes, config: DatasetConfig, max_fields: int) -> WideShape | None:
    try:
        capture = json.loads(raw).get(R.CAPTURE_DATA)
    except (ValueError, AttributeError):
        return None
    if not isinstance(capture, dict):
        return None
    in_side = capture.get(R.ENDPOINT_INPUT) or capture.get(R.BATCH_TRANSFORM_OUTPUT)
    in_count = _plain_count(in_side, config.csv_delimiter)
    if in_count is None:
        return None
    out_count = None
    if config.capture_output:
        out_count = _plain_count(capture.get(R.ENDPOINT_OUTPUT), config.csv_delimiter)
        if out_count is None:
            return None
    return shape_for(in_count, out_count, config, max_fields)


def _plain_count(side: object, delimiter: str) -> int | None:
    if not isinstance(side, dict):
        return None
    data, encoding, ctype = side.get(R.DATA), side.get(R.ENCODING), side.get(R.OBSERVED_CONTENT_TYPE)
    if not isinstance(data, str) or str(encoding).upper() not in ("CSV", "JSON"):
        return None
    ctype = str(ctype).lower() if isinstance(ctype, str) else ""
    csv = "csv" in ctype or ("json" not in ctype and not data.lstrip().startswith(("{", "[")))
    if not csv or '"' in data or "\n" in data or not data.strip():
        return None
    return len(data.split(delimiter))


def _plain_sides(shape: WideShape, config: DatasetConfig) -> str:
    """True for a line of `envelopes` whose envelope parses and whose sides are both plain."""
    parts = ["line IS NOT NULL", "is_valid_utf8(line)", "env IS NOT NULL", "env._corrupt_record IS NULL",
             f"env.{R.CAPTURE_DATA} IS NOT NULL"]
    for side, count in (("in_side", shape.in_count), ("out_side", shape.out_count)):
        if count is not None:
            data = f"{side}.data"
            parts += [f"{side} IS NOT NULL", side_plain(side, data, side_kind(side, data)), f"is_valid_utf8({data})"]
    return "coalesce(" + " AND ".join(parts) + ", false)"


def _sizes(shape: WideShape, in_values: str, out_values: str) -> str:
    sizes = [f"size({in_values}) = {shape.in_count}"]
    if shape.out_count is not None:
        sizes.append(f"size({out_values}) = {shape.out_count}")
    return " AND ".join(sizes)


def wide_condition(shape: WideShape, config: DatasetConfig) -> str:
    """True for a line of `envelopes` that the general reader would read as exactly one error-free
    record of `shape`: the envelope parses, both sides are plain with the shape's value counts."""
    delimiter = sql_string(re.escape(config.csv_delimiter))
    sizes = _sizes(shape, f"split(in_side.data, {delimiter})", f"split(out_side.data, {delimiter})")
    return f"({_plain_sides(shape, config)} AND coalesce({sizes}, false))"


@dataclass
class WideResult:
    """What the wide aggregation found: counts of its lines by window state, the column aggregates of
    its in-window lines (dicts shaped as `profiler.profile_aggregates` rows), and the lines it left."""

    counts: list[CountRow]
    columns: list[dict[str, Any]]
    other_lines: int


def wide_profile(spark: SparkSession, files: list[str], spec: InputSpec, shape: WideShape, limit: int,
                 domains: dict[str, list[str]] | None) -> WideResult:
    """ONE Spark job over `files`: the lines of `shape` profiled column by column, the others counted."""
    config = spec.dataset_config
    delimiter = sql_string(re.escape(config.csv_delimiter))
    lines = envelopes(text_lines(spark, files, config.max_line_bytes), config)
    # Each stage's columns are used more than once below, so the optimizer keeps them computed once.
    plain = lines.selectExpr(
        f"{_plain_sides(shape, config)} AS plain", "in_side.data AS in_data", "out_side.data AS out_data",
        f"try_cast(env.{R.EVENT_METADATA}.{R.INFERENCE_TIME} AS timestamp) AS inference_time")
    split = plain.selectExpr(
        "inference_time", f"CASE WHEN plain THEN split(in_data, {delimiter}) END AS i_values",
        f"CASE WHEN plain THEN split(out_data, {delimiter}) END AS o_values")
    marked = split.selectExpr("*", f"coalesce({_sizes(shape, 'i_values', 'o_values')}, false) AS wide")
    stated = marked.selectExpr("*", f"CASE WHEN wide THEN {window_state(spec.window)} END AS state")
    count = len(shape.names)
    values = stated.selectExpr("wide", "state", *[
        f"CASE WHEN state = 'in' THEN nullif({slot}, '') END AS v{k}" for k, slot in enumerate(shape.slots)])
    typed = values.selectExpr("*", *[f"{type_expr(f'v{k}')} AS t{k}" for k in range(count)])
    typed = typed.selectExpr("*", *[f"{number_expr(f'v{k}', f't{k}')} AS n{k}" for k in range(count)])
    # count(CASE .. THEN 1 END), not count_if: count_if's condition becomes a column of its own
    # below the aggregation, which would push the projection past `maxFields`.
    aggs = ["count(CASE WHEN NOT wide THEN 1 END) AS other_lines",
            *[f"count(CASE WHEN state = '{s}' THEN 1 END) AS lines_{s}" for s in _STATES]]
    for k, name in enumerate(shape.names):
        v = f"v{k}"
        aggs += column_aggregates(v, f"t{k}", f"n{k}", limit, f"_{k}")
        if domains and name in domains:
            allowed = ", ".join(sql_string(x) for x in domains[name]) or "cast(null as string)"
            aggs.append(f"count(CASE WHEN array_contains(array({allowed}), {v}) THEN 1 END) AS domain_matches_{k}")
    aggregated = typed.selectExpr(*aggs)
    row = aggregated.selectExpr("*", *[f"hll_sketch_estimate(hll_{k}) AS distinct_{k}"
                                       for k in range(count)]).collect()[0].asDict()
    counts = [CountRow(None, shape.in_count, shape.out_count, s, int(row[f"lines_{s}"]), 0, 0)
              for s in _STATES if row[f"lines_{s}"]]
    columns = []
    if row["lines_in"]:
        for k, name in enumerate(shape.names):
            column = {"name": name, "pos": k, "distinct": row[f"distinct_{k}"],
                      "domain_matches": row.get(f"domain_matches_{k}", 0 if domains else None),
                      **{key: row[f"{key}_{k}"] for key in AGGREGATE_KEYS}}
            columns.append(column)
    return WideResult(counts, columns, int(row["other_lines"]))


_STATES = ("in", "out", "invalid")
