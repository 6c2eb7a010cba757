"""`monitor baseline|analyze --monitor-type ModelBias` in-process: the issue's commands, exit codes, usage errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from demo.model_bias_data import EXECUTION_TIME, WINDOW_END, WINDOW_START, write_bias_data
from monitor_service import schemas
from tests.cli.test_cli import CliRun, run_cli

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return write_bias_data(tmp_path_factory.mktemp("bias") / "data", records=2500, seed=1)


@pytest.fixture(scope="module")
def baseline(spark: Any, data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    out = tmp_path_factory.mktemp("bias-baseline")
    return run_cli(["baseline", "--monitor-type", "ModelBias", "--input", data["baseline"], "--format", "csv",
                    "--header", "--analysis-config", data["config_path"], "--inference-attribute", "prediction",
                    "--output", str(out)], out)


def _analyze(data: dict[str, Any], capture: str, baseline: CliRun, out: Path, *extra: str) -> CliRun:
    return run_cli(["analyze", "--monitor-type", "ModelBias", "--input", capture, "--dataset-config",
                    data["dataset_config_path"], "--ground-truth", data["ground_truth"], "--analysis-config",
                    data["config_path"], "--inference-attribute", "prediction", "--baseline-constraints",
                    str(baseline.out / "analysis.json"), "--start", WINDOW_START, "--end", WINDOW_END,
                    "--execution-time", EXECUTION_TIME, "--output", str(out), *extra], out)


def test_baseline_writes_clarify_analysis(baseline: CliRun) -> None:
    assert baseline.code == 0, baseline.stderr
    assert baseline.stdout.startswith("Completed: 2500 records, baseline written")
    doc = json.loads((baseline.out / "analysis.json").read_text())
    schemas.validate("clarify_bias_analysis", doc)
    assert list(doc) == ["version", "post_training_bias_metrics", "pre_training_bias_metrics"]
    assert baseline.summary["monitor_type"] == "ModelBias"
    assert set(baseline.summary["artifacts"]) >= {"analysis", "analysis_config", "report"}


def test_fair_window_exits_0_unfair_window_exits_3(data: dict[str, Any], baseline: CliRun, tmp_path: Path) -> None:
    fair = _analyze(data, data["fair_capture"], baseline, tmp_path / "fair")
    assert fair.code == 0, fair.stderr + fair.stdout
    assert json.loads((fair.out / "constraint_violations.json").read_text()) == {"version": "1.0", "violations": []}
    unfair = _analyze(data, data["unfair_capture"], baseline, tmp_path / "unfair")
    assert unfair.code == 3, unfair.stderr + unfair.stdout
    violations = json.loads((unfair.out / "constraint_violations.json").read_text())
    assert {"DPPL", "DI"} <= {v["metric_name"] for v in violations["violations"]}
    assert unfair.summary["status"] == "CompletedWithViolations"
    assert unfair.summary["feature_metrics"]["records"]["usable"] == 2500
    # A per-metric threshold loosens DPPL and DI far enough that they pass.
    loose = _analyze(data, data["unfair_capture"], baseline, tmp_path / "loose", "--threshold", "DPPL=0.9",
                     "--threshold", "DI=0.1", "--bootstrap-samples", "50")
    names = {v["metric_name"] for v in json.loads((loose.out / "constraint_violations.json").read_text())[
        "violations"]}
    assert loose.code == 3 and not names & {"DPPL", "DI"}


@pytest.mark.parametrize(("edit", "message"), [
    ({"facet": [{"value_or_threshold": [0]}]}, "facet[0].name_or_index"),
    ({"methods": {"post_training_bias": {"methods": ["DPPL", "NOPE"]}}}, "unknown metrics ['NOPE']"),
])
def test_bad_configs_are_usage_errors(spark: Any, data: dict[str, Any], tmp_path: Path, edit: dict[str, Any],
                                      message: str) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**data["config"], **edit}))
    run = run_cli(["baseline", "--monitor-type", "ModelBias", "--input", data["baseline"], "--format", "csv",
                   "--header", "--analysis-config", str(config), "--inference-attribute", "prediction",
                   "--output", str(tmp_path / "out")], tmp_path / "out")
    assert run.code == 2 and message in run.stderr, run.stderr


@pytest.mark.parametrize(("args", "message"), [
    ([], "needs --analysis-config"),
    (["--analysis-config", "{config}", "--threshold", "DPPL"], "is not METRIC=NUMBER"),
    (["--analysis-config", "{config}", "--threshold", "XX=1"], "unknown metrics"),
    (["--analysis-config", "{config}", "--confidence-level", "1.5"], "confidence_level"),
    (["--analysis-config", "{config}"], "need the predicted label"),
])
def test_usage_errors(spark: Any, data: dict[str, Any], tmp_path: Path, args: list[str], message: str) -> None:
    argv = ["analyze", "--monitor-type", "ModelBias", "--input", data["baseline"], "--format", "csv", "--header",
            "--output", str(tmp_path / "out"), *[a.replace("{config}", data["config_path"]) for a in args]]
    run = run_cli(argv, tmp_path / "out")
    assert run.code == 2 and message in run.stderr, run.stderr
