"""Schedules over REST: create (all expression forms), validate, pause / resume / edit, delete, run now, backfill."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import FakeClock, FakeRunner, schedule_body


@pytest.mark.parametrize(("expression", "first_run", "first_window"), [
    ("cron(0 * ? * * *)", "2024-05-01T01:00:00Z", "2024-05-01T00:00:00Z"),
    ("cron(0 0/6 ? * * *)", "2024-05-01T06:00:00Z", "2024-05-01T00:00:00Z"),
    ("*/15 * * * *", "2024-05-01T00:15:00Z", "2024-05-01T00:00:00Z"),
    ("rate(15 minutes)", "2024-05-01T00:15:00Z", "2024-05-01T00:00:00Z"),
])
def test_create_forms(client: TestClient, admin: dict[str, str], baseline_id: str, expression: str, first_run: str,
                      first_window: str) -> None:
    response = client.post("/api/v1/schedules", headers=admin,
                           json=schedule_body(baseline_id, schedule_expression=expression))
    assert response.status_code == 201, response.text
    schedule = response.json()
    assert schedule["status"] == "Scheduled" and schedule["monitor_type"] == "DataQuality"
    assert schedule["next_runs"][0]["scheduled_time"] == first_run
    assert schedule["next_runs"][0]["window_start"] == first_window
    assert schedule["next_runs"][0]["window_end"] == first_run


def test_offsets_shape_the_window(client: TestClient, admin: dict[str, str], baseline_id: str) -> None:
    body = schedule_body(baseline_id, start_offset="-PT2H", end_offset="-PT1H")
    run = client.post("/api/v1/schedules", headers=admin, json=body).json()["next_runs"][0]
    assert (run["window_start"], run["window_end"]) == ("2024-04-30T23:00:00Z", "2024-05-01T00:00:00Z")


@pytest.mark.parametrize(("overrides", "loc", "message"), [
    ({"schedule_expression": "cron(0 * * * * *)"}, ["body", "schedule_expression"], "must be '?'"),
    ({"schedule_expression": "every hour"}, ["body", "schedule_expression"], "not a schedule expression"),
    ({"start_offset": "-PT1Q"}, ["body", "start_offset"], "ISO-8601"),
    ({"start_offset": "-PT1H", "end_offset": "-PT2H"}, ["body"], "must be before"),
    ({"end_offset": "PT1H"}, ["body"], "in the future"),
    ({"name": "bad name/.."}, ["body", "name"], "pattern"),
    ({"monitor_type": "Nope"}, ["body", "monitor_type"], "unknown monitor type"),
    ({"baseline_id": "missing"}, ["body", "baseline_id"], "does not exist"),
    ({"input": {"path": "/d", "format": "xml"}}, ["body", "input", "format"], "capture"),
    ({"input": {"path": ""}}, ["body", "input", "path"], "at least 1"),
    ({"extra": 1}, ["body", "extra"], "Extra inputs"),
    # issue 7, item 4: these were 500s (or a 422 of raw Python text)
    ({"schedule_expression": "rate(99999999999999 days)"}, ["body", "schedule_expression"], "at most 366 days"),
    ({"schedule_expression": "rate(5000000 days)"}, ["body", "schedule_expression"], "at most 366 days"),
    ({"start_offset": "-P999999999W"}, ["body", "start_offset"], "a window offset is at most a year"),
    ({"schedule_expression": "cron(0 0 1 1 ? 2000)"}, ["body", "schedule_expression"], "never fires after"),
    ({"schedule_expression": "cron(* * ? * * 2099)"}, ["body", "schedule_expression"], "more than ten years"),
    ({"schedule_expression": "0 0 * * 1/0"}, ["body", "schedule_expression"], "a step is a whole number from 1"),
])
def test_create_validation(client: TestClient, admin: dict[str, str], baseline_id: str, overrides: dict[str, Any],
                           loc: list[str], message: str) -> None:
    response = client.post("/api/v1/schedules", headers=admin, json=schedule_body(baseline_id, **overrides))
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc and message in error["msg"], error
    assert "range()" not in error["msg"] and "int" not in error["msg"].split(), error


def test_a_schedule_whose_years_have_ended_lists_no_next_runs(client: TestClient, admin: dict[str, str],
                                                              baseline_id: str, clock: FakeClock) -> None:
    body = schedule_body(baseline_id, schedule_expression="cron(0 0 1 * ? 2024-2025)")
    created = client.post("/api/v1/schedules", headers=admin, json=body)
    assert created.status_code == 201, created.text
    clock.advance(days=800)
    listed = client.get(f"/api/v1/schedules/{created.json()['id']}", headers=admin)
    assert listed.status_code == 200 and listed.json()["next_runs"] == []


def test_duplicate_name(client: TestClient, admin: dict[str, str], baseline_id: str, schedule_id: str) -> None:
    response = client.post("/api/v1/schedules", headers=admin, json=schedule_body(baseline_id))
    assert response.status_code == 409


def test_read_list_pause_resume_edit(client: TestClient, admin: dict[str, str], reader: dict[str, str],
                                     schedule_id: str, clock: FakeClock, make_scheduler: Any,
                                     runner: FakeRunner) -> None:
    assert client.get(f"/api/v1/schedules/{schedule_id}", headers=reader).json()["name"] == "churn-hourly"
    assert [s["id"] for s in client.get("/api/v1/schedules", headers=reader).json()] == [schedule_id]
    paused = client.patch(f"/api/v1/schedules/{schedule_id}", headers=admin, json={"status": "Stopped"}).json()
    assert paused["status"] == "Stopped" and paused["next_runs"] == []
    assert client.get("/api/v1/schedules?status=Scheduled", headers=reader).json() == []
    clock.advance(hours=3)
    assert make_scheduler().tick() == {}  # paused: the windows of the pause are skipped on purpose
    resumed = client.patch(f"/api/v1/schedules/{schedule_id}", headers=admin, json={"status": "Scheduled"}).json()
    assert resumed["planned_until"] == "2024-05-01T03:00:00Z"
    edited = client.patch(f"/api/v1/schedules/{schedule_id}", headers=admin, json={
        "schedule_expression": "rate(30 minutes)", "input": {"path": "/data/v2", "format": "jsonl"}})
    assert edited.status_code == 200, edited.text
    assert edited.json()["next_runs"][0]["scheduled_time"] == "2024-05-01T03:30:00Z"
    clock.advance(minutes=31)
    assert len(make_scheduler().tick()) == 1
    assert runner.calls[-1].input.path == "/data/v2" and runner.calls[-1].input.format == "jsonl"
    bad = client.patch(f"/api/v1/schedules/{schedule_id}", headers=admin, json={"end_offset": "-PT2H",
                                                                                  "start_offset": "-PT1H"})
    assert bad.status_code == 422
    bad_status = client.patch(f"/api/v1/schedules/{schedule_id}", headers=admin, json={"status": "Paused"})
    assert bad_status.status_code == 422 and bad_status.json()["detail"][0]["loc"] == ["body", "status"]
    assert client.patch("/api/v1/schedules/missing", headers=admin, json={}).status_code == 404


def test_delete_removes_history(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                                make_scheduler: Any, runner: FakeRunner) -> None:
    runner.drifted.add(clock.current)
    clock.advance(hours=1, minutes=1)
    make_scheduler().tick()
    assert len(client.get("/api/v1/violations", headers=admin).json()["items"]) == 2
    assert client.delete(f"/api/v1/schedules/{schedule_id}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/schedules/{schedule_id}", headers=admin).status_code == 404
    assert client.get("/api/v1/violations", headers=admin).json()["items"] == []
    assert client.get("/api/v1/executions", headers=admin).json()["items"] == []
    assert client.delete(f"/api/v1/schedules/{schedule_id}", headers=admin).status_code == 404


def test_run_now(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                 make_scheduler: Any, runner: FakeRunner) -> None:
    clock.advance(hours=5)
    window = {"start": "2024-05-01T01:30:00Z", "end": "2024-05-01T02:30:00Z"}
    first = client.post(f"/api/v1/schedules/{schedule_id}/executions", headers=admin, json=window)
    second = client.post(f"/api/v1/schedules/{schedule_id}/executions", headers=admin, json=window)
    assert first.status_code == second.status_code == 202
    assert first.json()["status"] == "Pending" and first.json()["trigger"] == "Manual"
    assert "/manual-" in first.json()["artifact_dir"] and first.json()["artifact_dir"] != second.json()["artifact_dir"]
    make_scheduler().tick()
    manual = [c for c in runner.calls if c.input.window and c.input.window.start.minute == 30]
    assert len(manual) == 2
    for body, loc in (({"start": "2024-05-01T02:00:00Z", "end": "2024-05-01T01:00:00Z"}, ["body"]),
                      ({"start": "2024-05-01T01:00:00Z", "end": "2024-05-02T01:00:00Z"}, ["body", "end"]),
                      ({"start": "2024-05-01T01:00:00", "end": "2024-05-01T02:00:00Z"}, ["body", "start"]),
                      ({"start": "yesterday", "end": "2024-05-01T02:00:00Z"}, ["body", "start"])):
        response = client.post(f"/api/v1/schedules/{schedule_id}/executions", headers=admin, json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc, response.text


def test_backfill(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock, make_scheduler: Any,
                  runner: FakeRunner) -> None:
    clock.set(clock.current.replace(day=3))
    body = {"start": "2024-04-30T20:00:00Z", "end": "2024-05-01T02:00:00Z"}
    first = client.post(f"/api/v1/schedules/{schedule_id}/backfill", headers=admin, json=body)
    assert first.status_code == 202 and len(first.json()["created"]) == 6 and first.json()["existing"] == 0
    again = client.post(f"/api/v1/schedules/{schedule_id}/backfill", headers=admin, json=body).json()
    assert again == {"created": [], "existing": 6}
    make_scheduler(catchup_max_windows=0).tick()
    starts = sorted(c.input.window.start.isoformat() for c in runner.calls if c.input.window)
    assert starts[0] == "2024-04-30T20:00:00+00:00" and starts[-1] == "2024-05-01T01:00:00+00:00"
    executions = client.get(f"/api/v1/executions?schedule_id={schedule_id}", headers=admin).json()["items"]
    assert {e["trigger"] for e in executions} == {"Backfill"} and len(executions) == 6
    huge = client.post(f"/api/v1/schedules/{schedule_id}/backfill", headers=admin,
                       json={"start": "2020-01-01T00:00:00Z", "end": "2024-05-01T00:00:00Z"})
    assert huge.status_code == 422 and "MONITOR_BACKFILL_MAX_WINDOWS" in huge.json()["detail"][0]["msg"]


def test_windows_with_an_offset_are_utc(client: TestClient, admin: dict[str, str], schedule_id: str,
                                        clock: FakeClock, make_scheduler: Any, runner: FakeRunner) -> None:
    """A window given at +02:00 is stored, run and filed in UTC (the folder is the UTC hour, not the local one)."""
    clock.advance(hours=5)
    window = {"start": "2024-05-01T03:30:00+02:00", "end": "2024-05-01T04:30:00+02:00"}
    run = client.post(f"/api/v1/schedules/{schedule_id}/executions", headers=admin, json=window).json()
    assert (run["window_start"], run["window_end"]) == ("2024-05-01T01:30:00Z", "2024-05-01T02:30:00Z")
    assert "/churn-hourly/2024/05/01/02/manual-" in run["artifact_dir"]
    backfill = client.post(f"/api/v1/schedules/{schedule_id}/backfill", headers=admin,
                           json={"start": "2024-05-01T02:00:00+02:00", "end": "2024-05-01T04:00:00+02:00"}).json()
    created = [client.get(f"/api/v1/executions/{i}", headers=admin).json() for i in backfill["created"]]
    assert [e["window_start"] for e in created] == ["2024-05-01T00:00:00Z", "2024-05-01T01:00:00Z"]
    make_scheduler().tick()
    manual = next(c for c in runner.calls if c.output_dir == run["artifact_dir"])
    assert manual.input.window is not None and manual.input.window.start.utcoffset() == timedelta(0)
