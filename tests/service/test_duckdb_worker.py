"""The worker running real data-quality jobs on the DuckDB engine: no SparkSession is ever asked for.

The engine comes from the schedule's / baseline job's `data_quality.engine` setting, else from
the service default `MONITOR_ENGINE`; Spark-only monitor types still get Spark.
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

CHURN = "capture_endpoint_csv_xgb_churn.jsonl"


@pytest.fixture
def capture(fixtures_dir: Path, tmp_path: Path) -> Path:
    """The churn capture file under the test's input root (the service reads only under its roots)."""
    copy = tmp_path / "input" / CHURN
    copy.parent.mkdir()
    copy.write_bytes((fixtures_dir / CHURN).read_bytes())
    return copy


def _no_spark() -> Any:
    pytest.fail("a DuckDB-engine run asked for a SparkSession")


def _scheduler(settings: Settings, engine: Engine, clock: FakeClock, http: httpx.Client) -> MonitorScheduler:
    return MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(settings.artifact_root),
                            settings=settings, monitors=MONITORS, clock=clock, spark=_no_spark, http=http)


def _run_window(client: TestClient, admin: dict[str, str], scheduler: MonitorScheduler, clock: FakeClock,
                schedule: dict[str, Any], capture: Path) -> dict[str, Any]:
    times = sorted(json.loads(line)["eventMetadata"]["inferenceTime"] for line in capture.read_text().splitlines())
    clock.set(clock.current.replace(year=2100))
    run = client.post(f"/api/v1/schedules/{schedule['id']}/executions", headers=admin,
                      json={"start": times[0][:10] + "T00:00:00Z", "end": "2099-01-01T00:00:00Z"}).json()
    assert scheduler.tick()[run["id"]] in {"Completed", "CompletedWithViolations"}
    done: dict[str, Any] = client.get(f"/api/v1/executions/{run['id']}", headers=admin).json()
    return done


def test_engine_setting_of_baseline_job_and_schedule(settings: Settings, engine: Engine, clock: FakeClock,
                                                     admin: dict[str, str], capture: Path) -> None:
    source = {"path": str(capture), "format": "capture"}
    with TestClient(create_app(settings, clock=clock)) as client, httpx.Client() as http:
        scheduler = _scheduler(settings, engine, clock, http)
        started = client.post("/api/v1/baseline-jobs", headers=admin, json={
            "name": "churn", "input": source, "data_quality": {"engine": "duckdb"}})
        assert started.status_code == 202, started.text
        job = started.json()
        assert scheduler.tick()[job["execution_id"]] == "Completed"
        baseline = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
        assert baseline["status"] == "Ready", baseline["failure_reason"]
        created = client.post("/api/v1/schedules", headers=admin, json={
            "name": "churn", "input": source, "baseline_id": job["id"], "schedule_expression": "rate(1 day)",
            "data_quality": {"engine": "duckdb"}})
        assert created.status_code == 201, created.text
        schedule = created.json()
        assert schedule["data_quality"] == {"engine": "duckdb"}
        done = _run_window(client, admin, scheduler, clock, schedule, capture)
        assert done["records_read"] == 3 and "statistics.json" in done["artifacts"]
        summary = json.loads((Path(done["artifact_dir"]) / "summary.json").read_text())
        assert summary["engine"] == "duckdb"


def test_service_default_engine(settings: Settings, engine: Engine, clock: FakeClock, admin: dict[str, str],
                                capture: Path) -> None:
    """MONITOR_ENGINE=duckdb: data-quality runs without engine settings run on DuckDB."""
    duck = settings.model_copy(update={"engine": "duckdb"})
    source = {"path": str(capture), "format": "capture"}
    with TestClient(create_app(duck, clock=clock)) as client, httpx.Client() as http:
        scheduler = _scheduler(duck, engine, clock, http)
        started = client.post("/api/v1/baseline-jobs", headers=admin, json={"name": "churn", "input": source})
        assert started.status_code == 202, started.text
        job = started.json()
        assert scheduler.tick()[job["execution_id"]] == "Completed"
        schedule = client.post("/api/v1/schedules", headers=admin, json={
            "name": "churn", "input": source, "baseline_id": job["id"], "schedule_expression": "rate(1 day)"}).json()
        assert schedule["data_quality"] is None
        done = _run_window(client, admin, scheduler, clock, schedule, capture)
        assert done["records_read"] == 3


def test_unknown_engine_is_refused(settings: Settings, clock: FakeClock, admin: dict[str, str],
                                  capture: Path) -> None:
    with TestClient(create_app(settings, clock=clock)) as client:
        answer = client.post("/api/v1/baseline-jobs", headers=admin, json={
            "name": "x", "input": {"path": str(capture)}, "data_quality": {"engine": "pandas"}})
    assert answer.status_code == 422
    assert "engine" in json.dumps(answer.json())


def test_monitor_engine_setting_is_validated() -> None:
    from monitor_service.errors import ConfigError
    from monitor_service.settings import load_settings

    with pytest.raises(ConfigError, match="MONITOR_ENGINE"):
        load_settings(engine="pandas")
