"""A monitor type plugs in by registering one object: the API, scheduler, store, metrics and CLI follow."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from monitor_service.errors import InvalidField
from monitor_service.monitors import MONITORS, builtin_monitors
from monitor_service.monitors.base import CliArgument, MonitorPlugin
from monitor_service.runner.summary import RunSummary

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


def _named_modules(plugin: MonitorPlugin) -> list[str]:
    return [m for m in (plugin.jobs_module, plugin.baseline_jobs_module, plugin.cli_args_module) if m]


def test_importing_the_registry_imports_no_job_cli_or_spark_module() -> None:
    named = sorted({m for name in MONITORS.names() for m in _named_modules(MONITORS.get(name))})
    code = ("import sys, monitor_service.monitors; "
            f"print(sorted(m for m in sys.modules if m in {named!r} or m.split('.')[0] == 'pyspark'))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_builtin_plugins_name_modules_with_the_default_hooks() -> None:
    for name in MONITORS.names():
        plugin = MONITORS.get(name)
        assert plugin.jobs_module is not None, name
        assert callable(import_module(plugin.jobs_module).run_analysis)
        if plugin.has_baseline_job:
            assert callable(import_module(plugin.baseline_jobs_module or plugin.jobs_module).run_baseline)
        if plugin.cli_args_module is not None:
            assert plugin.cli_arguments() is import_module(plugin.cli_args_module).ARGUMENTS


class _Request(BaseModel):
    value: int


class _ModulePlugin(MonitorPlugin):
    monitor_type = "ModuleBacked"
    title = "module backed"
    analyze_model = _Request
    baseline_model = _Request
    documents = ()
    artifacts = ()
    jobs_module = "tests_fake_monitor_jobs"
    cli_args_module = "tests_fake_monitor_cli"

    def check_documents(self, documents: Any) -> None:
        return None

    def analyze_request(self, job: Any) -> BaseModel:
        return _Request(value=0)


def test_default_hooks_call_the_named_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any, Any, Any]] = []

    def job(name: str) -> Any:
        def run(spark: Any, request: Any, progress: Any) -> RunSummary:
            calls.append((name, spark, request, progress))
            return RunSummary(job=name, status="Completed")
        return run

    jobs = types.ModuleType("tests_fake_monitor_jobs")
    jobs.run_analysis, jobs.run_baseline = job("analyze"), job("baseline")  # type: ignore[attr-defined]
    cli = types.ModuleType("tests_fake_monitor_cli")
    cli.ARGUMENTS = (CliArgument(("--fake-value",), {"type": int}),)  # type: ignore[attr-defined]
    cli.request_from_args = lambda command, args, spec: _Request(value=args.fake_value)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, jobs.__name__, jobs)
    monkeypatch.setitem(sys.modules, cli.__name__, cli)

    plugin = _ModulePlugin()

    def progress(message: str) -> None:
        return None

    request = _Request(value=1)
    assert plugin.run_analysis("spark", request, progress).job == "analyze"
    assert plugin.run_baseline("spark", request).job == "baseline"
    assert [c[0] for c in calls] == ["analyze", "baseline"] and calls[0][1:] == ("spark", request, progress)
    assert plugin.cli_arguments() is cli.ARGUMENTS
    assert plugin.cli_request("analyze", argparse.Namespace(fake_value=7), None) == _Request(value=7)  # type: ignore[arg-type]

    no_baseline = type("NoBaseline", (_ModulePlugin,), {"baseline_model": None})()
    with pytest.raises(InvalidField, match="ModuleBacked monitors have no baseline job"):
        no_baseline.run_baseline("spark", request)
    bare = type("Bare", (_ModulePlugin,), {"jobs_module": None, "cli_args_module": None})()
    assert bare.cli_arguments() == ()
    with pytest.raises(NotImplementedError, match="jobs_module"):
        bare.run_analysis("spark", request)
    with pytest.raises(NotImplementedError, match="cli_args_module"):
        bare.cli_request("analyze", argparse.Namespace(), None)  # type: ignore[arg-type]
