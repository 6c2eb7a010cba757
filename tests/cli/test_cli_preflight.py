"""The CLI before and around Spark (issue 7, items 3 and 9): a missing input fails before a JVM is
started, and "this is a bug" points at a traceback that was really written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor_service.runner.common import JobClock, describe_failure, job_outcome, new_summary
from monitor_service.specs import InputSpec

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [
    ["baseline"],
    ["analyze", "--baseline-statistics", "s.json", "--baseline-constraints", "c.json"],
    ["baseline", "--monitor-type", "ModelQuality", "--problem-type", "Regression", "--inference-attribute", "0",
     "--ground-truth-attribute", "1"],
])
def test_a_missing_input_fails_before_spark_starts(tmp_path: Path, command: list[str]) -> None:
    """In a child process with pyspark made unimportable: the job must end without touching Spark."""
    out = tmp_path / "out"
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "from monitor_service.cli.main import main\n"
            f"sys.exit(main({[*command, '--input', str(tmp_path / 'nope' / '*.jsonl'), '--output', str(out)]!r}))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                         check=False)
    assert run.returncode == 1, run.stderr
    assert f"input path does not exist: {tmp_path / 'nope' / '*.jsonl'}" in run.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "Failed" and "does not exist" in summary["failure_reason"]
    assert "Traceback" not in run.stderr


def test_an_unexpected_failure_points_at_a_traceback_that_exists(tmp_path: Path) -> None:
    summary = new_summary("baseline", InputSpec(path=str(tmp_path)), str(tmp_path / "out"))
    with job_outcome(summary, _clock()):
        raise KeyError("missing")  # a bug: an error nobody meant to raise
    assert summary.status == "Failed"
    log = tmp_path / "out" / "error.log"
    assert summary.failure_reason == (f"Unexpected KeyError while running the job: 'missing'. This is a bug in "
                                      f"monitor-service; the traceback is in {log}.")
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "KeyError: 'missing'" in text


def test_without_a_writable_output_the_reason_claims_no_log(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    reason = describe_failure(KeyError("x"), output_dir=str(blocked / "out"))
    assert reason.endswith("This is a bug in monitor-service; please report it with this message.")
    assert "log" not in reason


def _clock() -> JobClock:
    return JobClock()
