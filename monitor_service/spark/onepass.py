"""Reading and profiling an input in ONE Spark job: counts, quarantine decisions and the profile together.

`read_input` + `profile_records` (kept for the model-quality jobs and the reader's tests) parse
the input, persist the parsed rows to local disk, count them by reason, then read them back to
profile: two passes and a disk round trip. Here the counts are folded into the profile's
aggregation instead: every record contributes one marker entry (name NULL) carrying its
(error, field counts, window state), and the records that may be analyzed (no error of their
own, inside the window) contribute their fields too. ONE grouped aggregation over
(error, input count, output count, window state, name) then yields the counts of every kind of
record and the column profiles of each field-count signature. The driver decides the expected
field counts from the counts (`core.quarantine.decide`, the rule both engines share) and merges
the partial profiles of the signatures that are not quarantined (DataSketches KLL and HLL
merges, exact counts and moments); only when records were quarantined is the input read again,
to write the samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from monitor_service.core.hll import union as hll_union
from monitor_service.core.profile import (
    CARDINALITY_THRESHOLD,
    COMPARED_CARDINALITY_LIMIT,
    DatasetProfile,
    histogram_items,
)
from monitor_service.core.quarantine import CountRow, decide
from monitor_service.errors import EmptyInputError
from monitor_service.runner.common import ReadCounts
from monitor_service.spark.profiler import (
    TYPE_NAMES,
    column_profile,
    histogram,
    profile_aggregates,
    typed_values,
    with_distinct,
)
from monitor_service.spark.reader import RawRecords, describe, raw_records, resolve
from monitor_service.spark.records import checked_rows, reason_column, write_quarantine
from monitor_service.spark.wide import peek_shape, wide_columns, wide_condition, wide_profile
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_MARKER = "named_struct('name', cast(null as string), 'value', cast(null as string))"
_KEYS = ("error", "in_count", "out_count", "window_state")


def profile_input(spark: SparkSession, spec: InputSpec, quarantine_dir: str | None, *,
                  domains: dict[str, list[str]] | None = None,
                  categorical: set[str] | None = None) -> tuple[ReadCounts, DatasetProfile]:
    """Read `spec`, count and quarantine its records and profile the good ones (see the module docstring).

    Capture lines of the common plain-CSV shape are profiled by the wide plan (`spark.wide`);
    the general reader then reads only the other lines, and only when there are any."""
    resolved = resolve(spec)
    try:
        compared = categorical or set()
        limit = COMPARED_CARDINALITY_LIMIT if compared else CARDINALITY_THRESHOLD
        shape = (peek_shape(resolved.files, spec.dataset_config, wide_columns(spark))
                 if spec.format == "capture" else None)
        counts: list[CountRow] = []
        parts: list[dict[str, Any]] = []
        source: RawRecords | None = None
        if shape is not None:
            wide = wide_profile(spark, resolved.files, spec, shape, limit, domains)
            counts, other_lines = list(wide.counts), wide.other_lines
        if shape is None or other_lines:
            where = None if shape is None else f"NOT {wide_condition(shape, spec.dataset_config)}"
            source = raw_records(spark, spec, resolved, where)
            groups = _aggregate(checked_rows(source.raw, spec), limit, domains).collect()
            counts += [CountRow(r["error"], r["in_count"], r["out_count"], r["window_state"], int(r["rows"]),
                                int(r["dropped"] or 0), int(r["truncated"] or 0)) for r in groups if r["name"] is None]
            parts = [r.asDict() for r in groups if r["name"] is not None]
        input_names = source.input_names if source is not None else None
        decision = decide(counts, input_names if input_names is not None else spec.dataset_config.input.names,
                          spec.dataset_config.output.names)
        files: list[str] = []
        if decision.quarantined or quarantine_dir:
            # samples come from every line (the wide plan's too: e.g. a field count the decision refused)
            everything = raw_records(spark, spec, resolved) if decision.quarantined else None
            sampled = (checked_rows(everything.raw, spec).withColumn(
                "reason", reason_column(decision.expected_in, decision.expected_out)) if everything else None)
            files = write_quarantine(sampled, quarantine_dir, decision.quarantined, spec, decision.expected_in,
                                     decision.expected_out)
        read = ReadCounts(records_read=decision.total, records_valid=decision.valid, outside_window=decision.outside,
                          quarantined=dict(decision.quarantined), quarantine_files=files,
                          fields_dropped=decision.fields_dropped, records_truncated=decision.records_truncated)
        if decision.valid == 0:
            error = EmptyInputError(read.empty_reason(describe(spec, resolved), spec))
            error.read = read  # type: ignore[attr-defined]
            raise error
        good = [p for p in parts if decision.reason(None, "in", p["in_count"], p["out_count"]) is None]
        if shape is not None and decision.reason(None, "in", shape.in_count, shape.out_count) is None:
            good += wide.columns
        return read, _profile(good, decision.valid, compared, domains, limit)
    finally:
        resolved.cleanup()


def _aggregate(rows: DataFrame, limit: int, domains: dict[str, list[str]] | None) -> DataFrame:
    """ONE grouped aggregation: per kind of record its count (name NULL), per signature and name a profile."""
    from pyspark.sql import functions as F

    entries = rows.selectExpr(
        *_KEYS, "dropped_fields",
        "posexplode(CASE WHEN error IS NULL AND window_state = 'in' AND fields IS NOT NULL "
        f"THEN concat(array({_MARKER}), fields) ELSE array({_MARKER}) END) AS (at, e)",
    ).selectExpr(*_KEYS, "CASE WHEN at = 0 THEN dropped_fields END AS dropped", "at - 1 AS pos",
                 "e.name AS name", "e.value AS value")
    aggs = [
        F.count(F.lit(1)).alias("rows"),
        F.sum("dropped").alias("dropped"),
        F.sum(F.when(F.col("dropped") > 0, 1).otherwise(0)).alias("truncated"),
        *profile_aggregates(limit, domains),
    ]
    return with_distinct(typed_values(entries).groupBy(*_KEYS, "name").agg(*aggs))


def _profile(rows: list[dict[str, Any]], item_count: int, compared: set[str],
             domains: dict[str, list[str]] | None, query_limit: int) -> DatasetProfile:
    """The DatasetProfile of the good signatures' partial profiles, merged column by column."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    columns = []
    for name, parts in by_name.items():
        merged = parts[0] if len(parts) == 1 else _merge(parts, query_limit)
        limit = COMPARED_CARDINALITY_LIMIT if name in compared else CARDINALITY_THRESHOLD
        columns.append(column_profile(merged, item_count, histogram(merged, limit), domains))
    columns.sort(key=lambda c: (c.position, c.name))
    return DatasetProfile(item_count=float(item_count), columns=columns)


