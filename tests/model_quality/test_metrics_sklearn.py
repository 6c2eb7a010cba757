"""Every model-quality metric against scikit-learn, from the aggregates the Spark job produces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from monitor_service.monitors.model_quality import METRICS
from monitor_service.monitors.model_quality.binary import BinaryCounts, BinaryInputs
from monitor_service.monitors.model_quality.curves import ScoreHistogram, pr_curve, roc_auc, roc_curve
from monitor_service.monitors.model_quality.multiclass import MulticlassInputs
from monitor_service.monitors.model_quality.regression import RegressionInputs
from monitor_service.monitors.model_quality.statistics import metric_block

TOL = 1e-9


def binary_inputs(y: np.ndarray, pred: np.ndarray, score: np.ndarray | None) -> BinaryInputs:
    counts = BinaryCounts(tp=float(np.sum((pred == 1) & (y == 1))), fp=float(np.sum((pred == 1) & (y == 0))),
                          fn=float(np.sum((pred == 0) & (y == 1))), tn=float(np.sum((pred == 0) & (y == 0))))
    hist = None
    if score is not None:
        rows = [(float(s), float(t == 1), float(t == 0)) for s, t in zip(score, y, strict=True)]
        hist = ScoreHistogram.from_rows(rows)
    return BinaryInputs(counts, hist)


def sklearn_binary(y: np.ndarray, pred: np.ndarray, score: np.ndarray | None) -> dict[str, float]:
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    const = np.ones_like(y)
    out = {
        "recall": skm.recall_score(y, pred, zero_division=0),
        "precision": skm.precision_score(y, pred, zero_division=0),
        "accuracy": skm.accuracy_score(y, pred),
        "recall_best_constant_classifier": skm.recall_score(y, const, zero_division=0),
        "precision_best_constant_classifier": skm.precision_score(y, const, zero_division=0),
        "accuracy_best_constant_classifier": skm.accuracy_score(y, const),
        "true_positive_rate": skm.recall_score(y, pred, zero_division=0),
        "true_negative_rate": skm.recall_score(y, pred, pos_label=0, zero_division=0),
        "false_positive_rate": fp / (fp + tn),
        "false_negative_rate": fn / (fn + tp),
    }
    for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
        out[name] = skm.fbeta_score(y, pred, beta=beta, zero_division=0)
        out[f"{name}_best_constant_classifier"] = skm.fbeta_score(y, const, beta=beta, zero_division=0)
    if score is not None:
        out["auc"] = skm.roc_auc_score(y, score)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    score = np.clip(np.round(0.35 * y + rng.uniform(0, 0.65, 500), 2), 0, 1)  # few distinct values: ties
    pred = (score >= 0.5).astype(int)
    block = metric_block("BinaryClassification", binary_inputs(y, pred, score), [], len(y))
    expected = sklearn_binary(y, pred, score)
    for name, value in expected.items():
        assert block[name]["value"] == pytest.approx(value, abs=TOL), name
    assert block["confusion_matrix"] == {
        "0": {"0": int(np.sum((y == 0) & (pred == 0))), "1": int(np.sum((y == 0) & (pred == 1)))},
        "1": {"0": int(np.sum((y == 1) & (pred == 0))), "1": int(np.sum((y == 1) & (pred == 1)))},
    }
    scalar_names = [m.name for m in METRICS["BinaryClassification"] if m.scalar]
    assert sorted(scalar_names) == sorted(expected)


def test_roc_and_pr_curves_follow_mllib_points_and_match_sklearn() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 300)
    score = np.round(rng.uniform(0, 1, 300) * 0.6 + 0.4 * y, 1)
    hist = ScoreHistogram.from_rows([(float(s), float(t), float(1 - t)) for s, t in zip(score, y, strict=True)])
    fpr, tpr, _ = skm.roc_curve(y, score, drop_intermediate=False)
    roc = roc_curve(hist)
    # sklearn: (0,0) then one point per distinct threshold; MLlib adds a closing (1,1).
    np.testing.assert_allclose(roc["false_positive_rates"], [*fpr, 1.0], atol=TOL)
    np.testing.assert_allclose(roc["true_positive_rates"], [*tpr, 1.0], atol=TOL)
    precision, recall, _ = skm.precision_recall_curve(y, score)
    pr = pr_curve(hist)
    # sklearn lists thresholds ascending and ends with (recall 0, precision 1); MLlib starts at
    # recall 0 with the precision of the highest threshold.
    np.testing.assert_allclose(pr["recalls"][1:], recall[:-1][::-1], atol=TOL)
    np.testing.assert_allclose(pr["precisions"][1:], precision[:-1][::-1], atol=TOL)
    assert pr["recalls"][0] == 0.0 and pr["precisions"][0] == pytest.approx(precision[-2])
    assert roc_auc(hist) == pytest.approx(skm.roc_auc_score(y, score), abs=TOL)


def test_auc_is_nan_with_one_class_and_curves_are_thinned() -> None:
    one_class = ScoreHistogram.from_rows([(0.1, 1.0, 0.0), (0.9, 2.0, 0.0)])
    assert math.isnan(roc_auc(one_class))
    many = ScoreHistogram.from_rows([(i / 5000, float(i % 2), float(1 - i % 2)) for i in range(5000)])
    assert len(roc_curve(many)["true_positive_rates"]) <= 1002
    assert len(pr_curve(many)["recalls"]) <= 1001


def test_multiclass_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(3)
    labels = np.array(["2", "10", "cat"])
    y = labels[rng.choice(3, 400, p=[0.5, 0.3, 0.2])]
    pred = np.where(rng.uniform(size=400) < 0.6, y, labels[rng.integers(0, 3, 400)])
    pred[:5] = "dog"  # a class that is predicted but never true (weight 0)
    confusion: dict[str, dict[str, float]] = {}
    for t, p in zip(y, pred, strict=True):
        confusion.setdefault(str(t), {}).setdefault(str(p), 0.0)
        confusion[str(t)][str(p)] += 1
    block = metric_block("MulticlassClassification", MulticlassInputs(confusion), [], len(y))
    expected = {"accuracy": skm.accuracy_score(y, pred)}
    for name, fn in (("weighted_recall", skm.recall_score), ("weighted_precision", skm.precision_score)):
        expected[name] = fn(y, pred, average="weighted", zero_division=0)
    for beta, name in ((0.5, "weighted_f0_5"), (1.0, "weighted_f1"), (2.0, "weighted_f2")):
        expected[name] = skm.fbeta_score(y, pred, beta=beta, average="weighted", zero_division=0)
    rare = "cat"  # least frequent true class
    const = np.full_like(y, rare)
    expected["accuracy_best_constant_classifier"] = skm.accuracy_score(y, const)
    expected["weighted_recall_best_constant_classifier"] = skm.recall_score(y, const, average="weighted",
                                                                            zero_division=0)
    expected["weighted_precision_best_constant_classifier"] = skm.precision_score(y, const, average="weighted",
                                                                                  zero_division=0)
    for beta, name in ((0.5, "weighted_f0_5"), (1.0, "weighted_f1"), (2.0, "weighted_f2")):
        expected[f"{name}_best_constant_classifier"] = skm.fbeta_score(y, const, beta=beta, average="weighted",
                                                                       zero_division=0)
    for name, value in expected.items():
        assert block[name]["value"] == pytest.approx(value, abs=TOL), name
    order = ["2", "10", "cat", "dog"]
    assert list(block["confusion_matrix"]) == order
    cm = skm.confusion_matrix(y, pred, labels=order)
    assert [[block["confusion_matrix"][a][p] for p in order] for a in order] == cm.tolist()


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(50, 10, 300)
    pred = y + rng.normal(0, 3, 300)
    err = pred - y
    inputs = RegressionInputs(n=300, sum_abs_error=float(np.abs(err).sum()), sum_squared_error=float((err**2).sum()),
                              total_sum_squares=float(np.var(y) * 300))
    block = metric_block("Regression", inputs, [], 300)
    assert block["mae"]["value"] == pytest.approx(skm.mean_absolute_error(y, pred), abs=TOL)
    assert block["mse"]["value"] == pytest.approx(skm.mean_squared_error(y, pred), abs=TOL)
    assert block["rmse"]["value"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, pred)), abs=TOL)
    assert block["r2"]["value"] == pytest.approx(skm.r2_score(y, pred), abs=TOL)
    constant = RegressionInputs(n=3, sum_abs_error=1.0, sum_squared_error=1.0, total_sum_squares=0.0)
    assert metric_block("Regression", constant, [], 3)["r2"]["value"] == skm.r2_score([1, 1, 1], [1, 1, 2])


def test_standard_deviation_rule() -> None:
    full = RegressionInputs(n=250, sum_abs_error=250.0, sum_squared_error=500.0, total_sum_squares=1000.0)
    subs = [RegressionInputs(n=200, sum_abs_error=200.0 + 10 * k, sum_squared_error=400.0, total_sum_squares=800.0)
            for k in range(5)]
    block = metric_block("Regression", full, subs, 250)
    maes = [(200.0 + 10 * k) / 200 for k in range(5)]
    assert block["mae"]["standard_deviation"] == pytest.approx(float(np.std(maes)), abs=TOL)
    assert block["mse"]["standard_deviation"] == 0.0
    small = metric_block("Regression", full, subs, 199)
    assert all(math.isnan(entry["standard_deviation"]) for entry in small.values())
