"""`deequ_checks` end to end in the CLI (the service: tests/service/test_deequ_service.py): they run
through Deequ's VerificationSuite on the window's records and its anomaly strategies over the
metric history; each failure is a violation. Expected ratios and values come from pandas / plain
arithmetic on the same data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from monitor_service.cli.main import main

pytestmark = [pytest.mark.spark, pytest.mark.deequ]

ROWS = pd.DataFrame({
    "id": ["1", "2", "3", "4", "5", "6", "7", "7"],
    "email": ["a@x.com", "b@x.com", "c@x.org", "nope", "d@y.net", "e@y.net", "f@z.io", "bad"],
    "age": ["30", "41", "95", "22", "67", "58", "33", "49"],
    "price": ["1.5", "2.0", "-3.0", "4.25", "0.0", "9.5", "3.5", "7.0"],
})


def _violations(folder: Path) -> list[dict[str, str]]:
    return json.loads((folder / "constraint_violations.json").read_text())["violations"]


def _deequ(violations: list[dict[str, str]], check_type: str = "deequ_check") -> dict[str, str]:
    return {v["feature_name"]: v["description"] for v in violations if v["constraint_check_type"] == check_type}


def test_cli_analyze_runs_deequ_checks(spark: Any, deequ_runtime: None, tmp_path: Path) -> None:
    data = tmp_path / "window.csv"
    ROWS.to_csv(data, index=False)
    common = ["--input", str(data), "--format", "csv", "--header"]
    assert main(["baseline", *common, "--output", str(tmp_path / "baseline")]) == 0
    constraints_path = tmp_path / "baseline" / "constraints.json"
    constraints = json.loads(constraints_path.read_text())
    constraints["deequ_checks"] = [
        {"check": "isUnique", "column": "id", "severity": "error"},
        {"check": "isComplete", "column": "id"},
        {"check": "containsEmail", "column": "email"},
        {"check": "hasMax", "column": "age", "assertion": {"op": "<", "value": 90}, "description": "ages are < 90"},
        {"check": "hasMin", "column": "age", "assertion": {"op": ">=", "value": 18}},
        {"check": "satisfies", "expression": "price >= 0", "name": "price non-negative"},
        {"check": "anomaly", "column": "age", "metric": "mean",
         "strategy": {"strategy": "RelativeRateOfChangeStrategy", "maxRateDecrease": 0.9, "maxRateIncrease": 1.1}},
    ]
    constraints_path.write_text(json.dumps(constraints))
    mean_age = ROWS["age"].astype(float).mean()  # 49.375
    history = tmp_path / "history.json"
    history.write_text(json.dumps({"features": {"age": {"mean": [
        {"time": "2024-05-01T00:00:00Z", "value": 40.0}, {"time": "2024-05-02T00:00:00Z", "value": 41.0}]}}}))
    out = tmp_path / "analysis"
    code = main(["analyze", *common, "--output", str(out), "--baseline-statistics",
                 str(tmp_path / "baseline" / "statistics.json"), "--baseline-constraints", str(constraints_path),
                 "--anomaly-history", str(history)])
    assert code == 3
    found = _deequ(_violations(out))
    # pandas: uniqueness = values seen once / rows; compliance and pattern ratios = matching rows / rows
    uniqueness = (ROWS["id"].value_counts() == 1).sum() / len(ROWS)
    emails = ROWS["email"].str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+").mean()
    non_negative = (ROWS["price"].astype(float) >= 0).mean()
    assert (uniqueness, emails, non_negative) == (0.75, 0.75, 0.875)
    assert set(found) == {"id", "email", "age", "price non-negative"}
    assert found["id"].startswith("error: isUnique(id) failed: Value: 0.75 does not meet the constraint requirement")
    assert "containsEmail(email) failed: Value: 0.75" in found["email"]
    assert f"hasMax(age) < 90 failed: Value: {ROWS['age'].astype(float).max()}" in found["age"]
    assert found["age"].endswith("(ages are < 90)")
    assert "satisfies(price >= 0) failed: Value: 0.875" in found["price non-negative"]
    anomalies = _deequ(_violations(out), "deequ_anomaly_check")
    assert mean_age / 41.0 > 1.1  # the rate of change Deequ must flag
    assert list(anomalies) == ["age"] and f"mean {mean_age:g} is an anomaly given 2 earlier windows" in anomalies["age"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["violations_by_check"]["deequ_check"] == 4
    assert summary["violations_by_check"]["deequ_anomaly_check"] == 1
