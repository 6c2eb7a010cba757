"""Profiling records in Spark: Deequ's column profile in one aggregation over the (cached) records.

Records are exploded to long format `(position, name, value)` so that ONE grouped aggregation
profiles every column, whatever the number of columns or keys (no per-column Spark jobs, no
wide plan above `spark.sql.codegen.maxFields`). Per column it computes counts, Deequ type
counts, moments, a DataSketches KLL sketch (k=2048), an HLL sketch and a DataSketches
frequent-items sketch (`approx_top_k`). The frequent-items counts are exact while a column has
fewer distinct values than 3/4 of what the sketch tracks (sized for that, `tracked_items`), so
for columns whose distinct count is at most 120 (Deequ's low-cardinality histogram) they ARE
the exact histogram, without the extra group-by pass Deequ makes. Only these per-column
aggregates reach the driver. The data-quality jobs fold this aggregation into the reading
(`monitor_service.spark.onepass`); `profile_records` profiles an existing DataFrame of records.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from monitor_service.core.kll import DEFAULT_K, from_datasketches
from monitor_service.core.profile import (
    CARDINALITY_THRESHOLD,
    COMPARED_CARDINALITY_LIMIT,
    ColumnProfile,
    DatasetProfile,
    NumericState,
    histogram_items,
)
from monitor_service.core.types import BOOLEAN_PATTERN, determine_type
from monitor_service.spark.payloads import sql_string

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# Deequ's three patterns in one test: the union of the Fractional and Integral patterns, then a
# character test tells them apart (a match holds '.', 'e' or 'E' exactly when it is Fractional);
# the Boolean pattern only runs on values that start like a boolean.
_NUMERIC_PATTERN = r"^(-|\+)? ?\d+(\.\d+)?([Ee][-+]?\d+)?$"


def type_expr(value: str) -> str:
    """The Deequ type of the string column `value` as its code in `TYPE_NAMES` (1-based; NULL for
    NULL): small integers are cheaper to compare per value than the type names."""
    return (
        f"CASE WHEN {value} IS NULL THEN NULL "
        f"WHEN {value} RLIKE '{_NUMERIC_PATTERN.replace(chr(92), chr(92) * 2)}' THEN "
        f"CASE WHEN instr({value}, '.') > 0 OR instr({value}, 'e') > 0 OR instr({value}, 'E') > 0 "
        "THEN 1 ELSE 2 END "
        f"WHEN ({value} LIKE 't%' OR {value} LIKE 'f%') AND {value} RLIKE '{BOOLEAN_PATTERN}' THEN 3 "
        "ELSE 4 END"
    )


def number_expr(value: str, vtype: str) -> str:
    """The double of a Fractional or Integral value (Deequ allows a space after the sign), else NULL."""
    return f"CASE WHEN {vtype} <= 2 THEN cast(replace({value}, ' ', '') AS double) END"


TYPE_NAMES = ("Fractional", "Integral", "Boolean", "String")  # codes 1..4 of `type_expr`


def long_values(records: DataFrame) -> DataFrame:
    """`(pos, name, value, vtype, num)` for every field of every record."""
    return typed_values(records.selectExpr("posexplode(fields) AS (pos, f)")
                        .selectExpr("pos", "f.name AS name", "f.value AS value"))


def typed_values(values: DataFrame) -> DataFrame:
    """`values` (with a `value` column) plus its Deequ type `vtype` and number `num`."""
    return values.selectExpr("*", f"{type_expr('value')} AS vtype").selectExpr(
        "*", f"{number_expr('value', 'vtype')} AS num")


def tracked_items(limit: int) -> int:
    """Frequent-items sketch size for a histogram limit: its counts are exact below 3/4 of it, so
    the smallest power of two above 4/3 of the items kept (a smaller map is cheaper to update)."""
    return 1 << math.ceil(math.log2(histogram_items(limit) * 4 / 3 + 1))


def profile_records(
    records: DataFrame,
    item_count: int,
    domains: dict[str, list[str]] | None = None,
    categorical: set[str] | None = None,
) -> DatasetProfile:
    """Profile `records` (rows with `fields`) into a DatasetProfile.

    `domains` (analysis runs) maps a column to its baseline categorical domain; the exact number
    of values inside it is counted in the same pass for `categorical_values_check`.
    `categorical` names the columns the baseline compares by category (larger histogram limit).
    """
    compared = categorical or set()
    limit = COMPARED_CARDINALITY_LIMIT if compared else CARDINALITY_THRESHOLD
    rows = with_distinct(long_values(records).groupBy("name").agg(*profile_aggregates(limit, domains))).collect()
    columns = [column_profile(r, item_count, histogram(r, COMPARED_CARDINALITY_LIMIT if r["name"] in compared
                                                       else CARDINALITY_THRESHOLD), domains) for r in rows]
    columns.sort(key=lambda c: (c.position, c.name))
    return DatasetProfile(item_count=float(item_count), columns=columns)


def with_distinct(aggregated: DataFrame) -> DataFrame:
    """The HLL sketch's estimate beside it, as `distinct`."""
    from pyspark.sql import functions as F

    return aggregated.withColumn("distinct", F.expr("hll_sketch_estimate(hll)"))


