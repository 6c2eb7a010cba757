"""`monitor baseline|analyze --monitor-type ModelQuality` end to end on generated files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from demo.model_quality_data import write_late_label_files
from monitor_service.cli.main import main
from monitor_service.errors import ConfigError
from monitor_service.monitors.model_quality.jobs import (
    ModelQualityAnalyzeRequest,
    ModelQualityBaselineRequest,
    run_model_quality_baseline,
)
from monitor_service.monitors.model_quality.problem import ModelQualityAttributes
from monitor_service.specs import DatasetConfig, InputSpec


def make_files(root: Path) -> dict[str, Any]:
    """300 labelled baseline rows; 120 captured records: 80 labelled by 12:00, 20 late, 20 never."""
    return write_late_label_files(root)


@pytest.mark.spark
def test_baseline_then_analysis_with_late_labels(spark: Any, tmp_path: Path) -> None:
    data = make_files(tmp_path)
    binary = ["--monitor-type", "ModelQuality", "--problem-type", "BinaryClassification"]
    base = tmp_path / "baseline"
    code = main(["baseline", "--input", str(tmp_path / "baseline.csv"), "--format", "csv", "--header", *binary,
                 "--inference-attribute", "prediction", "--probability-attribute", "probability",
                 "--ground-truth-attribute", "label", "--output", str(base)])
    assert code == 0
    stats = json.loads((base / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 300
    assert stats["binary_classification_metrics"]["auc"]["value"] == pytest.approx(
        skm.roc_auc_score(data["y"], data["p"]), abs=1e-9)
    assert isinstance(stats["binary_classification_metrics"]["auc"]["standard_deviation"], float)
    constraints = json.loads((base / "constraints.json").read_text())
    assert constraints["binary_classification_constraints"]["auc"]["comparison_operator"] == "LessThanThreshold"
    assert (base / "calibration.json").exists()
    assert json.loads((base / "summary.json").read_text())["monitor_type"] == "ModelQuality"

    window = ["--input", str(tmp_path / "capture"), "--ground-truth", str(tmp_path / "gt"), *binary,
              "--probability-attribute", "0", "--baseline-constraints", str(base / "constraints.json"),
              "--start", "2024-05-01T10:00:00Z", "--end", "2024-05-01T11:00:00Z"]
    out = tmp_path / "analysis"
    code = main(["analyze", *window, "--execution-time", "2024-05-01T12:00:00Z", "--output", str(out)])
    assert code == 3
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 80
    assert stats["binary_classification_metrics"]["auc"]["value"] == pytest.approx(
        skm.roc_auc_score(data["truth"][:80], data["q"][:80]), abs=1e-9)
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    auc = next(v for v in violations if v["metric_name"] == "auc")
    assert auc["constraint_check_type"] == "LessThanThreshold"
    assert auc["description"].startswith("Metric auc with ") and " was LessThanThreshold '" in auc["description"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "CompletedWithViolations" and summary["records_analyzed"] == 80
    assert summary["feature_metrics"]["records"] == {"labelled": 80.0, "unlabelled": 40.0}
    # The 20 late labels sit in hour folder 13 (available from 14:00): that file is not even read.
    assert summary["feature_metrics"]["ground_truth"]["label_files_late"] == 1
    assert summary["feature_metrics"]["ground_truth"]["labels_late"] == 0
    estimated = json.loads((out / "estimated_statistics.json").read_text())
    assert estimated["estimated"] is True and estimated["dataset"]["item_count"] == 40
    assert estimated["calibration"] == "isotonic"
    assert list((out / "merge" / "2024" / "05" / "01" / "12").glob("part-*.jsonl"))

    # No label has arrived yet: realized metrics are empty, the CBPE estimate covers everything.
    (tmp_path / "no-labels-yet").mkdir()
    empty = tmp_path / "empty"
    code = main(["analyze", *window[:2], "--ground-truth", str(tmp_path / "no-labels-yet"), *window[4:],
                 "--output", str(empty)])
    assert code == 0
    assert json.loads((empty / "statistics.json").read_text()) == {"version": 0.0, "dataset": {"item_count": 0}}
    assert json.loads((empty / "constraint_violations.json").read_text()) == {"violations": []}
    assert json.loads((empty / "estimated_statistics.json").read_text())["dataset"]["item_count"] == 120
    assert json.loads((empty / "summary.json").read_text())["feature_metrics"]["ground_truth"]["label_lines"] == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    base = ["baseline", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--monitor-type", "ModelQuality"]
    assert main(base) == 2
    assert main([*base, "--problem-type", "Regression", "--ground-truth-attribute", "y"]) == 2
    assert main([*base, "--problem-type", "Regression", "--inference-attribute", "p"]) == 2
    # Without a label locator and without ground truth the "label" would be the prediction itself.
    analyze = ["analyze", *base[1:], "--problem-type", "BinaryClassification", "--probability-attribute", "0"]
    assert main(analyze) == 2
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("model", [ModelQualityBaselineRequest, ModelQualityAnalyzeRequest])
def test_every_request_needs_a_label_source(model: type[Any], tmp_path: Path) -> None:
    """The service builds these requests too (baseline jobs): the same clear usage error there."""
    common = {"input": {"path": str(tmp_path)}, "output_dir": str(tmp_path / "o"),
              "attributes": {"problem_type": "BinaryClassification", "probability_attribute": "0"}}
    with pytest.raises(ConfigError, match=r"ground_truth_attribute .* or ground_truth"):
        model.model_validate(common)
    # With ground-truth files the label defaults to each ground-truth record's first value.
    assert model.model_validate({**common, "ground_truth": str(tmp_path)}).attributes.ground_truth_attribute is None
    with_column = {**common, "attributes": {**common["attributes"], "ground_truth_attribute": "label"}}
    assert model.model_validate(with_column).ground_truth is None


@pytest.mark.spark
def test_baseline_standard_deviations_do_not_depend_on_partitioning(spark: Any, tmp_path: Path) -> None:
    """A plain dataset has no record ids; many of its rows are identical (only prediction and label)."""
    rng = np.random.default_rng(3)
    truth = rng.choice(["a", "b", "c"], 1500, p=[0.5, 0.3, 0.2])
    predicted = np.where(rng.uniform(size=1500) < 0.8, truth, rng.choice(["a", "b", "c"], 1500))
    data = tmp_path / "labelled.csv"
    data.write_text("prediction,label\n" + "".join(f"{p},{t}\n" for p, t in zip(predicted, truth, strict=True)))
    attrs = ModelQualityAttributes(problem_type="MulticlassClassification", inference_attribute="prediction",
                                   ground_truth_attribute="label")
    blocks = []
    for split_bytes in ("128m", "1k"):  # one partition, then about a dozen
        spark.conf.set("spark.sql.files.maxPartitionBytes", split_bytes)
        try:
            summary = run_model_quality_baseline(spark, ModelQualityBaselineRequest(
                input=InputSpec(path=str(data), format="csv", dataset_config=DatasetConfig(header=True)),
                attributes=attrs, output_dir=str(tmp_path / split_bytes)))
        finally:
            spark.conf.unset("spark.sql.files.maxPartitionBytes")
        assert summary.status == "Completed", summary.failure_reason
        blocks.append(json.loads(Path(summary.artifacts["statistics"]).read_text())[
            "multiclass_classification_metrics"])
    assert blocks[0] == blocks[1]
    # Identical rows fall into subsamples independently: the spread is that of 80 % subsamples
    # of 1,500 records (about 0.005), not that of whole groups of identical rows moving together.
    assert 0 < blocks[0]["accuracy"]["standard_deviation"] < 0.02
