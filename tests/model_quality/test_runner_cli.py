"""`monitor baseline|analyze --monitor-type ModelQuality` end to end on generated files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sklearn import metrics as skm

from monitor_service.cli.main import main
from monitor_service.model_quality.synthetic import write_late_label_files

pytestmark = pytest.mark.spark


def make_files(root: Path) -> dict[str, Any]:
    """300 labelled baseline rows; 120 captured records: 80 labelled by 12:00, 20 late, 20 never."""
    return write_late_label_files(root)


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
    assert summary["feature_metrics"]["ground_truth"]["labels_late"] == 20
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
