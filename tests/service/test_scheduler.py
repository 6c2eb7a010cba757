"""The scheduler with a hand-driven clock: windows, catch-up, exactly-once, dead runs, stops, failures."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from monitor_service.errors import InputError
from monitor_service.monitors.data_quality.requests import AnalyzeRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.scheduler import planner
from monitor_service.service.executions import insert_scheduled
from monitor_service.store.models import Execution, Schedule
from tests.service.conftest import T0, FakeClock, FakeRunner, schedule_body, write_reports


def executions(client: TestClient, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    return client.get("/api/v1/executions", headers=headers, params={"limit": "1000", **query}).json()["items"]


def test_hourly_windows_and_reports(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                                    make_scheduler: Any, runner: FakeRunner) -> None:
    scheduler = make_scheduler()
    clock.advance(minutes=59)
    assert scheduler.tick() == {}
    clock.advance(minutes=2)
    assert list(scheduler.tick().values()) == ["Completed"]
    assert scheduler.tick() == {}  # the same window is never planned twice
    run = executions(client, admin)[0]
    assert (run["scheduled_time"], run["window_start"], run["window_end"]) == (
        "2024-05-01T01:00:00Z", "2024-05-01T00:00:00Z", "2024-05-01T01:00:00Z")
    assert run["artifact_dir"].endswith("/artifacts/churn-hourly/2024/05/01/01")
    assert run["records_read"] == 100 and run["records_quarantined"] == 3
    assert run["quarantined_by_reason"] == {"bad_json": 3} and run["attempts"] == 1
    request = runner.calls[0]
    assert request.output_dir == run["artifact_dir"] and request.baseline_statistics.endswith("/v1/statistics.json")
    body = client.get(run["artifacts"]["summary.json"], headers=admin)
    assert body.status_code == 200 and body.json()["status"] == "Completed"


def test_execution_reports_records_analyzed_from_its_summary(client: TestClient, admin: dict[str, str],
                                                             schedule_id: str, clock: FakeClock,
                                                             make_scheduler: Any) -> None:
    """records_read counts every record the reader saw; records_analyzed is the summary's (3 were quarantined)."""
    clock.advance(hours=1, minutes=1)
    [(execution_id, status)] = make_scheduler().tick().items()
    assert status == "Completed"
    run = client.get(f"/api/v1/executions/{execution_id}", headers=admin).json()
    assert (run["records_read"], run["records_analyzed"], run["records_quarantined"]) == (100, 97, 3)
    summary = client.get(run["artifacts"]["summary.json"], headers=admin).json()
    assert run["records_analyzed"] == summary["records_analyzed"]
    assert executions(client, admin)[0]["records_analyzed"] == 97


def test_sub_hourly_layout(client: TestClient, admin: dict[str, str], baseline_id: str, clock: FakeClock,
                           make_scheduler: Any) -> None:
    from tests.service.conftest import schedule_body

    client.post("/api/v1/schedules", headers=admin,
                json=schedule_body(baseline_id, name="fast", schedule_expression="rate(15 minutes)"))
    clock.advance(minutes=46)
    assert len(make_scheduler().tick()) == 3
    dirs = sorted(e["artifact_dir"].split("/artifacts/")[1] for e in executions(client, admin))
    assert dirs == ["fast/2024/05/01/00/15", "fast/2024/05/01/00/30", "fast/2024/05/01/00/45"]


def test_catch_up_after_downtime_is_bounded(client: TestClient, admin: dict[str, str], schedule_id: str,
                                            clock: FakeClock, make_scheduler: Any, runner: FakeRunner) -> None:
    clock.advance(hours=8, minutes=30)  # the scheduler was down; 8 windows were missed
    results = make_scheduler().tick()  # catchup_max_windows=5 in the test settings
    assert len(results) == 5
    starts = sorted(c.input.window.start for c in runner.calls if c.input.window)
    assert starts == [T0 + timedelta(hours=h) for h in range(3, 8)]
    schedule = client.get(f"/api/v1/schedules/{schedule_id}", headers=admin).json()
    assert schedule["skipped_windows"] == 3
    triggers = Counter(e["trigger"] for e in executions(client, admin))
    assert triggers == {"CatchUp": 4, "Scheduled": 1}
    backfill = client.post(f"/api/v1/schedules/{schedule_id}/backfill", headers=admin,
                           json={"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T08:00:00Z"}).json()
    assert len(backfill["created"]) == 3 and backfill["existing"] == 5


