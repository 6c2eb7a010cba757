"""The `monitor` CLI in-process: exit codes, the one-line summary, summary.json, atomic outputs.

Every test requests the session-scoped `spark` fixture first, so the CLI's `get_session` reuses
that active session instead of starting another one.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from demo.synthetic import CaptureShape, capture_line, write_capture_hour
from monitor_service.cli.main import main

pytestmark = pytest.mark.spark

SHAPE = CaptureShape(numeric_features=3, categorical=True)  # output + f0..f2 + color = 5 features
N = 300
DAY = datetime(2024, 5, 1, tzinfo=UTC)
SUMMARY_FIELDS = {"status", "records_read", "records_quarantined", "features", "violations", "seconds",
                  "failure_reason"}


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str
    out: Path

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.out / "summary.json").read_text())


def run_cli(argv: list[str], out: Path) -> CliRun:
    """Run `main(argv)`; argparse usage errors exit through SystemExit, which counts as the exit code."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return CliRun(code, stdout.getvalue(), stderr.getvalue(), out)


def _hour(h: int) -> datetime:
    return DAY + timedelta(hours=h)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def env(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    write_capture_hour(root / "base", _hour(10), N, SHAPE, seed=1)
    write_capture_hour(root / "live", _hour(11), N, SHAPE, seed=2)
    drifted = write_capture_hour(root / "live", _hour(13), N, SHAPE, seed=3, drift=1.0)
    # two bad lines in the drifted hour: a broken envelope and a row with one input field missing
    short = capture_line("0.5", ["1", "2.0", "3"], _hour(13) + timedelta(minutes=30), "short-row")
    (drifted.parent / "59-59-999-bad.jsonl").write_text('{"captureData": {"endpointInput"\n' + short + "\n")
    return {"root": root, "base": root / "base", "live": root / "live"}


@pytest.fixture(scope="module")
def baseline_run(env: dict[str, Path]) -> CliRun:
    out = env["root"] / "baseline_out"
    return run_cli(["baseline", "--input", str(env["base"]), "--output", str(out)], out)


def _analyze(env: dict[str, Path], baseline: CliRun, name: str, start: datetime, end: datetime) -> CliRun:
    out = env["root"] / name
    return run_cli(["analyze", "--input", str(env["live"]), "--output", str(out),
                    "--start", _iso(start), "--end", _iso(end),
                    "--baseline-statistics", str(baseline.out / "statistics.json"),
                    "--baseline-constraints", str(baseline.out / "constraints.json")], out)


@pytest.fixture(scope="module")
def clean_run(env: dict[str, Path], baseline_run: CliRun) -> CliRun:
    return _analyze(env, baseline_run, "clean_out", _hour(11), _hour(12))


@pytest.fixture(scope="module")
def drifted_run(env: dict[str, Path], baseline_run: CliRun) -> CliRun:
    return _analyze(env, baseline_run, "drifted_out", _hour(13), _hour(14))


def _one_line(run: CliRun) -> str:
    lines = run.stdout.splitlines()
    assert len(lines) == 1, run.stdout
    return lines[0]


def _assert_outputs_complete(out: Path) -> None:
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == []
    for path in out.rglob("*.json"):
        json.loads(path.read_text())


def test_baseline_exits_0(baseline_run: CliRun) -> None:
    assert baseline_run.code == 0, baseline_run.stdout + baseline_run.stderr
    line = _one_line(baseline_run)
    assert re.fullmatch(rf"Completed: {N} records, 5 features, baseline written in \d+\.\ds -> "
                        rf"{re.escape(str(baseline_run.out))}", line), line
    summary = baseline_run.summary
    assert set(summary) >= SUMMARY_FIELDS
    assert summary["status"] == "Completed" and summary["job"] == "baseline"
    assert (summary["records_read"], summary["records_analyzed"], summary["features"]) == (N, N, 5)
    assert summary["records_quarantined"] == {"total": 0, "by_reason": {}}
    assert summary["violations"] == 0 and summary["failure_reason"] is None
    assert summary["seconds"] > 0
    assert {"statistics.json", "constraints.json", "summary.json"} <= {p.name for p in baseline_run.out.iterdir()}
    _assert_outputs_complete(baseline_run.out)


def test_clean_analyze_exits_0(clean_run: CliRun) -> None:
    assert clean_run.code == 0, clean_run.stdout + clean_run.stderr
    line = _one_line(clean_run)
    assert re.fullmatch(rf"Completed: {N} records, 5 features, 0 violations in \d+\.\ds -> "
                        rf"{re.escape(str(clean_run.out))}", line), line
    summary = clean_run.summary
    assert summary["status"] == "Completed" and summary["job"] == "analyze"
    assert (summary["records_read"], summary["records_analyzed"], summary["violations"]) == (N, N, 0)
    assert summary["records_quarantined"] == {"total": 0, "by_reason": {}}
    assert (summary["window_start"], summary["window_end"]) == (_iso(_hour(11)), _iso(_hour(12)))
    assert json.loads((clean_run.out / "constraint_violations.json").read_text()) == {"violations": []}
    # like SageMaker's monitoring output: the constraints checked against sit beside the report
    assert sorted(p.name for p in clean_run.out.glob("*.json")) == [
        "constraint_violations.json", "constraints.json", "statistics.json", "summary.json"]
    assert json.loads((clean_run.out / "constraints.json").read_text())["features"][0]["name"] == "_c0"
    _assert_outputs_complete(clean_run.out)


def test_drifted_analyze_exits_3(drifted_run: CliRun) -> None:
    assert drifted_run.code == 3, drifted_run.stdout + drifted_run.stderr
    violations = json.loads((drifted_run.out / "constraint_violations.json").read_text())["violations"]
    assert violations
    summary = drifted_run.summary
    assert summary["status"] == "CompletedWithViolations"
    assert summary["violations"] == len(violations)
    assert summary["records_read"] == N + 2
    assert summary["records_analyzed"] == N
    assert summary["records_quarantined"] == {"total": 2, "by_reason": {"malformed_json": 1,
                                                                       "field_count_mismatch": 1}}
    assert summary["failure_reason"] is None
    drifting = {v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"}
    assert {"_c1", "_c4"} <= drifting  # f0 (shifted) and color (re-weighted); output is _c0
    line = _one_line(drifted_run)
    assert re.fullmatch(rf"CompletedWithViolations: {N} records, 2 quarantined, 5 features, {len(violations)} "
                        rf"violations in \d+\.\ds -> {re.escape(str(drifted_run.out))}", line), line
    assert summary["exit_message"] == (f"CompletedWithViolations: Job completed successfully with "
                                       f"{len(violations)} violations.")
    _assert_outputs_complete(drifted_run.out)


def test_empty_window_exits_1(env: dict[str, Path], baseline_run: CliRun) -> None:
    far = datetime(2030, 1, 1, tzinfo=UTC)
    run = _analyze(env, baseline_run, "empty_out", far, far + timedelta(hours=1))
    assert run.code == 1, run.stdout + run.stderr
    summary = run.summary
    assert summary["status"] == "Failed"
    reason = summary["failure_reason"]
    assert "no valid records" in reason
    assert "[2030-01-01T00:00:00Z, 2030-01-01T01:00:00Z)" in reason and str(env["live"]) in reason
    assert _one_line(run) == f"Failed: {reason}"
    assert summary["records_analyzed"] == 0
    _assert_outputs_complete(run.out)


def test_missing_baseline_file_exits_1(spark: Any, env: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "statistics.json"
    constraints = tmp_path / "constraints.json"
    constraints.write_text(json.dumps({"version": 0.0, "features": []}))
    out = tmp_path / "out"
    run = run_cli(["analyze", "--input", str(env["live"]), "--output", str(out),
                   "--baseline-statistics", str(missing), "--baseline-constraints", str(constraints)], out)
    assert run.code == 1
    summary = run.summary
    assert summary["status"] == "Failed"
    assert str(missing) in summary["failure_reason"]
    assert _one_line(run) == f"Failed: {summary['failure_reason']}"
    _assert_outputs_complete(out)


def test_missing_output_is_a_usage_error(spark: Any, env: dict[str, Path], tmp_path: Path) -> None:
    run = run_cli(["baseline", "--input", str(env["base"])], tmp_path)
    assert run.code == 2
    assert "--output" in run.stderr
    assert run.stdout == ""


def test_start_without_end_is_a_usage_error(spark: Any, env: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = run_cli(["analyze", "--input", str(env["live"]), "--output", str(out), "--start", "2024-05-01T11:00:00Z",
                   "--baseline-statistics", "s.json", "--baseline-constraints", "c.json"], out)
    assert run.code == 2
    assert "--start and --end must be given together" in run.stderr
    assert not (out / "summary.json").exists()


def test_bad_dataset_config_json_is_a_usage_error(spark: Any, env: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "dataset.json"
    config.write_text('{"input": {"names": ["a", "b"]')
    out = tmp_path / "out"
    run = run_cli(["baseline", "--input", str(env["base"]), "--output", str(out), "--dataset-config", str(config)],
                  out)
    assert run.code == 2
    assert "is not valid JSON" in run.stderr and str(config) in run.stderr
    assert not (out / "summary.json").exists()
