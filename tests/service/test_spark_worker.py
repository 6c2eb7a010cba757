"""The worker with the real data-quality engine on the shared session-scoped SparkSession."""

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

pytestmark = pytest.mark.spark


def test_real_engine_window(spark: Any, settings: Settings, engine: Engine, clock: FakeClock,
                            admin: dict[str, str], fixtures_dir: Path, tmp_path: Path) -> None:
    capture = fixtures_dir / "capture_endpoint_csv_xgb_churn.jsonl"
    settings = settings.model_copy(update={"input_roots": f"{settings.input_roots},{fixtures_dir}"})  # reads a fixture
    with TestClient(create_app(settings, clock=clock)) as client:
        started = client.post("/api/v1/baseline-jobs", headers=admin,
                              json={"name": "churn", "input": {"path": str(capture), "format": "capture"}}).json()
        with httpx.Client() as http:
            scheduler = MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(
                settings.artifact_root), settings=settings, monitors=MONITORS, clock=clock,
                spark=lambda: spark, http=http)
            assert scheduler.tick()[started["execution_id"]] == "Completed"
            baseline = client.get(f"/api/v1/baselines/{started['id']}", headers=admin).json()
            assert baseline["status"] == "Ready", baseline["failure_reason"]
            lines = [json.loads(line) for line in capture.read_text().splitlines() if line.strip()]
            times = sorted(line["eventMetadata"]["inferenceTime"] for line in lines)
            schedule = client.post("/api/v1/schedules", headers=admin, json={
                "name": "churn", "input": {"path": str(capture), "format": "capture"}, "baseline_id": started["id"],
                "schedule_expression": "rate(1 day)"}).json()
            clock.set(clock.current.replace(year=2100))
            run = client.post(f"/api/v1/schedules/{schedule['id']}/executions", headers=admin,
                              json={"start": times[0][:10] + "T00:00:00Z", "end": "2099-01-01T00:00:00Z"}).json()
            assert scheduler.tick()[run["id"]] in {"Completed", "CompletedWithViolations"}
            done = client.get(f"/api/v1/executions/{run['id']}", headers=admin).json()
            assert done["records_read"] == len(lines) and "statistics.json" in done["artifacts"]
