"""Service test fixtures: every test runs on SQLite and on PostgreSQL (its own throwaway database).

The engine is built once per backend and the schema upgraded by Alembic; each test starts from
empty tables. Time comes from a hand-driven clock and jobs from a fake runner that writes the
same files as the real engine, so scheduler behaviour is exact and fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from monitor_service.api import create_app
from monitor_service.core.registry import Registry
from monitor_service.monitors import builtin_monitors, replace_jobs
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.monitors.data_quality.requests import AnalyzeRequest, BaselineRequest
from monitor_service.runner.summary import Quarantined, RunSummary
from monitor_service.scheduler.service import MonitorScheduler
from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from monitor_service.store.models import Base
from tests.pg_server import fresh_database

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(request.param, sqlite_dir=tmp_path_factory.mktemp("sqlite"), prefix="monitor_test",
                        admin_url=lambda: request.getfixturevalue("postgres_admin_url")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=database_url))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Settings]:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    # The inputs these tests name live under /data (and /d), s3://labels and the test's folder;
    # webhooks are sent to hooks.example.com (resolved by `fake_resolver`) and 127.0.0.1.
    yield Settings(database_url=database_url, artifact_root=str(tmp_path / "artifacts"), auto_migrate=False,
                   input_roots=f"/data,/d,s3://labels,{tmp_path}", webhook_allowed_hosts="127.0.0.1",
                   lease_seconds=60,
                   max_attempts=3, catchup_max_windows=5, worker_concurrency=2, webhook_backoff_seconds=10,
                   webhook_max_attempts=3, max_request_bytes=2_000_000)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class FakeRunner:
    """Writes the files the real engine writes; drifts `drifted` windows; fails or raises on request."""

    drifted: set[datetime] = field(default_factory=set)
    fail_with: str | None = None
    raise_with: Exception | None = None
    calls: list[AnalyzeRequest] = field(default_factory=list)
    baseline_calls: list[BaselineRequest] = field(default_factory=list)
    on_run: Callable[[AnalyzeRequest], None] | None = None

    def analyze(self, spark: Any, request: AnalyzeRequest) -> RunSummary:
        self.calls.append(request)
        if self.on_run is not None:
            self.on_run(request)
        if self.raise_with is not None:
            raise self.raise_with
        if self.fail_with is not None:
            return write_reports(request.output_dir, RunSummary(job="analyze", status="Failed",
                                                                failure_reason=self.fail_with), {})
        window = request.input.window
        drift = window is not None and window.start in self.drifted
        violations = [{"feature_name": "_c1", "constraint_check_type": "baseline_drift_check",
                       "description": "Baseline drift distance: 0.42 exceeds threshold: 0.1"},
                      {"feature_name": "_c2", "constraint_check_type": "completeness_check",
                       "description": "Value: 0.5 does not meet the constraint requirement! "}] if drift else []
        summary = RunSummary(
            job="analyze", status="CompletedWithViolations" if violations else "Completed", records_read=100,
            records_analyzed=97, records_quarantined=Quarantined(total=3, by_reason={"bad_json": 3}),
            features=2, violations=len(violations),
            feature_metrics={"_c1": {"drift_distance": 0.42 if drift else 0.02, "completeness": 1.0, "mean": 3.5},
                             "_c2": {"drift_distance": 0.01, "completeness": 0.5 if drift else 1.0}})
        return write_reports(request.output_dir, summary, {"statistics": {"version": 0.0, "features": []},
                                                           "constraint_violations": {"violations": violations}})

    def baseline(self, spark: Any, request: BaselineRequest) -> RunSummary:
        self.baseline_calls.append(request)
        return write_reports(request.output_dir, RunSummary(job="baseline", status="Completed", records_read=10,
                                                            features=1),
                             {"statistics": STATISTICS, "constraints": CONSTRAINTS})


def write_reports(output_dir: str, summary: RunSummary, documents: dict[str, Any]) -> RunSummary:
    """Write each document as `{name}.json` and list it in the summary, as the engine does; then summary.json."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        (out / f"{name}.json").write_text(json.dumps(document))
        summary.artifacts[name] = str(out / f"{name}.json")
    (out / "summary.json").write_text(summary.model_dump_json())
    return summary


FIXTURES = Path(os.environ.get("MONITOR_SHARED_FIXTURES",
                               Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "sagemaker"))
STATISTICS: dict[str, Any] = json.loads((FIXTURES / "data_quality_statistics_numeric_6features.json").read_text())
CONSTRAINTS: dict[str, Any] = json.loads((FIXTURES / "data_quality_constraints_numeric_6features.json").read_text())


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def monitors(runner: FakeRunner) -> Registry[MonitorPlugin]:
    """The real monitor types; DataQuality runs the fake runner instead of Spark."""
    return replace_jobs(builtin_monitors(), {"DataQuality": (runner.analyze, runner.baseline)})


@pytest.fixture
def client(settings: Settings, clock: FakeClock, monitors: Registry[MonitorPlugin]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock, monitors=monitors)) as test_client:
        yield test_client


def _key(engine: Engine, role: str) -> str:
    with transaction(make_sessionmaker(engine)) as session:
        return create_key(session, role=role, name=f"test {role}", now=T0)[1]


@pytest.fixture
def admin(settings: Settings, engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {_key(engine, 'admin')}"}


@pytest.fixture
def reader(settings: Settings, engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {_key(engine, 'read')}"}


@dataclass
class Receiver:
    """A webhook endpoint living in an httpx MockTransport."""

    answers: list[int] = field(default_factory=list)
    received: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return httpx.Response(self.answers.pop(0) if self.answers else 200)


PUBLIC_ADDRESS = "93.184.216.34"  # what every test host name "resolves" to; never connected to (MockTransport)


def fake_resolver(host: str, port: int) -> list[str]:
    """DNS for the tests: no lookups leave the machine."""
    return [PUBLIC_ADDRESS]


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def make_scheduler(settings: Settings, engine: Engine, clock: FakeClock, monitors: Registry[MonitorPlugin],
                   receiver: Receiver) -> Iterator[Callable[..., MonitorScheduler]]:
    clients: list[httpx.Client] = []

    def build(owner: str = "scheduler-a", **overrides: Any) -> MonitorScheduler:
        http = httpx.Client(transport=httpx.MockTransport(receiver))
        clients.append(http)
        return MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(settings.artifact_root),
                                settings=settings.model_copy(update=overrides), monitors=monitors, clock=clock,
                                spark=lambda: None, http=http, owner=owner, resolve=fake_resolver)

    yield build
    for http in clients:
        http.close()


@pytest.fixture
def baseline_id(client: TestClient, admin: dict[str, str]) -> str:
    response = client.post("/api/v1/baselines", headers=admin,
                           json={"name": "churn-baseline", "statistics": STATISTICS, "constraints": CONSTRAINTS})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def schedule_body(baseline: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "churn-hourly", "monitor_type": "DataQuality",
                            "input": {"path": "/data/capture", "format": "capture"}, "baseline_id": baseline,
                            "schedule_expression": "cron(0 * ? * * *)"}
    body.update(overrides)
    return body


@pytest.fixture
def schedule_id(client: TestClient, admin: dict[str, str], baseline_id: str) -> str:
    response = client.post("/api/v1/schedules", headers=admin, json=schedule_body(baseline_id))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