def test_two_schedulers_never_run_a_window_twice(client: TestClient, admin: dict[str, str], schedule_id: str,
                                                 clock: FakeClock, make_scheduler: Any, runner: FakeRunner) -> None:
    schedulers = [make_scheduler(owner=f"scheduler-{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def loop(index: int) -> None:
        try:
            for _ in range(4):
                barrier.wait(timeout=30)
                schedulers[index].tick()
                barrier.wait(timeout=30)
                if index == 0:
                    clock.advance(hours=1)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    clock.advance(hours=5, minutes=1)
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    windows = Counter(c.input.window.start for c in runner.calls if c.input.window)
    assert len(windows) == 5 + 3 and set(windows.values()) == {1}
    rows = executions(client, admin)
    assert len(rows) == 8 and {r["status"] for r in rows} == {"Completed"} and {r["attempts"] for r in rows} == {1}


def test_dead_run_is_detected_and_retried(client: TestClient, admin: dict[str, str], schedule_id: str,
                                          clock: FakeClock, make_scheduler: Any, runner: FakeRunner) -> None:
    dead, alive = make_scheduler(owner="dies"), make_scheduler(owner="survives")
    clock.advance(hours=1, minutes=1)
    dead.plan()
    claim = dead.worker.claim(1)[0]  # ...and the process dies here, holding the lease
    assert executions(client, admin)[0]["status"] == "InProgress"
    clock.advance(seconds=30)
    assert alive.tick() == {}  # the lease (60 s) has not expired yet
    clock.advance(seconds=31)
    assert alive.tick() == {claim.id: "Completed"}
    run = executions(client, admin)[0]
    assert run["status"] == "Completed" and run["attempts"] == 2
    assert dead.worker.run(claim) == "Lost"  # a presumed-dead worker that comes back cannot overwrite
    assert executions(client, admin)[0]["attempts"] == 2


def test_repeated_deaths_fail_in_plain_words(client: TestClient, admin: dict[str, str], schedule_id: str,
                                             clock: FakeClock, make_scheduler: Any) -> None:
    clock.advance(hours=1, minutes=1)
    for attempt in range(3):  # max_attempts=3
        worker = make_scheduler(owner=f"dies-{attempt}")
        worker.plan()
        assert len(worker.worker.claim(1)) == 1
        clock.advance(seconds=61)
    assert make_scheduler(owner="last").tick() == {}
    run = executions(client, admin)[0]
    assert run["status"] == "Failed" and run["attempts"] == 3
    assert "stopped without finishing 3 times" in run["failure_reason"]


def test_failures_are_plain_words(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                                  make_scheduler: Any, runner: FakeRunner) -> None:
    runner.fail_with = "No captured records in the window [2024-05-01T00:00:00Z, 2024-05-01T01:00:00Z)."
    clock.advance(hours=1, minutes=1)
    make_scheduler().tick()
    runner.fail_with = None
    runner.raise_with = InputError("input path /data/capture does not exist", hint="check the schedule's input")
    clock.advance(hours=1)
    make_scheduler().tick()
    runner.raise_with = ZeroDivisionError("division by zero")
    clock.advance(hours=1)
    make_scheduler().tick()
    reasons = [e["failure_reason"] for e in reversed(executions(client, admin, status="Failed"))]
    assert reasons == [
        "No captured records in the window [2024-05-01T00:00:00Z, 2024-05-01T01:00:00Z).",
        "input path /data/capture does not exist (check the schedule's input)",
        "Unexpected ZeroDivisionError while running the job: division by zero. "
        "This is a bug in monitor-service; the scheduler's log has the traceback.",
    ]


def test_stop_by_hand(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                      make_scheduler: Any, runner: FakeRunner) -> None:
    clock.advance(hours=2, minutes=1)
    scheduler = make_scheduler()
    scheduler.plan()
    pending = sorted(executions(client, admin), key=lambda e: e["window_start"])
    stopped = client.post(f"/api/v1/executions/{pending[0]['id']}/stop", headers=admin).json()
    assert stopped["status"] == "Stopped" and stopped["failure_reason"] == "Stopped by hand before it started."

    def stop_while_running(request: AnalyzeRequest) -> None:
        assert client.post(f"/api/v1/executions/{pending[1]['id']}/stop", headers=admin).status_code == 200
        scheduler.worker.heartbeat([pending[1]["id"]])

    runner.on_run = stop_while_running
    assert scheduler.tick() == {pending[1]["id"]: "Stopped"}
    run = client.get(f"/api/v1/executions/{pending[1]['id']}", headers=admin).json()
    assert run["failure_reason"] == "Stopped by hand while running."
    again = client.post(f"/api/v1/executions/{pending[1]['id']}/stop", headers=admin)
    assert again.status_code == 409 and "already finished" in again.json()["detail"]
    assert client.post("/api/v1/executions/missing/stop", headers=admin).status_code == 404


def test_runtime_limit_stops_a_run(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                                   make_scheduler: Any, runner: FakeRunner) -> None:
    scheduler = make_scheduler(max_runtime_seconds=600)

    def slow(request: AnalyzeRequest) -> None:
        clock.advance(seconds=601)
        scheduler.worker.heartbeat([e.id for e in _running(scheduler)])

    runner.on_run = slow
    clock.advance(hours=1, minutes=1)
    assert list(scheduler.tick().values()) == ["Stopped"]
    assert "maximum runtime of 600 seconds" in executions(client, admin)[0]["failure_reason"]


def _running(scheduler: Any) -> list[Execution]:
    with scheduler.factory() as session:
        return list(session.scalars(select(Execution).where(Execution.status == "InProgress")))


def test_shutdown_hands_runs_back(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                                  make_scheduler: Any, runner: FakeRunner, engine: Engine) -> None:
    scheduler = make_scheduler()
    runner.fail_with = "Spark job cancelled"
    clock.advance(hours=1, minutes=1)
    scheduler.plan()
    claim = scheduler.worker.claim(1)[0]
    scheduler.worker.shutting_down = True
    assert scheduler.worker.run(claim) == "Pending"
    run = executions(client, admin)[0]
    assert run["status"] == "Pending" and run["attempts"] == 0


def test_files_of_an_earlier_attempt_are_cleared_and_never_linked(client: TestClient, admin: dict[str, str],
                                                                  schedule_id: str, clock: FakeClock,
                                                                  make_scheduler: Any) -> None:
    scheduler = make_scheduler()
    clock.advance(hours=1, minutes=1)
    scheduler.plan()
    folder = Path(executions(client, admin)[0]["artifact_dir"])
    folder.mkdir(parents=True)
    for stale in ("estimated_statistics.json", "check_errors.json", "calibration.json"):
        (folder / stale).write_text("{}")  # left by an attempt whose process died
    (folder / "manual-0123abcd").mkdir()
    (folder / "manual-0123abcd" / "summary.json").write_text("{}")  # a manual run of the same hour
    assert list(scheduler.tick().values()) == ["Completed"]
    run = executions(client, admin)[0]
    assert set(run["artifacts"]) == {"statistics.json", "constraint_violations.json", "summary.json"}
    assert sorted(p.name for p in folder.iterdir()) == ["constraint_violations.json", "manual-0123abcd",
                                                        "statistics.json", "summary.json"]
    assert (folder / "manual-0123abcd" / "summary.json").exists()


def test_only_listed_reports_are_linked(client: TestClient, admin: dict[str, str], schedule_id: str,
                                        clock: FakeClock, make_scheduler: Any, runner: FakeRunner) -> None:
    """A file in the folder that the run's summary does not list (written behind its back) is not linked."""
    runner.on_run = lambda request: write_reports(request.output_dir, RunSummary(job="analyze", status="Completed"),
                                                  {"estimated_statistics": {}})
    clock.advance(hours=1, minutes=1)
    make_scheduler().tick()
    assert set(executions(client, admin)[0]["artifacts"]) == {"statistics.json", "constraint_violations.json",
                                                             "summary.json"}


@pytest.mark.parametrize("breakage", ["input spec", "database error"])
def test_one_broken_schedule_does_not_stop_the_others(client: TestClient, admin: dict[str, str], baseline_id: str,
                                                      engine: Engine, clock: FakeClock, make_scheduler: Any,
                                                      monkeypatch: pytest.MonkeyPatch, breakage: str) -> None:
    broken, healthy = (client.post("/api/v1/schedules", headers=admin, json=schedule_body(baseline_id, name=name))
                       .json()["id"] for name in ("a-broken", "b-healthy"))
    if breakage == "input spec":  # e.g. written by an older version: a ValidationError, not a MonitorError
        with engine.begin() as connection:
            connection.execute(update(Schedule).where(Schedule.id == broken)
                               .values(input_spec={"path": "/data", "format": "no-such-format"}))
    else:  # a failed statement aborts a PostgreSQL transaction unless it ran inside a savepoint
        def failing(session: Session, *args: Any, **kwargs: Any) -> str | None:
            if args[2].id == broken:
                session.execute(text("SELECT no_such_column FROM schedules"))
            return insert_scheduled(session, *args, **kwargs)

        monkeypatch.setattr(planner, "insert_scheduled", failing)
    clock.advance(hours=1, minutes=1)
    scheduler = make_scheduler()
    assert list(scheduler.tick().values()) == ["Completed"]
    assert [e["schedule_id"] for e in executions(client, admin)] == [healthy]
    error = client.get(f"/api/v1/schedules/{broken}", headers=admin).json()["planning_error"]
    assert error and ("no-such-format" in error if breakage == "input spec" else "no_such_column" in error)
    assert client.get(f"/api/v1/schedules/{healthy}", headers=admin).json()["planning_error"] is None
    monkeypatch.undo()
    with engine.begin() as connection:
        connection.execute(update(Schedule).where(Schedule.id == broken)
                           .values(input_spec={"path": "/data", "format": "capture"}))
    clock.advance(hours=1)
    scheduler.tick()
    assert client.get(f"/api/v1/schedules/{broken}", headers=admin).json()["planning_error"] is None
