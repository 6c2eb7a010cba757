"""The deployment demo (demo/rollout.py): the broken canary is rolled back, the fixed version completes."""

from __future__ import annotations

from pathlib import Path

from demo.rollout import run_rollout_demo


def test_rollout_demo(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_rollout_demo(tmp_path) == 0
    out = capsys.readouterr().out
    assert "RolledBack" in out and "gate errors failed 2 evaluation(s) in a row" in out
    assert "scale out 1 -> 4" in out and (tmp_path / "autoscaling.html").exists()
