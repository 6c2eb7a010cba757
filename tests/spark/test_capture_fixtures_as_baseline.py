"""Every real capture fixture is usable as baseline input: the job completes and writes valid files.

Expected column counts and item counts are derived from the fixture text with `json`/`base64` only.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from monitor_service.monitors.data_quality.baseline_job import run_baseline
from monitor_service.monitors.data_quality.requests import BaselineRequest
from monitor_service.schemas import validate
from monitor_service.specs import InputSpec

pytestmark = pytest.mark.spark


def _payload(side: dict[str, str]) -> str:
    data = side["data"]
    return base64.b64decode(data).decode() if side["encoding"] == "BASE64" else data


def _expected_churn(path: Path) -> tuple[int, int]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    capture = lines[0]["captureData"]
    columns = len(_payload(capture["endpointOutput"]).strip().split(",")) + len(
        _payload(capture["endpointInput"]).strip().split(","))
    return len(lines), columns


CASES = {
    # file: (format, expected item count, expected column count) — counts rebuilt below where needed
    "capture_endpoint_csv_xgb_churn.jsonl": ("capture", None, None),
    "capture_endpoint_csv_with_inferencetime_placeholder_sdk_test.jsonl": ("capture", None, None),
    "capture_endpoint_json_sdk_test.jsonl": ("capture", 6, 2),  # 2 lines x 3 instances; prediction + input
    "capture_endpoint_jsonlines_multirecord_adult.jsonl": ("capture", 3, 16),  # 2 outputs + 14 features
    "capture_endpoint_json_in_base64_out_with_inference_id_issue2629.jsonl": ("capture", 2, 9),  # 8 in + 1 out
    "batch_transform_output_with_inference_id.jsonl": ("jsonl", 5, 18),  # id, time, 2 outputs, 14 features
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_capture_fixture_as_baseline_input(spark: Any, fixtures_dir: Path, tmp_path: Path, name: str) -> None:
    fmt, items, columns = CASES[name]
    path = fixtures_dir / name
    if items is None:
        items, columns = _expected_churn(path)
    summary = run_baseline(spark, BaselineRequest(input=InputSpec(path=str(path), format=fmt),
                                                  output_dir=str(tmp_path)))
    assert summary.status == "Completed", summary.failure_reason
    statistics = json.loads((tmp_path / "statistics.json").read_text())
    constraints = json.loads((tmp_path / "constraints.json").read_text())
    validate("statistics", statistics)
    validate("constraints", constraints)
    assert statistics["dataset"]["item_count"] == float(items)
    assert len(statistics["features"]) == columns == len(constraints["features"])
    assert summary.records_quarantined.total == 0
