"""The service demo: the whole service on its embedded defaults, driven over REST.

Given capture data already written (by the overall demo's generator) and a baseline, it
starts the API (in-process, through FastAPI's TestClient), registers the baseline, creates an
hourly schedule and a webhook, lets the scheduler run each hour of the data on a local
SparkSession, and prints the executions, the violations and the alerts fetched over REST.
Time is simulated: the scheduler's clock walks through the hours the data covers, so the demo
runs in a minute instead of a day while exercising exactly the production code paths.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from monitor_service.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from monitor_service.api import create_app
from monitor_service.core.registry import Registry
from monitor_service.monitors import MONITORS
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.scheduler.service import MonitorScheduler
from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade

WEBHOOK_SECRET = "demo-webhook-secret-0123456789"


class SimulatedClock:
    """A clock the demo moves forward hour by hour."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


def run_service_demo(workdir: Path, capture_path: str, *, baseline_statistics: Path, baseline_constraints: Path,
                     first_hour: datetime, hours: int, dataset_config: dict[str, Any] | None = None,
                     monitors: Registry[MonitorPlugin] | None = None, spark_master: str | None = "local[*]",
                     out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run `hours` hourly windows from `first_hour` over `capture_path`; returns the violations.

    `monitors` replaces the real engine (tests pass a fake one, with `spark_master=None` so
    that no SparkSession is started).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite:///{workdir / 'monitor.db'}", artifact_root=str(workdir / "artifacts"),
                        spark_master=spark_master or "local[*]", catchup_max_windows=hours + 1,
                        webhook_backoff_seconds=1, input_roots=capture_path)
    start = first_hour.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    clock = SimulatedClock(start)
    engine = make_engine(settings)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        admin_key = create_key(session, role="admin", name="demo", now=clock.now())[1]
    headers = {"Authorization": f"Bearer {admin_key}"}
    alerts: list[dict[str, Any]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        signed = verify(WEBHOOK_SECRET, int(request.headers[TIMESTAMP_HEADER]), body,
                        request.headers[SIGNATURE_HEADER])
        alerts.append({"signature_ok": signed, **json.loads(body)})
        return httpx.Response(200)

    with TestClient(create_app(settings, clock=clock, monitors=monitors)) as api, \
            httpx.Client(transport=httpx.MockTransport(receiver)) as http:
        def call(method: str, path: str, **kwargs: Any) -> Any:
            response = api.request(method, path, headers=headers, **kwargs)
            if response.status_code >= 400:
                raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text}")
            return response.json()

        baseline = call("POST", "/api/v1/baselines", json={
            "name": "demo-baseline", "statistics": json.loads(baseline_statistics.read_text()),
            "constraints": json.loads(baseline_constraints.read_text())})
        out(f"registered baseline {baseline['id']} ({baseline['features']} features)")
        schedule = call("POST", "/api/v1/schedules", json={
            "name": "demo-hourly", "monitor_type": "DataQuality", "baseline_id": baseline["id"],
            "input": {"path": capture_path, "format": "capture",
                      **({"dataset_config": dataset_config} if dataset_config else {})},
            "schedule_expression": "cron(0 * ? * * *)"})
        out(f"created schedule {schedule['name']} ({schedule['schedule_expression']}), "
            f"first window {schedule['next_runs'][0]['window_start']} .. {schedule['next_runs'][0]['window_end']}")
        call("POST", "/api/v1/webhooks", json={"name": "demo", "url": "https://alerts.example.com/monitor",
                                               "secret": WEBHOOK_SECRET})
        spark = functools.cache(lambda: None if spark_master is None else _session(spark_master))
        scheduler = MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(settings.artifact_root),
                                     settings=settings, monitors=monitors or MONITORS, clock=clock, spark=spark,
                                     http=http, resolve=_simulated_dns)
        for hour in range(1, hours + 1):
            clock.current = start + timedelta(hours=hour, minutes=1)
            for execution_id, status in scheduler.tick().items():
                run = call("GET", f"/api/v1/executions/{execution_id}")
                detail = run["failure_reason"] or f"{run['violation_count']} violations"
                out(f"  window {run['window_start']} .. {run['window_end']}: {status:<24} "
                    f"{run['records_analyzed'] or 0:>6} records analyzed ({run['records_read'] or 0} read), {detail}")
        violations = call("GET", "/api/v1/violations", params={"schedule_id": schedule["id"], "limit": 1000})["items"]
        out(f"\nGET /api/v1/violations?schedule_id={schedule['id']} -> {len(violations)} violations, newest first:")
        for v in violations:
            out(f"  {v['window_end']}  {v['feature_name']:<20} {v['constraint_check_type']:<26} {v['description']}")
        out(f"\nwebhook alerts received (HMAC verified): "
            f"{[(a['event'], a['signature_ok']) for a in alerts] or 'none'}")
    engine.dispose()
    return list(violations)


def _simulated_dns(host: str, port: int) -> list[str]:
    """The demo's webhook receiver is simulated in-process: its (public) host is never looked up."""
    return ["93.184.216.34"]


def _session(master: str) -> Any:
    from monitor_service.spark.session import get_session

    return get_session(master=master, app_name="monitor-demo")
