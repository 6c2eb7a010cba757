"""`monitor baseline|analyze --monitor-type ModelExplainability`: exit codes, files, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.model_explainability import WINDOW_START, prepare
from monitor_service.cli.main import main

pytestmark = pytest.mark.spark


def test_cli_baseline_and_windows(spark, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = prepare(tmp_path)
    common = ["--monitor-type", "ModelExplainability", "--analysis-config", str(files["config"])]
    assert main(["baseline", "--input", str(files["train"]), "--format", "csv", "--header",
                 "--output", str(tmp_path / "base"), *common, "--max-records", "400"]) == 0
    assert "Completed: 400 records" in capsys.readouterr().out
    analysis = tmp_path / "base" / "analysis.json"
    assert set(json.loads(analysis.read_text())["explanations"]) == {"tree_shap"}
    codes = []
    for hour in (0, 1):
        start = WINDOW_START.replace(hour=WINDOW_START.hour + hour)
        end = start.replace(hour=start.hour + 1)
        codes.append(main(["analyze", "--input", str(files["capture"]), "--baseline-constraints", str(analysis),
                           "--start", start.isoformat(), "--end", end.isoformat(),
                           "--output", str(tmp_path / f"w{hour}"), *common]))
    assert codes == [0, 3]
    violations = json.loads((tmp_path / "w1" / "constraint_violations.json").read_text())["violations"]
    assert [v["constraint_check_type"] for v in violations] == ["feature_attribution_drift_check"]
    assert (tmp_path / "w1" / "report.html").is_file() and (tmp_path / "w1" / "analysis_config.json").is_file()


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["baseline", "--monitor-type", "ModelExplainability", "--input", "x.csv", "--output", str(tmp_path)]
    assert main(args) == 2
    assert "needs --analysis-config" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"methods": {"shap": {"agg_method": "max"}},
                                                      "predictor": {"model_uri": "m.json", "framework": "xgboost"}}))
    assert main([*args, "--analysis-config", str(tmp_path / "config.json")]) == 2
    assert "methods.shap.agg_method" in capsys.readouterr().err
    assert main([*args, "--analysis-config", str(tmp_path / "missing.json")]) == 2
    assert "analysis config not found" in capsys.readouterr().err
