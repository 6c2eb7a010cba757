"""`deequ_checks` over REST: accepted in uploads and constraint edits, refused with the entry and the reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import CONSTRAINTS, STATISTICS

GOOD = [
    {"check": "isUnique", "column": "_c0", "severity": "error"},
    {"check": "hasMax", "column": "_c1", "assertion": {"op": "between", "value": [0, 100]}},
    {"check": "anomaly", "column": "_c1", "metric": "mean", "strategy": {"strategy": "OnlineNormalStrategy"}},
]
BAD = [
    ([{"check": "isUniqe", "column": "_c0"}], "deequ_checks[0] (isUniqe): unknown Deequ check 'isUniqe'"),
    ([GOOD[0], {"check": "hasMax", "column": "_c1"}], "deequ_checks[1] (hasMax): hasMax needs an assertion"),
    ([{"check": "hasCompleteness", "column": "_c1", "assertion": {"op": ">=", "value": 1.5}}],
     "asserts a metric in [0, 1]"),
    ([{"check": "hasCorrelation", "columns": ["_c1"], "assertion": {"op": ">", "value": 0}}],
     "compares exactly 2 columns, got 1"),
    ([{"check": "isUnique", "column": "_c0", "pattern": "x"}], "isUnique takes no 'pattern'"),
    ([{"check": "anomaly", "column": "_c1", "metric": "median", "strategy": {"strategy": "OnlineNormalStrategy"}}],
     "metric 'median' is not stored per window"),
    ([{"check": "anomaly", "column": "_c1", "metric": "mean",
       "strategy": {"strategy": "SimpleThresholdStrategy", "lowerBound": 5, "upperBound": 1}}], "lowerBound 5"),
    ([GOOD[0], GOOD[0]], "more than once"),
]


@pytest.mark.parametrize(("checks", "message"), BAD)
def test_upload_refuses_bad_checks(client: TestClient, admin: dict[str, str], checks: list[Any],
                                   message: str) -> None:
    constraints = {**copy.deepcopy(CONSTRAINTS), "deequ_checks": checks}
    response = client.post("/api/v1/baselines", headers=admin,
                           json={"name": "bad", "statistics": STATISTICS, "constraints": constraints})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"][:2] == ["body", "constraints"] and message in error["msg"], error


@pytest.mark.parametrize(("checks", "message"), BAD)
def test_patch_refuses_bad_checks(client: TestClient, admin: dict[str, str], baseline_id: str, checks: list[Any],
                                  message: str) -> None:
    response = client.patch(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin,
                            json={"deequ_checks": checks})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "deequ_checks"] and message in error["msg"], error
    assert client.get(f"/api/v1/baselines/{baseline_id}", headers=admin).json()["version"] == 1


def test_checks_are_edited_and_removed(client: TestClient, admin: dict[str, str], baseline_id: str) -> None:
    url = f"/api/v1/baselines/{baseline_id}/constraints"
    assert client.patch(url, headers=admin, json={"deequ_checks": GOOD}).status_code == 200
    stored = client.get(url, headers=admin).json()
    assert [c["check"] for c in stored["deequ_checks"]] == ["isUnique", "hasMax", "anomaly"]
    assert stored["features"] == CONSTRAINTS["features"]  # SageMaker's part untouched
    assert client.patch(url, headers=admin, json={"checks": {"completeness_check": False}}).status_code == 200
    assert len(client.get(url, headers=admin).json()["deequ_checks"]) == 3  # other edits keep the block
    assert client.patch(url, headers=admin, json={"deequ_checks": None}).status_code == 200
    assert "deequ_checks" not in client.get(url, headers=admin).json()
    replaced = {**copy.deepcopy(CONSTRAINTS), "deequ_checks": [{"check": "isPositive", "column": "_c0", "x": 1}]}
    response = client.put(url, headers=admin, json=replaced)
    assert response.status_code == 422 and "Extra inputs" in response.text