# The aggregates of one column profile, by the name `column_aggregates` gives each.
AGGREGATE_KEYS = ("present", *TYPE_NAMES, "num_count", "num_sum", "num_min", "num_max", "num_mean", "num_std",
                  "kll", "hll", "top")


def column_aggregates(value: str, vtype: str, num: str, limit: int, suffix: str = "") -> list[str]:
    """SQL of one column profile's aggregates (`AGGREGATE_KEYS`, each named key + `suffix`) over its
    string `value`, the Deequ type code `vtype` (`type_expr`) and the number `num` (`number_expr`).

    Shared by the long format (one grouped aggregation, one group per column) and the wide plan
    (`spark.wide`: one global aggregation, these once per column with its own suffix)."""
    return [
        f"count({value}) AS present{suffix}",
        *[f"count(CASE WHEN {vtype} = {code} THEN 1 END) AS {name}{suffix}" for code, name in enumerate(TYPE_NAMES, 1)],
        f"count({num}) AS num_count{suffix}", f"sum({num}) AS num_sum{suffix}", f"min({num}) AS num_min{suffix}",
        f"max({num}) AS num_max{suffix}", f"avg({num}) AS num_mean{suffix}", f"stddev_pop({num}) AS num_std{suffix}",
        f"kll_sketch_agg_double({num}, {DEFAULT_K}) AS kll{suffix}", f"hll_sketch_agg({value}) AS hll{suffix}",
        f"approx_top_k({value}, {histogram_items(limit)}, {tracked_items(limit)}) AS top{suffix}",
    ]


def profile_aggregates(limit: int, domains: dict[str, list[str]] | None) -> list[Any]:
    """The aggregate columns of one column profile over `typed_values` rows (pos, name, value, vtype, num);
    `with_distinct` adds the distinct count after the aggregation."""
    from pyspark.sql import functions as F

    aggs = [F.min("pos").alias("pos"), *[F.expr(e) for e in column_aggregates("value", "vtype", "num", limit)]]
    if domains:
        domain_map = (
            "map("
            + ", ".join(
                f"{sql_string(name)}, array({', '.join(sql_string(v) for v in vals) or 'cast(null as string)'})"
                for name, vals in domains.items()
            )
            + ")"
        )
        aggs.append(
            F.sum(F.when(F.expr(f"array_contains(element_at({domain_map}, name), value)"), 1).otherwise(0)).alias(
                "domain_matches"
            )
        )
    return aggs


def histogram(row: Any, limit: int) -> dict[str, float] | None:
    """The exact value counts of a column with at most `limit` distinct values (HLL estimate)."""
    distinct, top = row["distinct"], row["top"]
    if distinct is None or distinct > limit or top is None or len(top) >= histogram_items(limit):
        return None
    return {t["item"]: float(t["count"]) for t in top if t["item"] is not None}


def column_profile(
    r: Any, item_count: int, histogram: dict[str, float] | None, domains: dict[str, list[str]] | None
) -> ColumnProfile:
    """A column's profile from its aggregates (a pyspark Row or a dict with the same keys)."""
    present = float(r["present"])
    counts = {t: float(r[t] or 0) for t in TYPE_NAMES}
    counts["Unknown"] = float(item_count) - present
    inferred = determine_type(counts)
    numeric = None
    if inferred.is_numeric and r["num_count"]:
        numeric = NumericState(
            count=float(r["num_count"]),
            sum=float(r["num_sum"]),
            mean=float(r["num_mean"]),
            std_dev=float(r["num_std"] or 0.0),
            min=float(r["num_min"]),
            max=float(r["num_max"]),
            kll=from_datasketches(r["kll"]),
        )
    return ColumnProfile(
        name=r["name"],
        inferred_type=inferred,
        num_present=present,
        num_missing=float(item_count) - present,
        type_counts=counts,
        numeric=numeric,
        distinct_count=float(r["distinct"]) if r["distinct"] is not None else None,
        hll=bytes(r["hll"]) if r["hll"] is not None else None,
        histogram=histogram,
        source="data",
        position=int(r["pos"]),
        domain_matches=float(r["domain_matches"]) if domains and r["domain_matches"] is not None else None,
    )
