"""The service demo end to end, with the fake engine (the real one runs in the lead's demo)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from demo.service import run_service_demo
from monitor_service.core.registry import Registry
from monitor_service.monitors.base import MonitorPlugin
from tests.service.conftest import FIXTURES, T0, FakeRunner


def test_demo_prints_violations_over_rest(tmp_path: Path, runner: FakeRunner, monitors: Registry[MonitorPlugin],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    runner.drifted.add(T0 + timedelta(hours=2))
    violations = run_service_demo(
        tmp_path, str(tmp_path / "capture"), first_hour=T0, hours=4, monitors=monitors, spark_master=None,
        baseline_statistics=FIXTURES / "data_quality_statistics_numeric_6features.json",
        baseline_constraints=FIXTURES / "data_quality_constraints_numeric_6features.json")
    printed = capsys.readouterr().out
    assert len(runner.calls) == 4 and len(violations) == 2
    assert {v["window_start"] for v in violations} == {"2024-05-01T02:00:00Z"}
    assert "GET /api/v1/violations" in printed and "baseline_drift_check" in printed
    assert "('execution.completed_with_violations', True)" in printed
