"""A real `monitor serve` process on a loopback port, with generated history, for browser and Prometheus tests.

History is made the way production makes it, without Spark: schedules and backfills go through
the server's REST API, and an in-process scheduler (the real `MonitorScheduler`, sharing the
server's SQLite database) runs the windows with jobs that skip only the Spark profiling step.
The data-quality job builds each window's profile from synthetic values and then runs the real
analysis code (`finish_analysis`: the checks, statistics.json, constraint_violations.json, the
constraints it used and report.html); the model-quality job writes a violations file, metrics
(measured and CBPE-estimated) and the real report.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from monitor_service.core.constraints import read_constraints, suggest_constraints
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.statistics import read_statistics, to_statistics_json
from monitor_service.monitors import builtin_monitors, replace_jobs
from monitor_service.monitors.data_quality.analysis_job import finish_analysis
from monitor_service.monitors.data_quality.requests import AnalyzeRequest
from monitor_service.monitors.model_quality.constraints import evaluate, parse_constraints
from monitor_service.monitors.model_quality.report import write_model_quality_report
from monitor_service.monitors.model_quality.requests import ModelQualityAnalyzeRequest
from monitor_service.runner.common import JobClock, job_outcome, new_summary
from monitor_service.runner.summary import RunSummary
from monitor_service.scheduler.clock import SystemClock
from monitor_service.scheduler.service import MonitorScheduler
from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from tests.unit.profile_builders import histogram, numeric_column, string_column

REPO = Path(__file__).resolve().parents[2]
ROWS = 400
INPUT_ROOT = "/capture"  # where the generated schedules say their capture is (never read: jobs skip Spark)
MQ_CONSTRAINTS = {"version": 0.0, "binary_classification_constraints": {
    "auc": {"threshold": 0.75, "comparison_operator": "LessThanThreshold"},
    "f2": {"threshold": 0.6, "comparison_operator": "LessThanThreshold"},
    "accuracy": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"}}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _hours_back(start: datetime, newest: datetime) -> int:
    """How many hours before the newest backfilled window `start` is (0: the newest, -1: one that came
    due meanwhile). The patterns below count from there, not from the clock, so what the newest window
    shows does not depend on the time of day the tests run."""
    return int((newest - start).total_seconds() // 3600)


def baseline_profile() -> DatasetProfile:
    rng = np.random.default_rng(1)
    return DatasetProfile(3000, [
        numeric_column("age", rng.normal(40, 5, 3000)),
        numeric_column("income", rng.lognormal(3, 0.8, 3000)),
        numeric_column("score", rng.uniform(0, 1, 3000)),
        string_column("color", histogram(rng.choice(["red", "green", "blue"], 3000, p=[0.5, 0.3, 0.2]))),
    ])


def window_profile(start: datetime, newest: datetime) -> DatasetProfile:
    """Age always drifts (by 3 to 5 years, so beyond the 0.1 threshold) and drifts most; every 5th hour
    loses income values and every 4th shifts colours, never in the newest window."""
    hour = _hours_back(start, newest)
    rng = np.random.default_rng(int(start.timestamp()) // 3600)
    drift = 3 + 2 * (hour % 6) / 5
    missing = 40 if hour % 5 == 3 else 0
    colors = [0.2, 0.3, 0.5] if hour % 4 == 2 else [0.5, 0.3, 0.2]
    return DatasetProfile(ROWS, [
        numeric_column("age", rng.normal(40 + drift, 5, ROWS)),
        numeric_column("income", rng.lognormal(3, 0.8, ROWS - missing), missing=missing),
        numeric_column("score", rng.uniform(0, 1, ROWS)),
        string_column("color", histogram(rng.choice(["red", "green", "blue"], ROWS, p=colors))),
    ])


@dataclass
class HistoryJobs:
    """The scheduler's jobs: everything but Spark, as the real runs do it."""

    dq_runs: list[AnalyzeRequest] = field(default_factory=list)
    # The start of the newest backfilled data-quality window (set by `populate`).
    newest: datetime = field(default_factory=lambda: datetime.now(UTC))

    def data_quality(self, spark: Any, request: AnalyzeRequest) -> RunSummary:
        self.dq_runs.append(request)
        assert request.input.window is not None
        summary = new_summary("analyze", request.input, request.output_dir)
        with job_outcome(summary, JobClock()):
            window = window_profile(request.input.window.start, self.newest)
            summary.records_read = summary.records_analyzed = int(window.item_count)
            finish_analysis(request, read_statistics(request.baseline_statistics).profile, window,
                            read_constraints(request.baseline_constraints), summary)
        return summary

    def model_quality(self, spark: Any, request: ModelQualityAnalyzeRequest) -> RunSummary:
        assert request.input.window is not None
        hour = _hours_back(request.input.window.start, self.newest)
        summary = new_summary("analyze", request.input, request.output_dir)
        summary.monitor_type = "ModelQuality"
        with job_outcome(summary, JobClock()):
            auc = 0.9 - ((hour + 16) % 24) * 0.01  # below its 0.75 constraint in the newest windows
            measured = {"auc": auc, "f2": 0.7 - (hour % 6) * 0.02, "accuracy": 0.82 - (hour % 12) * 0.01}
            estimated = {name: value - 0.015 for name, value in measured.items()}
            labelled = 300 - (hour % 3) * 50
            summary.feature_metrics = {"model_quality": measured, "model_quality_estimated": estimated,
                                       "records": {"labelled": float(labelled), "unlabelled": float(400 - labelled)}}
            summary.records_read, summary.records_analyzed = 400, labelled
            constraints = parse_constraints(MQ_CONSTRAINTS, "BinaryClassification")
            violations = evaluate({"auc": {"value": auc, "standard_deviation": 0.01},
                                   "f2": {"value": measured["f2"], "standard_deviation": 0.01},
                                   "accuracy": {"value": measured["accuracy"], "standard_deviation": 0.01}},
                                  constraints)
            out = Path(request.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            import json

            (out / "constraint_violations.json").write_text(json.dumps({"violations": violations}))
            summary.artifacts["constraint_violations"] = str(out / "constraint_violations.json")
            summary.violations = len(violations)
            summary.status = "CompletedWithViolations" if violations else "Completed"
            write_model_quality_report(str(out), summary, constraints, violations, "BinaryClassification")
        return summary


@dataclass
class Served:
    """The running server, its keys and ids, and the scheduler that runs its windows."""

    url: str
    admin_key: str
    read_key: str
    settings: Settings
    scheduler: MonitorScheduler
    jobs: HistoryJobs
    dq_schedule: str = ""
    mq_schedule: str = ""
    dq_baseline: str = ""
    windows: int = 0
    log: Path = Path()

    def api(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"Authorization": f"Bearer {key or self.admin_key}"})

    def run_pending(self) -> dict[str, str]:
        """Run every Pending execution now (bounded: the scheduler claims what exists)."""
        return self.scheduler.tick()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"monitor serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"monitor serve did not answer /healthz within {timeout} s: {log.read_text()[-2000:]}")


