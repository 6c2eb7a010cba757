"""Our statistics/constraints against SageMaker's real and documented model-quality files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from monitor_service import io
from monitor_service.monitors.model_quality import METRICS
from monitor_service.monitors.model_quality.binary import BinaryCounts, BinaryInputs
from monitor_service.monitors.model_quality.constraints import parse_constraints, suggest_constraints
from monitor_service.monitors.model_quality.curves import ScoreHistogram
from monitor_service.monitors.model_quality.multiclass import MulticlassInputs
from monitor_service.monitors.model_quality.regression import RegressionInputs
from monitor_service.monitors.model_quality.statistics import (
    find_block,
    metric_block,
    scalar_metrics,
    statistics_document,
)


def load(fixtures_dir: Path, name: str) -> dict:
    return json.loads((fixtures_dir / name).read_text())


def test_regression_statistics_shape_and_suggested_constraints_equal_sagemaker(fixtures_dir: Path) -> None:
    stats = load(fixtures_dir, "model_quality_statistics_regression.json")
    problem, block = find_block(stats)
    assert problem == "Regression"
    inputs = RegressionInputs(n=100, sum_abs_error=50.0, sum_squared_error=33.0, total_sum_squares=8.0)
    ours = statistics_document("Regression", 100, metric_block("Regression", inputs, [], 100))
    assert list(ours) == list(stats)
    assert list(ours["regression_metrics"]) == list(block)
    assert json.loads(io.dumps(ours))["regression_metrics"]["mae"]["standard_deviation"] == "NaN"
    # SageMaker's own baseline: thresholds = values; error metrics GreaterThan, r2 LessThan.
    assert suggest_constraints("Regression", block) == load(fixtures_dir, "model_quality_constraints_regression.json")
    parsed = parse_constraints(load(fixtures_dir, "model_quality_constraints_regression.json"), "Regression")
    assert [c.metric for c in parsed] == ["mae", "mse", "rmse", "r2"]


def test_binary_block_reproduces_the_model_card_example(fixtures_dir: Path) -> None:
    example = load(fixtures_dir, "model_quality_statistics_binary_classification_model_card_example.json")
    block = example["binary_classification_metrics"]
    cm = block["confusion_matrix"]
    counts = BinaryCounts(tp=cm["1"]["1"], fp=cm["0"]["1"], fn=cm["1"]["0"], tn=cm["0"]["0"])
    hist = ScoreHistogram.from_rows([(0.9, 1.0, 0.0), (0.1, 0.0, 1.0)])
    ours = metric_block("BinaryClassification", BinaryInputs(counts, hist), [], 4)
    assert sorted(ours) == sorted(block)
    assert ours["confusion_matrix"] == cm
    for name, (value, _) in scalar_metrics(block).items():
        if name != "auc":  # the example's AUC and curves are hand-made, not from these 4 records
            assert ours[name]["value"] == pytest.approx(value, abs=1e-12), name
    assert set(ours["receiver_operating_characteristic_curve"]) == {"false_positive_rates", "true_positive_rates"}
    assert set(ours["precision_recall_curve"]) == {"precisions", "recalls"}


def test_multiclass_block_reproduces_sagemaker_documented_values(fixtures_dir: Path) -> None:
    """The doc's fragment is SageMaker output: every value follows from its confusion matrix."""
    doc = json.loads("{" + (fixtures_dir / "model_quality_multiclass_metrics_docs_fragment.txt").read_text() + "}")
    block = doc["multiclass_classification_metrics"]
    confusion = {a: {p: float(n) for p, n in row.items()} for a, row in block["confusion_matrix"].items()}
    ours = metric_block("MulticlassClassification", MulticlassInputs(confusion), [], 2096)
    assert list(ours) == list(block)
    assert ours["confusion_matrix"] == block["confusion_matrix"]
    for name, (value, _) in scalar_metrics(block).items():
        assert ours[name]["value"] == pytest.approx(value, abs=1e-12), name
    assert [m.name for m in METRICS["MulticlassClassification"]] == list(block)


def test_statistics_without_labels_has_only_the_count() -> None:
    doc = statistics_document("BinaryClassification", 0, None)
    assert doc == {"version": 0.0, "dataset": {"item_count": 0}}
    assert math.isnan(scalar_metrics({"auc": {"value": "NaN", "standard_deviation": "NaN"}})["auc"][0])