def _merge(parts: list[dict[str, Any]], query_limit: int) -> dict[str, Any]:
    """One column's aggregates over several signatures, as one aggregation over all their rows gives them."""
    import datasketches

    out: dict[str, Any] = {"name": parts[0]["name"], "pos": min(p["pos"] for p in parts)}
    for key in ("present", *TYPE_NAMES, "domain_matches"):
        values = [p.get(key) for p in parts if p.get(key) is not None]
        out[key] = sum(values) if values else None
    numeric = [p for p in parts if p["num_count"]]
    out["num_count"] = sum(p["num_count"] for p in numeric)
    if numeric:
        n = out["num_count"]
        mean = sum(p["num_count"] * p["num_mean"] for p in numeric) / n
        m2 = sum(p["num_count"] * ((p["num_std"] or 0.0) ** 2 + (p["num_mean"] - mean) ** 2) for p in numeric)
        out.update(num_sum=sum(p["num_sum"] for p in numeric), num_mean=mean, num_std=math.sqrt(max(m2 / n, 0.0)),
                   num_min=min(p["num_min"] for p in numeric), num_max=max(p["num_max"] for p in numeric))
        kll = datasketches.kll_doubles_sketch.deserialize(bytes(numeric[0]["kll"]))
        for p in numeric[1:]:
            kll.merge(datasketches.kll_doubles_sketch.deserialize(bytes(p["kll"])))
        out["kll"] = bytes(kll.serialize())
    else:
        out.update(num_sum=None, num_mean=None, num_std=None, num_min=None, num_max=None, kll=None)
    sketch: bytes | None = None
    for p in parts:
        sketch = hll_union(sketch, bytes(p["hll"]) if p["hll"] is not None else None)
    out["hll"] = sketch
    out["distinct"] = (round(datasketches.hll_sketch.deserialize(sketch).get_estimate())
                       if sketch is not None else None)
    out["top"] = _merged_top((p["top"] for p in parts), histogram_items(query_limit))
    return out


def _merged_top(lists: Iterable[Any], k: int) -> list[dict[str, Any]] | None:
    """Frequent-items lists added item by item; None unless every list is complete (shorter than `k`)."""
    counts: dict[Any, int] = {}
    for items in lists:
        if items is None or len(items) >= k:
            return None
        for t in items:
            counts[t["item"]] = counts.get(t["item"], 0) + int(t["count"])
    return [{"item": k, "count": v} for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
