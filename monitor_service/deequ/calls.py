"""The calls into Deequ (through pydeequ), given a SparkSession that has Deequ's classes.

The same functions serve both ways Deequ runs: in the main process when its SparkSession already
has Deequ (a cluster given `--packages` with a jar matching its Spark), and in the sidecar
(`monitor_service.deequ.sidecar`, pyspark 3.5 + the Deequ jar in `.venv/deequ`). So this module
imports only the standard library, pyspark and pydeequ, and takes and returns plain JSON values:
the adapter (`monitor_service.deequ.mapping`) turns them into the project's profile, constraints
and violation types.

pydeequ reads `SPARK_VERSION` when imported; `use_spark_version` sets it from the session first.
"""

from __future__ import annotations

import json
import math
import operator
import os
from collections.abc import Callable
from typing import Any

# Deequ's KLL profile parameters, as SageMaker's analyzer uses them: sketch size 2048, shrinking
# factor 0.64, 10 buckets (statistics.json's kll.buckets).
KLL_SKETCH_SIZE = 2048
KLL_SHRINKING_FACTOR = 0.64
KLL_BUCKETS = 10

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def holds(assertion: dict[str, Any], metric: float) -> bool:
    """A declarative assertion `{"op": OP, "value": V}` (or `between [low, high]`) on a metric value."""
    value = assertion["value"]
    if assertion["op"] == "between":
        return float(value[0]) <= metric <= float(value[1])
    return OPERATORS[assertion["op"]](metric, float(value))


def use_spark_version(spark: Any) -> None:
    """pydeequ picks its Maven coordinate from SPARK_VERSION at import; give it the session's."""
    os.environ.setdefault("SPARK_VERSION", ".".join(spark.version.split(".")[:2]))


def has_deequ(spark: Any) -> bool:
    """Whether the session's JVM can load Deequ's classes (nothing is downloaded to find out)."""
    try:
        spark._jvm.java.lang.Class.forName("com.amazon.deequ.profiles.ColumnProfilerRunner",
                                           False, spark._jvm.java.lang.Thread.currentThread().getContextClassLoader())
        spark._jvm.java.lang.Class.forName("com.amazon.deequ.checks.Check",
                                           False, spark._jvm.java.lang.Thread.currentThread().getContextClassLoader())
    except Exception:  # py4j reports a missing or unloadable class as a Py4JJavaError
        return False
    return True


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _jobs(spark: Any, group: str) -> int:
    return len(spark.sparkContext.statusTracker().getJobIdsForGroup(group))


def _counted(spark: Any, group: str, run: Callable[[], Any]) -> tuple[Any, int]:
    """Run `run` under its own job group (to count its Spark jobs), then give back the caller's
    group (a worker's group lets a run be cancelled)."""
    context = spark.sparkContext
    before = context.getLocalProperty("spark.jobGroup.id")
    context.setJobGroup(group, f"Deequ {group}")
    try:
        return run(), _jobs(spark, group)
    finally:
        context.setLocalProperty("spark.jobGroup.id", before)


def profile(spark: Any, df: Any) -> dict[str, Any]:
    """ColumnProfilerRunner with KLL profiling on: per column Deequ's profile as JSON, plus how many
    Spark jobs it ran (`spark_jobs`, the passes over the data) and the record count."""
    use_spark_version(spark)
    from pydeequ.profiles import ColumnProfilerRunner, KLLParameters

    parameters = KLLParameters(spark, KLL_SKETCH_SIZE, KLL_SHRINKING_FACTOR, KLL_BUCKETS)
    result, jobs = _counted(spark, "deequ-profile", lambda: ColumnProfilerRunner(spark).onData(df)
                            .withKLLProfiling().setKLLParameters(parameters).run())
    columns = {}
    for name, column in result.profiles.items():
        java = column._java_column_profile
        entry: dict[str, Any] = {
            "completeness": float(column.completeness),
            "approximate_num_distinct_values": int(column.approximateNumDistinctValues),
            "data_type": str(column.dataType),
            "type_counts": {str(k): int(v) for k, v in (column.typeCounts or {}).items()},
            "histogram": None if column.histogram is None else
            {str(v.value): int(v.count) for v in column.histogram},
        }
        if hasattr(column, "mean"):
            entry.update(mean=_number(column.mean), minimum=_number(column.minimum),
                         maximum=_number(column.maximum), sum=_number(column.sum),
                         std_dev=_number(column.stdDev), kll=_kll(java))
        columns[name] = entry
    return {"num_records": int(result.numRecords), "spark_jobs": jobs, "columns": columns}


