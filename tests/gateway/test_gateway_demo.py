"""The gateway demo (demo/gateway.py): two variants served, capture uploaded, drift found on both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from demo.gateway import run_gateway_demo

pytestmark = pytest.mark.spark


def test_gateway_demo_finds_the_injected_drift(spark: Any, tmp_path: Path) -> None:
    assert run_gateway_demo(tmp_path, spark, requests=300) == 3  # completed with violations
    for variant in ("Blue", "Green"):
        lines = [json.loads(x) for p in (tmp_path / "capture" / "churn" / variant).rglob("*.jsonl")
                 for x in p.read_text().splitlines()]
        assert lines and all(x["captureData"]["endpointInput"]["encoding"] == "CSV" for x in lines)
        violations = json.loads((tmp_path / "monitoring" / variant / "constraint_violations.json").read_text())
        assert {"_c1"} <= {v["feature_name"] for v in violations["violations"]}  # the drifted first feature
    ids = {x["eventMetadata"]["inferenceId"] for p in (tmp_path / "capture").rglob("*.jsonl")
           for x in map(json.loads, p.read_text().splitlines())}
    assert ids == {f"demo-{i}" for i in range(300)}
