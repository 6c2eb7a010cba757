"""Model-quality metrics at scale: Spark reduces a window to small aggregates, Python finishes.

Only aggregates reach the driver:
- classification: counts per (state, score, prediction, label), i.e. a confusion matrix and,
  for binary problems with a probability attribute, a histogram of scores;
- regression: counts, sums of absolute and squared errors, and the label variance (Spark's
  numerically stable `var_pop`).

Each record also belongs (or not) to five 80 % subsamples, decided by hashing what identifies
it (see `row_key`), so the five extra sets of aggregates behind SageMaker's `standard_deviation`
come from the same pass and are reproducible: the same data gives the same numbers however it
is split into files and partitions.

Exactness of the curves and AUC: when the window has at most `MAX_EXACT_GROUPS` distinct
(score, prediction, label) combinations every distinct probability keeps its own entry and AUC
equals scikit-learn's `roc_auc_score` up to float rounding. Larger windows are re-grouped into
`GRID_BINS` equal-width score cells; records in one cell are treated as tied, which moves AUC
by at most half the share of positive/negative pairs that share a cell (reported as
`auc_max_grid_error` in summary.json, typically < 1e-4; counts and other metrics stay exact).

Record states: `labelled` (prediction and label usable), `unlabelled` (no ground truth yet:
counted, and estimated by CBPE), `invalid_inference`, `invalid_probability`, `invalid_label`
(a value is missing or not of the problem's kind, e.g. a binary label other than 0/1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

from monitor_service.errors import InputError
from monitor_service.monitors.model_quality.binary import BinaryCounts, BinaryInputs
from monitor_service.monitors.model_quality.cbpe import Calibration, estimate_inputs
from monitor_service.monitors.model_quality.curves import ScoreHistogram, tie_error_bound
from monitor_service.monitors.model_quality.multiclass import MulticlassInputs
from monitor_service.monitors.model_quality.problem import (
    NEGATIVE_LABEL,
    POSITIVE_LABEL,
    ModelQualityAttributes,
    normalize_locator,
)
from monitor_service.monitors.model_quality.regression import RegressionInputs
from monitor_service.monitors.model_quality.statistics import SUBSAMPLE_FRACTION, SUBSAMPLES

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MAX_EXACT_GROUPS = 50_000
GRID_BINS = 10_000
MAX_CLASS_PAIRS = 10_000
_HASH_RANGE = 1_000_000
WEIGHTS = ["n", *[f"n{k}" for k in range(SUBSAMPLES)]]


def field(fields: str | Column, name: str) -> Column:
    """The value of the field `name` in an `array<struct<name, value>>` column (null if absent).

    Same result as `element_at(map_from_entries(fields), name)`, without failing on duplicate
    names and without building a map per row.
    """
    from pyspark.sql import functions as F

    arr = F.col(fields) if isinstance(fields, str) else fields
    return F.try_element_at(F.filter(arr, lambda f: f["name"] == F.lit(name)), F.lit(1))["value"]


def locate(fields: str, locator: str | None) -> Column:
    """The value a SageMaker locator points at; no locator means the record's first value."""
    from pyspark.sql import functions as F

    if locator is None:
        return F.try_element_at(F.col(fields), F.lit(1))["value"]
    return F.coalesce(*[field(fields, name) for name in normalize_locator(locator)])


def canonical_label(value: Column) -> Column:
    """Labels compared as text, with numbers and booleans normalised ("1.0" -> "1", "true" -> "1")."""
    from pyspark.sql import functions as F

    text = F.trim(value)
    number = text.try_cast("double")
    integral = number.isNotNull() & (number == F.floor(number)) & (F.abs(number) < 1e15)
    return (
        F.when(value.isNull() | (text == ""), F.lit(None).cast("string"))
        .when(F.lower(text) == "true", F.lit(POSITIVE_LABEL))
        .when(F.lower(text) == "false", F.lit(NEGATIVE_LABEL))
        .when(integral, number.cast("bigint").cast("string"))
        .when(number.isNotNull(), number.cast("string"))
        .otherwise(text)
    )