def _kll(java_profile: Any) -> dict[str, Any] | None:
    """The KLL sketch of a numeric profile: parameters, the levels' items and Deequ's buckets."""
    option = java_profile.kll()
    if option.isEmpty():
        return None
    distribution = option.get()
    buckets = distribution.buckets()
    out_buckets = []
    for i in range(buckets.size()):
        bucket = buckets.apply(i)
        out_buckets.append({"lower_bound": float(bucket.lowValue()), "upper_bound": float(bucket.highValue()),
                            "count": float(bucket.count())})
    parameters = distribution.parameters()
    data = distribution.data()
    levels = [[float(data[h][i]) for i in range(len(data[h]))] for h in range(len(data))]
    return {"c": float(parameters.apply(0)), "k": int(parameters.apply(1)), "levels": levels, "buckets": out_buckets}


def suggest(spark: Any, df: Any) -> list[dict[str, Any]]:
    """ConstraintSuggestionRunner with Deequ's DEFAULT rules: per suggestion its column, rule, the
    constraint text and the Scala code Deequ would write for it."""
    use_spark_version(spark)
    from pydeequ.suggestions import DEFAULT, ConstraintSuggestionRunner

    result = ConstraintSuggestionRunner(spark).onData(df).addConstraintRule(DEFAULT()).run()
    return [{"column": s["column_name"], "rule": s["rule_description"], "constraint": s["constraint_name"],
             "current_value": s["current_value"], "code": s["code_for_constraint"]}
            for s in result["constraint_suggestions"]]


def _assertion(check: dict[str, Any]) -> Callable[[float], bool] | None:
    given = check.get("assertion")
    if given is None:
        return None
    return lambda metric: holds(given, metric)


def _add_constraint(target: Any, check: dict[str, Any]) -> Any:
    """One `deequ_checks` entry (validated by `monitor_service.deequ.checks`) as a pydeequ Check call."""
    from pydeequ.checks import ConstrainableDataTypes

    name, method = check["check"], getattr(target, check["check"])
    columns = [check["column"]] if "column" in check else list(check.get("columns") or [])
    assertion = _assertion(check)
    if name == "hasSize":
        return method(assertion)
    if name == "satisfies":
        return method(check["expression"], check.get("name") or check["expression"], assertion)
    if name == "hasPattern":
        return method(columns[0], check["pattern"], assertion, check.get("name"))
    if name == "hasDataType":
        return method(columns[0], getattr(ConstrainableDataTypes, check["datatype"]), assertion)
    if name == "isContainedIn":
        return method(columns[0], check["allowed_values"], assertion)
    if name == "hasApproxQuantile":
        return method(columns[0], check["quantile"], assertion)
    if name in ("isComplete", "isUnique"):
        return method(columns[0])
    if name == "isPrimaryKey":
        return method(columns[0], *columns[1:])
    if name in ("areComplete", "areAnyComplete"):
        return method(columns)
    if name in ("haveCompleteness", "haveAnyCompleteness", "hasUniqueness", "hasDistinctness",
                "hasUniqueValueRatio"):
        return method(columns, assertion)
    if name in ("hasMutualInformation", "hasCorrelation"):
        return method(columns[0], columns[1], assertion)
    if name in ("isLessThan", "isLessThanOrEqualTo", "isGreaterThan", "isGreaterThanOrEqualTo"):
        return method(columns[0], columns[1], assertion)
    if assertion is None:  # containsEmail, isNonNegative, ... with their default (ratio 1)
        return method(columns[0])
    return method(columns[0], assertion)