@contextmanager
def serve(folder: Path, **environment: str) -> Iterator[tuple[str, Settings, Path]]:
    """`monitor serve` as its own process on a free loopback port (stopped on exit)."""
    # The generated schedules read /capture/...: an input root of this service (inputs must lie under one).
    settings = Settings(database_url=f"sqlite:///{folder}/monitor.db", artifact_root=str(folder / "artifacts"),
                        input_roots=INPUT_ROOT)
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    port = free_port()
    env = {**os.environ, "MONITOR_DATABASE_URL": settings.database_url, "MONITOR_ARTIFACT_ROOT": settings.artifact_root,
           "MONITOR_INPUT_ROOTS": INPUT_ROOT, **environment}
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "monitor_service.cli.main", "serve", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url, settings, log
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """End a server this test started: SIGTERM, then SIGKILL if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _expect(response: httpx.Response, code: int) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def populate(served: Served, hours: int) -> None:
    """Baselines, one schedule per monitor type, `hours` backfilled windows each, all run."""
    with served.api() as api:
        base = baseline_profile()
        dq = _expect(api.post("/api/v1/baselines", json={
            "name": "churn-baseline", "monitor_type": "DataQuality", "statistics": to_statistics_json(base),
            "constraints": suggest_constraints(base).to_dict()}), 201)
        mq = _expect(api.post("/api/v1/baselines", json={"name": "churn-quality-baseline",
                                                         "monitor_type": "ModelQuality",
                                                         "constraints": MQ_CONSTRAINTS}), 201)
        served.dq_baseline = dq["id"]
        served.dq_schedule = _expect(api.post("/api/v1/schedules", json={
            "name": "churn-hourly", "monitor_type": "DataQuality", "baseline_id": dq["id"],
            "input": {"path": f"{INPUT_ROOT}/churn/AllTraffic", "format": "capture"},
            "schedule_expression": "cron(0 * ? * * *)"}), 201)["id"]
        served.mq_schedule = _expect(api.post("/api/v1/schedules", json={
            "name": "churn-quality", "monitor_type": "ModelQuality", "baseline_id": mq["id"],
            "input": {"path": f"{INPUT_ROOT}/churn/AllTraffic", "format": "capture"},
            "schedule_expression": "cron(0 * ? * * *)", "start_offset": "-PT2H", "end_offset": "-PT1H",
            "model_quality": {"problem_type": "BinaryClassification", "probability_attribute": "0",
                              "inference_attribute": "1"}}), 201)["id"]
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        served.jobs.newest = now - timedelta(hours=1)
        for schedule in (served.dq_schedule, served.mq_schedule):
            created = _expect(api.post(f"/api/v1/schedules/{schedule}/backfill", json={
                "start": (now - timedelta(hours=hours + 2)).isoformat(), "end": now.isoformat()}), 202)["created"]
            assert created
    # The planner may add the window that just came due: run them all, whatever their number.
    served.run_pending()
    with served.api() as api:
        served.windows = len(_expect(api.get("/api/v1/executions", params={"schedule_id": served.dq_schedule,
                                                                          "limit": 1000}), 200)["items"])


@contextmanager
def served_history(folder: Path, hours: int = 30) -> Iterator[Served]:
    folder.mkdir(parents=True, exist_ok=True)
    with serve(folder) as (url, settings, log):
        engine = make_engine(settings)
        factory = make_sessionmaker(engine)
        now = datetime.now(UTC)
        with transaction(factory) as session:
            admin = create_key(session, role="admin", name="e2e admin", now=now)[1]
            reader = create_key(session, role="read", name="e2e reader", now=now)[1]
        jobs = HistoryJobs()
        monitors = replace_jobs(builtin_monitors(), {"DataQuality": (jobs.data_quality, None),
                                                     "ModelQuality": (jobs.model_quality, None)})
        with httpx.Client() as http:
            scheduler = MonitorScheduler(factory=factory, artifacts=ArtifactStore(settings.artifact_root),
                                         settings=settings.model_copy(update={"catchup_max_windows": 0}),
                                         monitors=monitors, clock=SystemClock(), spark=lambda: None, http=http,
                                         owner="e2e-scheduler")
            served = Served(url=url, admin_key=admin, read_key=reader, settings=settings, scheduler=scheduler,
                            jobs=jobs, log=log)
            populate(served, hours)
            yield served
        engine.dispose()
