"""Explaining a window's rows on Spark: feature columns, a seeded sample, SHAP per partition.

1. `feature_rows` turns records (`fields`) into one double column per model feature and a row
   state: `ok`, `invalid_feature_value` (a value that is not a number) or
   `missing_feature_value` (absent or empty; kept as NaN with `keep_missing`). Rows that are not
   `ok` are counted and skipped, never a failure of the job.
2. `max_records` keeps the rows with the smallest seeded hash of the record: a uniform sample
   of exactly that size that does not depend on file or partition layout.
3. `explain` spreads the rows over the executors with `mapInPandas`; the model (its file's bytes,
   or the endpoint config) and the background are broadcast once, and each Python worker loads
   the model and builds its shap explainer once. Local SHAP values are persisted once and then
   aggregated with SQL (mean |φ|, exact median, mean φ²) and, if asked, streamed to out.csv.
"""

from __future__ import annotations

import csv
import io as _io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from monitor_service import io
from monitor_service.errors import InputError, JobError, ModelError
from monitor_service.monitors.model_explainability.background import Background
from monitor_service.monitors.model_explainability.explainers import BatchExplainer, ExplainerPlan
from monitor_service.predictor import EndpointConfig, HttpPredictor, ModelSource, Predictor, load_source

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

STATES = ("ok", "invalid_feature_value", "missing_feature_value")
_SEED_RANGE = 2**31 - 1
_WORKER_CACHE: dict[tuple[Any, ...], BatchExplainer] = {}
_WORKER_LOCK = threading.Lock()


def feature_column(i: int) -> str:
    return f"_f{i}"


def shap_column(label: int, feature: int) -> str:
    return f"_s{label}_{feature}"


@dataclass
class FeatureRows:
    """The window as model inputs, with what was skipped and why."""

    df: DataFrame  # _key, _seed, _f0.. of the `ok` rows
    available: int
    skipped: dict[str, int]
    _cached: DataFrame | None = None

    def release(self) -> None:
        if self._cached is not None:
            self._cached.unpersist()


def feature_rows(records: DataFrame, features: list[str], seed: int, keep_missing: bool) -> FeatureRows:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    def field(name: str) -> Any:  # the value of a named entry of the `fields` array<struct<name, value>>
        return F.try_element_at(F.filter(F.col("fields"), lambda f: f["name"] == F.lit(name)), F.lit(1))["value"]

    raw = [field(name) for name in features]
    values = [r.try_cast("double") for r in raw]
    blank = [r.isNull() | (F.trim(r) == "") for r in raw]
    invalid = F.lit(False)
    missing = F.lit(False)
    for v, b in zip(values, blank, strict=True):
        invalid = invalid | (~b & v.isNull())
        missing = missing | b
    state = F.when(invalid, F.lit("invalid_feature_value"))
    if not keep_missing:
        state = state.when(missing, F.lit("missing_feature_value"))
    key = F.xxhash64(F.lit(seed), F.col("event_id"), F.col("inference_id"), F.col("record_index"), F.col("fields"))
    frame = records.select(
        key.alias("_key"),
        F.pmod(F.xxhash64(F.lit(seed + 1), key), F.lit(_SEED_RANGE)).cast("int").alias("_seed"),
        state.otherwise(F.lit("ok")).alias("_state"),
        *[F.coalesce(v, F.lit(float("nan"))).alias(feature_column(i)) for i, v in enumerate(values)],
        *[(~b).cast("int").alias(f"_p{i}") for i, b in enumerate(blank)],
    ).persist(StorageLevel.MEMORY_AND_DISK)  # counted, sampled for the background and explained: parsed once
    counts = frame.agg(
        *[F.sum((F.col("_state") == s).cast("long")).alias(s) for s in STATES],
        *[F.sum(F.col(f"_p{i}")).alias(f"_p{i}") for i in range(len(features))],
    ).collect()[0]
    absent = [name for i, name in enumerate(features) if not counts[f"_p{i}"]]
    if absent:
        frame.unpersist()
        seen = records.select(F.explode(F.col("fields.name")).alias("n")).distinct().limit(50).collect()
        raise InputError(
            f"no record has a value for the model features {absent[:10]}; the records have {[r.n for r in seen]}",
            hint="name the features as the data does (analysis config headers, or --dataset-config input.names)",
        )
    skipped = {s: int(counts[s] or 0) for s in STATES[1:] if counts[s]}
    kept = ["_key", "_seed", *[feature_column(i) for i in range(len(features))]]
    ok = frame.where(F.col("_state") == "ok").select(*kept)
    return FeatureRows(ok, int(counts["ok"] or 0), skipped, frame)


def sample_rows(rows: FeatureRows, max_records: int | None) -> tuple[DataFrame, int]:
    """Exactly min(available, max_records) rows: those with the smallest seeded record hash."""
    if max_records is None or rows.available <= max_records:
        return rows.df, rows.available
    return rows.df.orderBy("_key").limit(max_records), max_records


def collect_matrix(df: DataFrame, width: int, limit: int) -> np.ndarray:
    """Up to `limit` rows as a float matrix (for a background computed from the data)."""
    picked = df.orderBy("_key").limit(limit).collect()
    return np.asarray([[r[feature_column(i)] for i in range(width)] for r in picked], dtype=float).reshape(-1, width)


