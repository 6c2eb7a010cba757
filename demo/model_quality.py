"""The model-quality monitor end to end on generated data whose labels arrive late.

A binary classifier is baselined on 2,000 labelled rows, then one hour of its captured traffic
(1,200 records, output CSV `probability,predicted_label`) is analyzed at 12:00 with the ground
truth collected so far: 800 records are labelled (50 of them relabelled, the latest label
winning), 200 labels arrive only after the execution time and 200 never. In that hour the model
is worse than in the baseline, so the realized metrics violate the baseline constraints; the
records still waiting for a label get a CBPE estimate, which is printed as such.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from demo.model_quality_data import EXECUTION_TIME, WINDOW_END, WINDOW_START, write_late_label_files
from monitor_service.monitors.model_quality.jobs import (
    ModelQualityAnalyzeRequest,
    ModelQualityBaselineRequest,
    run_model_quality_analysis,
    run_model_quality_baseline,
)
from monitor_service.monitors.model_quality.problem import ModelQualityAttributes
from monitor_service.specs import DatasetConfig, InputSpec, Window, parse_timestamp

KEY_METRICS = ("auc", "accuracy", "f1")
OWNED = ("data", "baseline", "analysis")  # the sub-folders of workdir a demo run rewrites


def run_model_quality_demo(workdir: Path, spark: Any) -> int:
    """Generate, baseline, analyze and print; return the analysis' exit code (3: violations)."""
    workdir = Path(workdir).resolve()
    for name in OWNED:
        shutil.rmtree(workdir / name, ignore_errors=True)
    data = workdir / "data"
    data.mkdir(parents=True)
    write_late_label_files(data, baseline_records=2000, window_records=1200, window_skill=0.3,
                           predicted_label=True, superseded=50, seed=7)
    print(f"   generated {data / 'baseline.csv'}, capture {data / 'capture'} and ground truth {data / 'gt'}")

    baseline = run_model_quality_baseline(spark, ModelQualityBaselineRequest(
        input=InputSpec(path=str(data / "baseline.csv"), format="csv", dataset_config=DatasetConfig(header=True)),
        attributes=ModelQualityAttributes(
            problem_type="BinaryClassification", inference_attribute="prediction",
            probability_attribute="probability", ground_truth_attribute="label"),
        output_dir=str(workdir / "baseline")))
    print(f"   baseline: {baseline.one_line()}")
    if baseline.status == "Failed":
        return baseline.exit_code
    stats = _read(baseline.artifacts["statistics"])
    print(f"   baseline metrics ({stats['dataset']['item_count']} labelled rows): "
          f"{_metrics(stats['binary_classification_metrics'])}")

    out = workdir / "analysis"
    window = Window(start=parse_timestamp(WINDOW_START, "start"), end=parse_timestamp(WINDOW_END, "end"))
    summary = run_model_quality_analysis(spark, ModelQualityAnalyzeRequest(
        input=InputSpec(path=str(data / "capture"), window=window),
        # Capture output CSV: _c0 = probability, _c1 = predicted label; the label is the ground truth's first value.
        attributes=ModelQualityAttributes(
            problem_type="BinaryClassification", inference_attribute="1", probability_attribute="0"),
        output_dir=str(out), ground_truth=str(data / "gt"),
        baseline_constraints=baseline.artifacts["constraints"],
        execution_time=parse_timestamp(EXECUTION_TIME, "execution time")))
    print(f"   window {window.label()} analyzed at {EXECUTION_TIME}: {summary.one_line()}")
    if summary.status == "Failed":
        return summary.exit_code
    records = summary.feature_metrics.get("records", {})
    gt = summary.feature_metrics.get("ground_truth", {})
    print(f"   records: {int(records.get('labelled', 0))} labelled, {int(records.get('unlabelled', 0))} unlabelled "
          f"(label lines read {gt.get('label_lines')}, superseded by a later label {gt.get('labels_superseded')}; "
          f"label files collected after the execution time, not read: {gt.get('label_files_late')})")
    realized = _read(summary.artifacts["statistics"])
    if "binary_classification_metrics" in realized:
        print(f"   realized metrics ({realized['dataset']['item_count']} labelled records): "
              f"{_metrics(realized['binary_classification_metrics'])}")
    violations = _read(summary.artifacts["constraint_violations"])["violations"] \
        if "constraint_violations" in summary.artifacts else []
    print(f"   {len(violations)} violations:")
    for v in violations:
        print(f"   - {v['metric_name']}: {v['description']}")
    if "estimated_statistics" in summary.artifacts:
        est = _read(summary.artifacts["estimated_statistics"])
        print(f"   ESTIMATED, not measured ({est['method']}, calibration {est['calibration']}, "
              f"{est['dataset']['item_count']} unlabelled records): "
              f"{_metrics(est.get('binary_classification_metrics', {}))}")
        est_violations = _read(summary.artifacts["estimated_constraint_violations"])["violations"] \
            if "estimated_constraint_violations" in summary.artifacts else []
        names = ", ".join(v["metric_name"] for v in est_violations) or "none"
        print(f"   estimated violations (informational, do not change the status): {names}")
        print("   (CBPE assumes the baseline calibration still holds, so it cannot see a change in the")
        print("   relation between scores and labels; only the realized metrics above reveal that)")
    print(f"   files in {out}")
    return summary.exit_code


def _read(path: str) -> Any:
    return json.loads(Path(path).read_text())


def _metrics(block: dict[str, Any]) -> str:
    parts = []
    for name in KEY_METRICS:
        value = block.get(name, {}).get("value")
        if isinstance(value, int | float) and not math.isnan(value):
            parts.append(f"{name}={value:.3f}")
        else:
            parts.append(f"{name}={value}")
    return ", ".join(parts)
