"""A monitor type plugs in by registering one object: the API, scheduler, store, metrics and CLI follow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from monitor_service.monitors import MONITORS, builtin_monitors

REPO = Path(__file__).resolve().parents[2]


def test_builtin_registry_lists_each_type_once() -> None:
    names = builtin_monitors().names()
    assert names[:2] == ["DataQuality", "ModelQuality"] and len(names) == len(set(names))
    assert MONITORS.names() == names


def test_a_new_monitor_type_works_end_to_end_without_service_changes(tmp_path: Path) -> None:
    # A fresh interpreter: the toy type must be registered before the API builds its request models.
    run = subprocess.run([sys.executable, "-m", "tests.plugins.toy_monitor", str(tmp_path)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["bad_rules"]["detail"][0]["loc"] == ["body", "rules"]
    assert "numeric score_floor" in out["bad_rules"]["detail"][0]["msg"]
    assert out["missing_rules"]["detail"][0] == {**out["missing_rules"]["detail"][0], "loc": ["body", "rules"],
                                                 "msg": "a ToyQuality baseline needs rules"}
    assert out["baseline"]["monitor_type"] == "ToyQuality"
    assert out["baseline"]["documents"]["rules"].endswith("/v1/rules.json")
    assert out["baseline"]["rules_path"] == out["baseline"]["documents"]["rules"]
    assert out["no_settings"]["detail"][0]["loc"] == ["body", "toy"]
    assert out["no_settings"]["detail"][0]["msg"] == "ToyQuality monitors need toy settings"
    assert out["schedule"]["toy"] == {"threshold": 0.3} and out["schedule"]["model_quality"] is None
    assert list(out["ticks"].values()) == ["CompletedWithViolations"]
    [violation] = out["violations"]["items"]
    assert (violation["feature_name"], violation["metric_name"], violation["constraint_check_type"]) == (
        "everywhere", "score", "toy_floor_check")
    assert violation["description"] == "score 0.25 below 0.5"
    assert set(out["execution"]["artifacts"]) == {"constraint_violations.json", "report.txt", "summary.json"}
    assert out["report"] == "toy report"
    assert 'toy_score{schedule="toy-hourly"} 0.25' in out["metrics"]
    assert [p["metrics"] for p in out["history"]["points"]] == [{"score": 0.25}]
    assert out["openapi_has_toy"]
    assert "--monitor-type {DataQuality,ModelQuality,ModelBias,ModelExplainability,ToyQuality}" in out["cli_help"]
    assert "--toy-threshold" in out["cli_help"] and "toy quality (--monitor-type ToyQuality)" in out["cli_help"]
