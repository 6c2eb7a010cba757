"""The Spark aggregation end to end (prepare -> aggregate -> metric block) against scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from monitor_service.monitors.model_quality import spark_metrics as model_metrics
from monitor_service.monitors.model_quality.problem import ModelQualityAttributes
from monitor_service.monitors.model_quality.spark_metrics import aggregate, prepare
from monitor_service.monitors.model_quality.statistics import metric_block

pytestmark = pytest.mark.spark
TOL = 1e-9


def _collect(prepared: Any) -> list[Any]:
    return prepared.where("state = 'labelled'").collect()


def test_binary_metrics_and_standard_deviations(records: Callable[..., Any]) -> None:
    rng = np.random.default_rng(1)
    n = 400
    y = rng.integers(0, 2, n)
    score = np.round(np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1), 2)
    rows = [{"probability": f"{s:.2f}", "label": ["0", "1.0"][t]} for s, t in zip(score, y, strict=True)]
    rows += [{"probability": "abc", "label": "1"}, {"probability": "0.4", "label": "2"},
             {"probability": "0.4"}, {"probability": "0.9", "label": "true"}]
    attrs = ModelQualityAttributes(problem_type="BinaryClassification", probability_attribute="$.probability",
                                   ground_truth_attribute="label", probability_threshold=0.5)
    prepared = prepare(records(rows), attrs)
    agg = aggregate(prepared, attrs)
    assert agg.states == {"labelled": n + 1, "invalid_probability": 1, "invalid_label": 2}
    block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
    y_all, s_all = np.append(y, 1), np.append(score, 0.9)
    pred = (s_all >= 0.5).astype(int)
    assert block["auc"]["value"] == pytest.approx(skm.roc_auc_score(y_all, s_all), abs=TOL)
    assert block["f2"]["value"] == pytest.approx(skm.fbeta_score(y_all, pred, beta=2), abs=TOL)
    assert block["precision"]["value"] == pytest.approx(skm.precision_score(y_all, pred), abs=TOL)
    assert block["accuracy"]["value"] == pytest.approx(skm.accuracy_score(y_all, pred), abs=TOL)
    # The subsamples are the records flagged s0..s4; recompute each metric there with sklearn.
    labelled = _collect(prepared)
    for name, fn in (("auc", lambda t, s, p: skm.roc_auc_score(t, s)),
                     ("recall", lambda t, s, p: skm.recall_score(t, p)),
                     ("f0_5", lambda t, s, p: skm.fbeta_score(t, p, beta=0.5))):
        values = []
        for k in range(5):
            member = [r for r in labelled if r[f"s{k}"]]
            t = np.array([int(r["label"]) for r in member])
            s = np.array([r["score"] for r in member])
            values.append(fn(t, s, (s >= 0.5).astype(int)))
        assert block[name]["standard_deviation"] == pytest.approx(float(np.std(values)), abs=TOL), name
    sizes = [sum(r[f"s{k}"] for r in labelled) / len(labelled) for k in range(5)]
    assert all(0.7 < f < 0.9 for f in sizes)


def test_binary_from_inference_attribute_without_probability(records: Callable[..., Any]) -> None:
    rows = [{"_c0": p, "_c1": "x", "label": t} for p, t in
            [("1", "1"), ("0", "1"), ("1", "0"), ("0", "0"), ("1", "1"), ("yes", "1")]]
    attrs = ModelQualityAttributes(problem_type="BinaryClassification", inference_attribute="0",
                                   ground_truth_attribute="label")
    agg = aggregate(prepare(records(rows), attrs), attrs)
    assert agg.states == {"labelled": 5, "invalid_inference": 1}
    block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
    assert "auc" not in block and "precision_recall_curve" not in block
    assert block["recall"]["value"] == pytest.approx(skm.recall_score([1, 1, 0, 0, 1], [1, 0, 1, 0, 1]))


def test_auc_on_a_grid_for_many_distinct_scores(records: Callable[..., Any], monkeypatch: Any) -> None:
    monkeypatch.setattr(model_metrics, "MAX_EXACT_GROUPS", 100)
    monkeypatch.setattr(model_metrics, "GRID_BINS", 2000)
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, 3000)
    score = rng.beta(2 + 2 * y, 3)
    rows = [{"p": repr(float(s)), "y": str(t)} for s, t in zip(score, y, strict=True)]
    attrs = ModelQualityAttributes(problem_type="BinaryClassification", probability_attribute="p",
                                   ground_truth_attribute="y")
    agg = aggregate(prepare(records(rows), attrs), attrs)
    block = metric_block(attrs.problem_type, agg.full, [], agg.labelled)
    exact = skm.roc_auc_score(y, score)
    assert agg.auc_max_grid_error is not None and agg.auc_max_grid_error < 1e-3
    assert abs(block["auc"]["value"] - exact) <= agg.auc_max_grid_error + 1e-12
    pred = (score >= 0.5).astype(int)
    assert block["f1"]["value"] == pytest.approx(skm.f1_score(y, pred), abs=TOL)  # counts stay exact


def test_binary_groups_are_collected_without_a_count_pass(records: Callable[..., Any], monkeypatch: Any) -> None:
    """Exact up to MAX_EXACT_GROUPS (score, prediction, label) groups, on a grid above; no count() job."""
    rows = [{"p": f"{i / 10:.1f}", "y": str(i % 2)} for i in range(10)]  # 10 groups
    attrs = ModelQualityAttributes(problem_type="BinaryClassification", probability_attribute="p",
                                   ground_truth_attribute="y")
    prepared = prepare(records(rows), attrs)

    def no_count(self: Any) -> int:
        raise AssertionError("count() is a Spark job of its own")

    monkeypatch.setattr(type(prepared), "count", no_count)
    monkeypatch.setattr(model_metrics, "MAX_EXACT_GROUPS", 10)
    exact = aggregate(prepared, attrs)
    assert exact.auc_max_grid_error is None and exact.labelled == 10
    monkeypatch.setattr(model_metrics, "MAX_EXACT_GROUPS", 9)
    binned = aggregate(prepared, attrs)
    assert binned.auc_max_grid_error is not None and binned.labelled == 10


def test_multiclass_against_sklearn(records: Callable[..., Any]) -> None:
    rng = np.random.default_rng(2)
    classes = np.array(["1", "2", "3"])
    y = classes[rng.choice(3, 300, p=[0.6, 0.3, 0.1])]
    pred = np.where(rng.uniform(size=300) < 0.7, y, classes[rng.integers(0, 3, 300)])
    rows = [{"predicted": p + ".0", "actual": t} for p, t in zip(pred, y, strict=True)]
    attrs = ModelQualityAttributes(problem_type="MulticlassClassification", inference_attribute="predicted",
                                   ground_truth_attribute="actual")
    agg = aggregate(prepare(records(rows), attrs), attrs)
    block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
    assert block["weighted_f1"]["value"] == pytest.approx(skm.f1_score(y, pred, average="weighted"), abs=TOL)
    assert block["weighted_precision"]["value"] == pytest.approx(
        skm.precision_score(y, pred, average="weighted"), abs=TOL)
    assert block["accuracy"]["value"] == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)
    assert block["confusion_matrix"]["1"]["2"] == int(np.sum((y == "1") & (pred == "2")))
    assert isinstance(block["weighted_f1"]["standard_deviation"], float)


def test_regression_against_sklearn(records: Callable[..., Any]) -> None:
    rng = np.random.default_rng(6)
    y = rng.normal(1e3, 5, 250)
    pred = y + rng.normal(0, 2, 250)
    rows = [{"score": repr(float(p)), "target": repr(float(t))} for p, t in zip(pred, y, strict=True)]
    rows.append({"score": "n/a", "target": "1"})
    attrs = ModelQualityAttributes(problem_type="Regression", inference_attribute="score",
                                   ground_truth_attribute="target")
    agg = aggregate(prepare(records(rows), attrs), attrs)
    assert agg.states == {"labelled": 250, "invalid_inference": 1}
    block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
    assert block["mae"]["value"] == pytest.approx(skm.mean_absolute_error(y, pred), abs=TOL)
    assert block["mse"]["value"] == pytest.approx(skm.mean_squared_error(y, pred), abs=TOL)
    assert block["rmse"]["value"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)), abs=TOL)
    assert block["r2"]["value"] == pytest.approx(skm.r2_score(y, pred), abs=TOL)
    assert block["r2"]["standard_deviation"] > 0