@dataclass(frozen=True)
class ModelPayload:
    """What executors need to rebuild the predictor: a file's bytes or an endpoint config."""

    source: ModelSource | None
    endpoint: EndpointConfig | None
    feature_names: tuple[str, ...]

    def predictor(self) -> Predictor:
        if self.source is not None:
            return load_source(self.source)
        assert self.endpoint is not None
        return HttpPredictor(self.endpoint, feature_names=list(self.feature_names))

    def key(self) -> tuple[Any, ...]:
        return (self.source.digest if self.source else self.endpoint.model_dump_json(), self.feature_names)


def _worker_explainer(payload: ModelPayload, plan: ExplainerPlan, background: Background) -> BatchExplainer:
    key = (payload.key(), plan, background.rows.tobytes(), None if background.weights is None
           else background.weights.tobytes())
    with _WORKER_LOCK:
        cached = _WORKER_CACHE.get(key)
        if cached is None:
            if len(_WORKER_CACHE) >= 4:
                _WORKER_CACHE.clear()
            cached = _WORKER_CACHE[key] = BatchExplainer(payload.predictor(), plan, background)
    return cached


@dataclass
class LocalValues:
    """Local SHAP values of the explained rows, persisted until `release`."""

    df: DataFrame
    labels: int
    features: int

    def release(self) -> None:
        self.df.unpersist()


def explain(spark: SparkSession, rows: DataFrame, count: int, payload: ModelPayload, plan: ExplainerPlan,
            background: Background, features: int) -> LocalValues:
    from pyspark import StorageLevel
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    labels = len(plan.labels)
    schema = StructType([StructField("_key", LongType(), False)] + [
        StructField(shap_column(k, j), DoubleType(), True) for k in range(labels) for j in range(features)
    ])
    sc = spark.sparkContext
    payload_bc, background_bc = sc.broadcast(payload), sc.broadcast(background)
    columns = [feature_column(i) for i in range(features)]

    def explain_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd
        from threadpoolctl import threadpool_limits

        explainer = _worker_explainer(payload_bc.value, plan, background_bc.value)
        for batch in batches:
            if batch.empty:
                continue
            # One task is one core: a model runtime's own thread pool (OpenMP in LightGBM / XGBoost,
            # BLAS) would otherwise start a thread per core in every task and oversubscribe the machine.
            with threadpool_limits(limits=1):
                values = explainer.explain(batch[columns].to_numpy(dtype=float), batch["_seed"].to_numpy())
            out = {"_key": batch["_key"].to_numpy()}
            for k in range(labels):
                for j in range(features):
                    out[shap_column(k, j)] = values[:, j, k]
            yield pd.DataFrame(out)

    partitions = max(1, min(count, sc.defaultParallelism * (4 if plan.method == "kernel_shap" else 1)))
    local = rows.repartition(partitions).mapInPandas(explain_partition, schema).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        explained = local.count()
    except Exception as exc:
        local.unpersist()
        raise _worker_failure(exc) from None
    if explained != count:
        local.unpersist()
        raise ModelError(f"SHAP explained {explained} rows of the {count} sampled")
    return LocalValues(local, labels, features)


def _worker_failure(exc: Exception) -> Exception:
    """An error raised on an executor arrives as a traceback text: give a ModelError back its type,
    and anything else the exception line of the traceback instead of Spark's wrapper text."""
    text = str(exc)
    match = re.search(r"monitor_service\.errors\.ModelError: (.+)", text)
    if match:
        return ModelError(match.group(1).strip())
    lines = re.findall(r"^(\w[\w.]*(?:Error|Exception)): (.+)$", text, flags=re.MULTILINE)
    python = [(name, message) for name, message in lines if not name.startswith(("org.", "java.", "py4j."))]
    if python:
        name, message = python[-1]
        return JobError(f"explaining rows failed on an executor: {name}: {message.strip()}",
                        hint="this is a bug in monitor-service if the model and data are fine; the log has the details")
    return exc


def global_values(values: LocalValues, method: str) -> np.ndarray:
    """(labels, features) global values with Clarify's agg_method, computed by Spark."""
    from pyspark.sql import functions as F

    def agg(column: str) -> Any:
        c = F.col(column)
        if method == "mean_abs":
            return F.avg(F.abs(c))
        if method == "median":
            return F.percentile(c, F.lit(0.5))
        return F.avg(c * c)

    names = [shap_column(k, j) for k in range(values.labels) for j in range(values.features)]
    row = values.df.agg(*[agg(n).alias(n) for n in names]).collect()[0]
    return np.asarray([[float(row[shap_column(k, j)]) for j in range(values.features)]
                       for k in range(values.labels)])


def write_local_values(values: LocalValues, path: str, features: list[str], labels: list[str],
                       chosen: list[int]) -> None:
    """Clarify's explanations_shap/out.csv: one column per feature (`feature_label` with several labels)."""
    several = len(labels) > 1
    header = [f"{features[j]}_{labels[k]}" if several else features[j] for k in range(len(labels)) for j in chosen]
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    columns = [shap_column(k, j) for k in range(len(labels)) for j in chosen]
    for row in values.df.orderBy("_key").select(*columns).toLocalIterator():
        writer.writerow([repr(float(v)) for v in row])
    io.write_text_atomic(path, buffer.getvalue())