def verify(spark: Any, df: Any, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the checks through VerificationSuite, one Deequ Check per entry (its level the entry's
    severity); per entry its status and Deequ's constraint messages."""
    use_spark_version(spark)
    from pydeequ.checks import Check, CheckLevel
    from pydeequ.verification import VerificationResult, VerificationSuite

    suite = VerificationSuite(spark).onData(df)
    for index, check in enumerate(checks):
        level = CheckLevel.Error if check.get("severity") == "error" else CheckLevel.Warning
        suite = suite.addCheck(_add_constraint(Check(spark, level, f"deequ_checks[{index}]"), check))
    result = suite.run()
    rows = VerificationResult.checkResultsAsDataFrame(spark, result).collect()
    out: list[dict[str, Any]] = [{"index": i, "status": "Success", "constraints": []} for i in range(len(checks))]
    for row in rows:
        entry = out[int(row["check"].removeprefix("deequ_checks[").removesuffix("]"))]
        entry["constraints"].append({"constraint": row["constraint"], "status": row["constraint_status"],
                                     "message": row["constraint_message"] or ""})
        if row["constraint_status"] != "Success":
            entry["status"] = row["check_status"]
    return out


def _strategy(spark: Any, strategy: dict[str, Any]) -> Any:
    from pydeequ import anomaly_detection as strategies

    arguments = {k: v for k, v in strategy.items() if k != "strategy"}
    if strategy["strategy"] == "HoltWinters":
        arguments = {"metricsInterval": strategies.MetricInterval[arguments["metricsInterval"]],
                     "seasonality": strategies.SeriesSeasonality[arguments["seasonality"]]}
    return getattr(strategies, strategy["strategy"])(**arguments)._set_jvm(spark._jvm)._anomaly_jvm


def detect(spark: Any, series: list[float], strategy: dict[str, Any]) -> list[dict[str, Any]]:
    """Deequ's strategy.detect over history + current value, asking about the last point only (as
    Deequ's AnomalyDetector does for a new metric): the anomalies found, with Deequ's detail text."""
    use_spark_version(spark)
    jvm = spark._jvm
    values = jvm.java.util.ArrayList()
    for value in series:
        values.add(jvm.java.lang.Double(float(value)))
    vector = jvm.scala.collection.JavaConverters.asScalaBufferConverter(values).asScala().toVector()
    found = _strategy(spark, strategy).detect(vector, jvm.scala.Tuple2(len(series) - 1, len(series)))
    out = []
    for i in range(found.size()):
        pair = found.apply(i)
        anomaly = pair._2()
        value = anomaly.value()
        detail = anomaly.detail()
        out.append({"index": int(pair._1()), "value": None if value.isEmpty() else float(value.get()),
                    "confidence": float(anomaly.confidence()),
                    "detail": "" if detail.isEmpty() else str(detail.get())})
    return out


def run(spark: Any, request: dict[str, Any], load: Callable[[dict[str, Any]], Any]) -> Any:
    """Dispatch one request (`op`: profile, suggest, profile_and_suggest, verify, detect); `load`
    turns the request's data reference into a DataFrame (a Parquet folder in the sidecar)."""
    op = request["op"]
    if op == "detect":
        return [detect(spark, item["series"], item["strategy"]) for item in request["items"]]
    df = load(request)
    if op == "verify":
        return verify(spark, df, request["checks"])
    if op == "profile":
        return profile(spark, df)
    if op == "profile_and_suggest":
        df = df.cache()
        try:
            profiled = profile(spark, df)
            suggestions, jobs = _counted(spark, "deequ-suggest", lambda: suggest(spark, df))
            return {"profile": profiled, "suggestions": suggestions, "suggest_spark_jobs": jobs}
        finally:
            df.unpersist()
    if op == "suggest":
        return suggest(spark, df)
    raise ValueError(f"unknown Deequ request {json.dumps(op)}")
