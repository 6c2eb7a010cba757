"""The Deequ engine of data-quality jobs: the window read by our Spark reader, profiled, suggested
and verified by Deequ (`client.Deequ`: in-process or in the sidecar).

Reading is the project's own (`spark.reader.read_input`: capture parsing, quarantine, window),
so a Deequ run counts and quarantines exactly as a native one. The good records become one wide
DataFrame of string columns, values as the capture gave them, which is what Deequ's type
inference expects (SageMaker's analyzer hands Deequ the same strings).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from monitor_service.core.constraints import Constraints
from monitor_service.core.profile import DatasetProfile, column_metrics
from monitor_service.core.types import InferredType
from monitor_service.core.violations import Violation
from monitor_service.deequ.checks import DeequChecks
from monitor_service.deequ.history import MetricHistory
from monitor_service.deequ.mapping import (
    anomaly_violation,
    check_violations,
    constraints_from_deequ,
    profile_from_deequ,
)
from monitor_service.errors import ConfigError
from monitor_service.runner.common import Progress, counts_on_empty, report_read
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from monitor_service.spark.records import ReadResult


def wide_records(records: DataFrame) -> tuple[DataFrame, list[str]]:
    """One string column per field name (first position first), from the reader's `fields`."""
    from pyspark.sql import functions as F

    names = [r["name"] for r in records.selectExpr("posexplode(fields) AS (pos, f)")
             .groupBy("f.name").agg(F.min("pos").alias("pos")).orderBy("pos", "name").collect()]
    by_name = F.map_from_entries("fields")
    return records.select(*[F.element_at(by_name, F.lit(n)).alias(f"c{i}") for i, n in enumerate(names)]), names


_SQL_TYPES = {InferredType.INTEGRAL: "bigint", InferredType.FRACTIONAL: "double", InferredType.BOOLEAN: "boolean"}


def typed_records(records: DataFrame, names: list[str], window: DatasetProfile) -> DataFrame:
    """The wide records with each column cast to the window profile's inferred type (numbers read as
    the profilers read them, spaces dropped), so Deequ's numeric checks (hasMin, hasMean, ...) see
    numbers; values that are not of the type become null."""
    types = {c.name: c.inferred_type for c in window.columns}
    columns = []
    for i, name in enumerate(names):
        sql_type = _SQL_TYPES.get(types.get(name, InferredType.STRING))
        value = f"replace(c{i}, ' ', '')" if sql_type in ("bigint", "double") else f"c{i}"
        columns.append(f"cast({value} AS {sql_type}) AS c{i}" if sql_type else f"c{i}")
    return records.selectExpr(*columns)


def _read(spark: SparkSession, spec: InputSpec, quarantine_dir: str | None, summary: RunSummary,
          progress: Progress) -> ReadResult:
    from monitor_service.spark.reader import read_input

    progress(f"reading {spec.format} input {spec.path} (Deequ engine)")
    with counts_on_empty(summary):
        read = read_input(spark, spec, quarantine_dir)
    report_read(summary, read, progress)
    return read


def deequ_profile(spark: SparkSession, spec: InputSpec, quarantine_dir: str | None, summary: RunSummary,
                  progress: Progress, *, suggest: bool = False) -> tuple[DatasetProfile, Constraints | None]:
    """Deequ's ColumnProfilerRunner (KLL on) over the good records, and with `suggest` its
    ConstraintSuggestionRunner (DEFAULT rules), as the project's profile and constraints."""
    from monitor_service.deequ.client import Deequ

    read = _read(spark, spec, quarantine_dir, summary, progress)
    try:
        deequ = Deequ(spark)
        records, names = wide_records(read.df)
        progress(f"profiling {len(names)} columns with Deequ, {deequ.where}")
        answer = deequ.run("profile_and_suggest" if suggest else "profile", records)
    finally:
        read.release()
    result = answer["profile"] if suggest else answer
    summary.deequ_spark_jobs = result["spark_jobs"] + (answer.get("suggest_spark_jobs", 0) if suggest else 0)
    profile = profile_from_deequ(result, names)
    return profile, constraints_from_deequ(profile, answer["suggestions"]) if suggest else None


def run_checks(spark: SparkSession | None, spec: InputSpec, constraints: Constraints, window: DatasetProfile,
               history: MetricHistory | None, progress: Progress) -> list[Violation]:
    """The constraints' `deequ_checks` on this window: VerificationSuite on the window's records and
    Deequ's anomaly strategies over the metric history; each failure is a violation."""
    block = DeequChecks.from_json((constraints.model_extra or {}).get("deequ_checks"), "baseline constraints")
    if not block.checks and not block.anomaly_checks:
        return []
    if spark is None:
        raise ConfigError("deequ_checks run on Spark (Deequ reads the window's records there)",
                          hint="run the analysis with --engine spark or deequ")
    from monitor_service.deequ.client import Deequ

    deequ = Deequ(spark)
    violations: list[Violation] = []
    if block.checks:
        read = _read(spark, spec, None, RunSummary.model_construct(), progress)
        try:
            records, names = wide_records(read.df)
            missing = sorted({c for check in block.checks for c in check.target_columns()} - set(names))
            if missing:
                raise ConfigError(f"deequ_checks name columns {missing} the window does not have",
                                  hint=f"the window's columns are {names}")
            progress(f"running {len(block.checks)} Deequ checks, {deequ.where}")
            checks = [c.model_dump(mode="json", exclude_none=True) for c in block.checks]
            results = deequ.run("verify", typed_records(records, names, window), names, checks=checks)
        finally:
            read.release()
        violations += check_violations(block.checks, results)
    violations += _anomalies(deequ, block, window, history or MetricHistory(), progress)
    return violations


def window_metric(window: DatasetProfile, column: str, metric: str) -> float | None:
    """This window's value of a per-feature metric, by the names the job stores per window."""
    profile = window.by_name().get(column)
    if profile is None:
        return None
    value = column_metrics(profile)[metric]
    return float(value) if value is not None and math.isfinite(value) else None


def _anomalies(deequ: Any, block: DeequChecks, window: DatasetProfile, history: MetricHistory,
               progress: Progress) -> list[Violation]:
    asked = []
    for check in block.anomaly_checks:
        current = window_metric(window, check.column, check.metric)
        series = history.series(check.column, check.metric)
        if current is not None and series:  # Deequ needs earlier values to judge this one
            asked.append((check, current, series))
    if not asked:
        return []
    progress(f"running {len(asked)} Deequ anomaly checks over the metric history")
    # None factors and bounds are kept: Deequ reads a missing one as "no bound on that side"
    items = [{"series": [*series, current], "strategy": check.strategy.model_dump(mode="json")}
             for check, current, series in asked]
    found = deequ.run("detect", None, items=items)
    return [v for (check, current, series), anomalies in zip(asked, found, strict=True)
            if (v := anomaly_violation(check, current, len(series), anomalies)) is not None]
