"""`deequ_checks` in the service: a Deequ-engine baseline job, the checks edited through the
constraints API (bad ones refused with the reason), windows whose violations include the Deequ
checks and an anomaly judged on the metric history the service stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor_service.api import create_app
from monitor_service.monitors import MONITORS
from monitor_service.scheduler.service import MonitorScheduler
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_sessionmaker
from tests.service.conftest import FakeClock

pytestmark = [pytest.mark.spark, pytest.mark.deequ]

CHURN = "capture_endpoint_csv_xgb_churn.jsonl"
CHECKS = [
    {"check": "isUnique", "column": "_c1"},
    {"check": "hasMax", "column": "_c3", "assertion": {"op": "<=", "value": 200}},
    {"check": "anomaly", "column": "_c1", "metric": "mean",
     "strategy": {"strategy": "RelativeRateOfChangeStrategy", "maxRateDecrease": 0.9}},
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_service_runs_deequ_checks(spark: Any, deequ_runtime: None, settings: Settings, engine: Engine,
                                   clock: FakeClock, admin: dict[str, str], fixtures_dir: Path,
                                   tmp_path: Path) -> None:
    """A Deequ-engine baseline job, deequ_checks edited through the constraints API (bad ones refused
    with the reason), three one-record windows: the third's mean of _c1 (85 after 130) drops by more
    than the allowed rate, an anomaly judged on the history the service stored."""
    capture = tmp_path / "input" / CHURN
    capture.parent.mkdir()
    capture.write_bytes((fixtures_dir / CHURN).read_bytes())
    lines = [json.loads(line) for line in capture.read_text().splitlines()]
    first = [int(r["captureData"]["endpointInput"]["data"].split(",")[0]) for r in lines]
    third = [int(r["captureData"]["endpointInput"]["data"].split(",")[2].split(".")[0]) for r in lines]
    assert first == [132, 130, 85] and max(third) > 200
    source = {"path": str(capture), "format": "capture"}
    with TestClient(create_app(settings, clock=clock)) as client, httpx.Client() as http:
        scheduler = MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(settings.artifact_root),
                                     settings=settings, monitors=MONITORS, clock=clock, spark=lambda: spark, http=http)
        job = client.post("/api/v1/baseline-jobs", headers=admin, json={
            "name": "churn", "input": source, "data_quality": {"engine": "deequ"}}).json()
        assert scheduler.tick()[job["execution_id"]] == "Completed"
        baseline_features = client.get(f"/api/v1/baselines/{job['id']}/constraints", headers=admin).json()["features"]
        assert len(baseline_features) == 70  # profiled by Deequ: the churn capture's 69 inputs and 1 output
        bad = client.patch(f"/api/v1/baselines/{job['id']}/constraints", headers=admin,
                           json={"deequ_checks": [{"check": "isUniqe", "column": "_c1"}]})
        assert bad.status_code == 422 and "unknown Deequ check 'isUniqe'" in bad.text
        bad = client.patch(f"/api/v1/baselines/{job['id']}/constraints", headers=admin,
                           json={"deequ_checks": [{"check": "hasMax", "column": "_c3"}]})
        assert bad.status_code == 422 and "hasMax needs an assertion" in bad.text
        edited = client.patch(f"/api/v1/baselines/{job['id']}/constraints", headers=admin,
                              json={"deequ_checks": CHECKS})
        assert edited.status_code == 200, edited.text
        stored = client.get(f"/api/v1/baselines/{job['id']}/constraints", headers=admin).json()
        assert stored["deequ_checks"] == CHECKS and stored["features"] == baseline_features
        schedule = client.post("/api/v1/schedules", headers=admin, json={
            "name": "churn", "input": source, "baseline_id": job["id"], "schedule_expression": "rate(1 day)"}).json()
        clock.set(clock.current.replace(year=2100))
        runs = []
        for second in (48, 49, 50):
            run = client.post(f"/api/v1/schedules/{schedule['id']}/executions", headers=admin, json={
                "start": f"2022-04-18T00:21:{second}Z", "end": f"2022-04-18T00:21:{second + 1}Z"}).json()
            scheduler.tick()
            runs.append(client.get(f"/api/v1/executions/{run['id']}", headers=admin).json())
        assert all(r["status"] in {"Completed", "CompletedWithViolations"} for r in runs), runs
        rows = client.get("/api/v1/violations", headers=admin,
                          params={"schedule_id": schedule["id"], "check_type": "deequ_anomaly_check"}).json()["items"]
        assert [(r["execution_id"], r["feature_name"]) for r in rows] == [(runs[2]["id"], "_c1")]
        assert "85 is an anomaly given 2 earlier windows" in rows[0]["description"]
        checks = client.get("/api/v1/violations", headers=admin,
                            params={"schedule_id": schedule["id"], "check_type": "deequ_check"}).json()["items"]
        over = {r["execution_id"] for r in checks if r["feature_name"] == "_c3"}
        assert over == {r["id"] for r, value in zip(runs, third, strict=True) if value > 200}