def row_key(event_ids: bool) -> Column:
    """A per-record id for subsample membership that depends on the data only.

    Captures (`event_ids`): the event id and record index (a capture without an event id hashes
    its fields instead). Plain datasets have no ids: the record's fields and its occurrence
    number among identical records; identical records are interchangeable, so which copy gets
    which number changes no aggregate. File names are left out on purpose: fsspec inputs are
    read from temporary copies whose names change from run to run.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if event_ids:
        no_event = F.col("event_id").isNull()
        return F.xxhash64(F.col("event_id"), F.col("record_index"), F.when(no_event, F.col("fields")))
    copies = Window.partitionBy("fields").orderBy("fields")
    return F.xxhash64(F.col("fields"), F.row_number().over(copies))


def in_subsample(key: Column, k: int) -> Column:
    """Bernoulli(0.8) membership of subsample k, from a hash (same record, same answer)."""
    from pyspark.sql import functions as F

    cutoff = int(SUBSAMPLE_FRACTION * _HASH_RANGE)
    return F.pmod(F.xxhash64(F.lit(k), key), F.lit(_HASH_RANGE)) < F.lit(cutoff)


def prepare(
    df: DataFrame, attrs: ModelQualityAttributes, truth_fields: str = "fields", event_ids: bool = True
) -> DataFrame:
    """Columns `state`, `prediction`, `label`, `score` and subsample flags `s0..s4`.

    `truth_fields` is `fields` when labels are in the records themselves (baseline datasets)
    and `gt_fields` after a merge with ground truth (null there means: no label yet).
    `event_ids`: the records are captures, identified by event id (see `row_key`).
    """
    from pyspark.sql import functions as F

    regression = attrs.problem_type == "Regression"
    binary = attrs.problem_type == "BinaryClassification"
    truth_raw = locate(truth_fields, attrs.ground_truth_attribute)
    has_truth = F.col(truth_fields).isNotNull()
    if regression:
        label = truth_raw.try_cast("double")
        prediction = locate("fields", attrs.inference_attribute).try_cast("double")
        score = F.lit(None).cast("double")
    else:
        label = canonical_label(truth_raw)
        score = (
            locate("fields", attrs.probability_attribute).try_cast("double")
            if attrs.probability_attribute
            else F.lit(None).cast("double")
        )
        if attrs.inference_attribute is not None:
            prediction = canonical_label(locate("fields", attrs.inference_attribute))
        else:
            prediction = F.when(score >= attrs.probability_threshold, F.lit(POSITIVE_LABEL)).otherwise(
                F.when(score.isNotNull(), F.lit(NEGATIVE_LABEL))
            )
    classes = [POSITIVE_LABEL, NEGATIVE_LABEL]
    bad_prediction = prediction.isNull() | (~prediction.isin(classes) if binary else F.lit(False))
    bad_label = label.isNull() | (~label.isin(classes) if binary else F.lit(False))
    checks: list[tuple[Column, str]] = []
    if attrs.probability_attribute and not regression:
        checks.append((score.isNull() | F.isnan(score), "invalid_probability"))
    checks += [(bad_prediction, "invalid_inference"), (~has_truth, "unlabelled"), (bad_label, "invalid_label")]
    state = F.lit("labelled")
    for condition, name in reversed(checks):  # the first matching check names the state
        state = F.when(condition, F.lit(name)).otherwise(state)
    key = row_key(event_ids)
    usable = F.col("state").isin("labelled", "unlabelled")
    return df.select(
        state.alias("state"),
        prediction.alias("prediction"),
        label.alias("label"),
        score.alias("score"),
        *[in_subsample(key, k).alias(f"s{k}") for k in range(SUBSAMPLES)],
    ).select(
        "state",
        F.when(usable, F.col("prediction")).alias("prediction"),
        F.when(F.col("state") == "labelled", F.col("label")).alias("label"),
        F.when(usable, F.col("score")).alias("score"),
        *[f"s{k}" for k in range(SUBSAMPLES)],
    )


@dataclass
class WindowAggregates:
    """Everything the metric registry needs for one window, plus what happened to each record."""

    problem_type: str
    states: dict[str, int]
    full: Any = None
    subsamples: list[Any] = dataclass_field(default_factory=list)
    # CBPE: (score, predicted positive, weight) rows of unlabelled records, full and per subsample.
    unlabelled_scores: list[list[tuple[float, bool, float]]] = dataclass_field(default_factory=list)
    auc_max_grid_error: float | None = None

    @property
    def labelled(self) -> int:
        return self.states.get("labelled", 0)

    @property
    def unlabelled(self) -> int:
        return self.states.get("unlabelled", 0)

    @property
    def records(self) -> int:
        return sum(self.states.values())

    def estimate(self, calibration: Calibration) -> tuple[BinaryInputs, list[BinaryInputs]]:
        """CBPE inputs for the unlabelled records, full window and each subsample."""
        full, *subs = (estimate_inputs(rows, calibration) for rows in self.unlabelled_scores)
        return full, subs


def aggregate(prepared: DataFrame, attrs: ModelQualityAttributes) -> WindowAggregates:
    """Reduce a prepared window to the inputs of every metric (one Spark pass, small results)."""
    if attrs.problem_type == "Regression":
        return _regression(prepared)
    if attrs.problem_type == "MulticlassClassification":
        return _multiclass(prepared)
    return _binary(prepared, with_scores=attrs.probability_attribute is not None)


def _weight_sums() -> list[Column]:
    from pyspark.sql import functions as F

    return [
        F.count(F.lit(1)).alias("n"),
        *[F.sum(F.col(f"s{k}").cast("long")).alias(f"n{k}") for k in range(SUBSAMPLES)],
    ]


def _states(rows: list[Any]) -> dict[str, int]:
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + int(row["n"])
    return states


def _binary(prepared: DataFrame, with_scores: bool) -> WindowAggregates:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    grouped = prepared.groupBy("state", "score", "prediction", "label").agg(*_weight_sums())
    grouped.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        rows = grouped.limit(MAX_EXACT_GROUPS + 1).collect()
        binned = len(rows) > MAX_EXACT_GROUPS
        if binned:
            bounds = grouped.agg(F.min("score").alias("lo"), F.max("score").alias("hi")).first()
            assert bounds is not None
            lo, hi = float(bounds["lo"]), float(bounds["hi"])
            width = (hi - lo) / GRID_BINS or 1.0
            cell = F.least(F.floor((F.col("score") - lo) / width), F.lit(GRID_BINS - 1))
            upper = F.least(F.lit(lo) + (cell + 1) * width, F.lit(hi)).alias("score")
            rows = (
                grouped.groupBy("state", upper, "prediction", "label")
                .agg(*[F.sum(w).alias(w) for w in WEIGHTS])
                .collect()
            )
    finally:
        grouped.unpersist()
    out = WindowAggregates("BinaryClassification", _states(rows))
    labelled = [r for r in rows if r["state"] == "labelled"]
    unlabelled = [r for r in rows if r["state"] == "unlabelled" and r["score"] is not None]
    if labelled:
        inputs = [_binary_inputs(labelled, w, with_scores) for w in WEIGHTS]
        out.full, out.subsamples = inputs[0], inputs[1:]
        if binned and inputs[0].scores is not None:
            out.auc_max_grid_error = tie_error_bound(inputs[0].scores)
    if with_scores and unlabelled:
        out.unlabelled_scores = [
            [(float(r["score"]), r["prediction"] == POSITIVE_LABEL, float(r[w] or 0)) for r in unlabelled]
            for w in WEIGHTS
        ]
    return out


def _binary_inputs(rows: list[Any], weight: str, with_scores: bool) -> BinaryInputs:
    cells = {(p, t): 0.0 for p in (POSITIVE_LABEL, NEGATIVE_LABEL) for t in (POSITIVE_LABEL, NEGATIVE_LABEL)}
    hist_rows = []
    for r in rows:
        w = float(r[weight] or 0)
        cells[(r["prediction"], r["label"])] += w
        if with_scores:
            positive = r["label"] == POSITIVE_LABEL
            hist_rows.append((float(r["score"]), w if positive else 0.0, 0.0 if positive else w))
    pos, neg = POSITIVE_LABEL, NEGATIVE_LABEL
    counts = BinaryCounts(tp=cells[(pos, pos)], fp=cells[(pos, neg)], fn=cells[(neg, pos)], tn=cells[(neg, neg)])
    return BinaryInputs(counts, ScoreHistogram.from_rows(hist_rows) if with_scores else None)


def _multiclass(prepared: DataFrame) -> WindowAggregates:
    rows = prepared.groupBy("state", "prediction", "label").agg(*_weight_sums()).limit(MAX_CLASS_PAIRS + 1).collect()
    if len(rows) > MAX_CLASS_PAIRS:
        raise InputError(
            f"more than {MAX_CLASS_PAIRS} (prediction, label) pairs in a multiclass window",
            hint="check --inference-attribute/--ground-truth-attribute, or use Regression",
        )
    out = WindowAggregates("MulticlassClassification", _states(rows))
    labelled = [r for r in rows if r["state"] == "labelled"]
    if labelled:
        inputs = []
        for w in WEIGHTS:
            confusion: dict[str, dict[str, float]] = {}
            for r in labelled:
                row = confusion.setdefault(r["label"], {})
                row[r["prediction"]] = row.get(r["prediction"], 0.0) + float(r[w] or 0)
            inputs.append(MulticlassInputs(confusion))
        out.full, out.subsamples = inputs[0], inputs[1:]
    return out


def _regression(prepared: DataFrame) -> WindowAggregates:
    from pyspark.sql import functions as F

    error = F.col("prediction") - F.col("label")
    exprs = [
        F.count(F.when(F.col("state") == s, 1)).alias(f"state_{s}")
        for s in ("labelled", "unlabelled", "invalid_inference", "invalid_label")
    ]
    for i, member in enumerate([F.lit(True), *[F.col(f"s{k}") for k in range(SUBSAMPLES)]]):
        ok = (F.col("state") == "labelled") & member
        exprs += [
            F.count(F.when(ok, 1)).alias(f"n_{i}"),
            F.sum(F.when(ok, F.abs(error))).alias(f"abs_{i}"),
            F.sum(F.when(ok, error * error)).alias(f"sq_{i}"),
            F.var_pop(F.when(ok, F.col("label"))).alias(f"var_{i}"),
        ]
    row = prepared.agg(*exprs).first()
    assert row is not None
    states = {k[len("state_") :]: int(v) for k, v in row.asDict().items() if k.startswith("state_") and v}
    out = WindowAggregates("Regression", states)
    if out.labelled:
        inputs = []
        for i in range(SUBSAMPLES + 1):
            n = float(row[f"n_{i}"])
            var = row[f"var_{i}"]
            sst = float(var) * n if var is not None else math.nan
            inputs.append(
                RegressionInputs(
                    n=n,
                    sum_abs_error=float(row[f"abs_{i}"] or 0.0),
                    sum_squared_error=float(row[f"sq_{i}"] or 0.0),
                    total_sum_squares=sst,
                )
            )
        out.full, out.subsamples = inputs[0], inputs[1:]
    return out
