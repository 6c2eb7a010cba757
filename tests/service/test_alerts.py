"""Webhook alerts: subscriptions, signed payloads, retries with backoff, and the delivery log."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from monitor_service.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.service.conftest import T0, FakeClock, FakeRunner, Receiver

SECRET = "s3cret-s3cret-s3cret"


def subscribe(client: TestClient, admin: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks", headers=admin,
                           json={"name": "ops", "url": "https://hooks.example.com/monitor", "secret": SECRET, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_violations_alert_is_signed(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                                    make_scheduler: Any, runner: FakeRunner, receiver: Receiver) -> None:
    hook = subscribe(client, admin)
    assert hook["secret"] == SECRET and hook["events"] == ["execution.completed_with_violations", "execution.failed"]
    runner.drifted.add(T0)
    clock.advance(hours=2, minutes=1)
    make_scheduler().tick()
    assert len(receiver.received) == 1  # the clean window raises no alert
    request = receiver.received[0]
    body = request.content.decode()
    assert verify(SECRET, int(request.headers[TIMESTAMP_HEADER]), body, request.headers[SIGNATURE_HEADER])
    assert request.headers["X-Monitor-Event"] == "execution.completed_with_violations"
    payload = json.loads(body)
    assert payload["execution"]["schedule_name"] == "churn-hourly" and payload["execution"]["violation_count"] == 2
    assert payload["violations"][0]["constraint_check_type"] in {"baseline_drift_check", "completeness_check"}
    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("Delivered", 1, 200)]


def test_retries_with_backoff_then_give_up(client: TestClient, admin: dict[str, str], schedule_id: str,
                                           clock: FakeClock, make_scheduler: Any, runner: FakeRunner,
                                           receiver: Receiver) -> None:
    hook = subscribe(client, admin, events=["execution.failed"])
    runner.fail_with = "No captured records in the window."
    receiver.answers = [500, 503, 500]
    scheduler = make_scheduler()
    clock.advance(hours=1, minutes=1)
    scheduler.tick()
    delivery = client.get("/api/v1/deliveries", headers=admin).json()[0]
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
        "Pending", 1, "the receiver answered HTTP 500")
    assert delivery["next_attempt_at"] == "2024-05-01T01:01:10Z"  # backoff 10 s, then 20 s
    clock.advance(seconds=5)
    scheduler.dispatcher.deliver_due()
    assert len(receiver.received) == 1
    clock.advance(seconds=5)
    scheduler.dispatcher.deliver_due()
    clock.advance(seconds=20)
    scheduler.dispatcher.deliver_due()
    final = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()[0]
    assert (final["status"], final["attempts"], final["last_status_code"]) == ("Failed", 3, 500)
    assert len(receiver.received) == 3
    assert json.loads(final["payload"])["execution"]["failure_reason"] == "No captured records in the window."
    failed = client.get("/api/v1/deliveries", headers=admin, params={"status": "Failed"}).json()
    assert [d["id"] for d in failed] == [final["id"]]


def test_scoping_and_crud(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                          make_scheduler: Any, runner: FakeRunner, receiver: Receiver) -> None:
    other = subscribe(client, admin, schedule_id=schedule_id, events=["execution.failed"])
    generated = client.post("/api/v1/webhooks", headers=admin, json={"url": "http://127.0.0.1:9/x"}).json()
    assert len(generated["secret"]) >= 32
    assert {h["id"] for h in client.get("/api/v1/webhooks", headers=admin).json()} == {other["id"], generated["id"]}
    assert "secret" not in client.get(f"/api/v1/webhooks/{other['id']}", headers=admin).json()
    runner.drifted.add(T0)
    clock.advance(hours=1, minutes=1)
    make_scheduler().tick()
    assert [r.url.host for r in receiver.received] == ["127.0.0.1"]  # only the catch-all wants violations
    assert client.delete(f"/api/v1/webhooks/{generated['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/webhooks/{generated['id']}", headers=admin).status_code == 404
    for body, loc in (({"url": "not a url"}, ["body", "url"]), ({"url": "https://x.y", "events": ["x"]},
                      ["body", "events", 0]), ({"url": "https://x.y", "secret": "short"}, ["body", "secret"])):
        response = client.post("/api/v1/webhooks", headers=admin, json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc
    assert client.post("/api/v1/webhooks", headers=admin,
                       json={"url": "https://x.y", "schedule_id": "missing"}).status_code == 404


def test_webhook_urls_are_redacted_in_logs_and_errors(client: TestClient, admin: dict[str, str], schedule_id: str,
                                                      clock: FakeClock, make_scheduler: Any, runner: FakeRunner,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Webhook URLs often carry a token (user info, query string): neither is logged nor stored."""
    url = "https://bot:hunter2@hooks.example.com/monitor?token=t0ps3cret&channel=ops"
    hook = subscribe(client, admin, url=url, events=["execution.failed"])
    assert hook["url"] == url  # admins still see what they configured

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    runner.fail_with = "No captured records in the window."
    clock.advance(hours=1, minutes=1)
    with caplog.at_level(logging.INFO), httpx.Client(transport=httpx.MockTransport(unreachable)) as http:
        scheduler = make_scheduler(webhook_max_attempts=1)
        scheduler.dispatcher.client = http
        scheduler.tick()
    delivery = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()[0]
    assert delivery["status"] == "Failed"
    # the delivery log says what happened in plain words; the exception (redacted) is only logged
    assert delivery["last_error"] == "the receiver could not be reached or did not answer in time (no HTTP response)"
    assert "ConnectError: cannot connect to https://hooks.example.com/monitor?REDACTED" in caplog.text
    assert "failed for good" in caplog.text and "hooks.example.com/monitor" in caplog.text
    for secret in ("hunter2", "t0ps3cret", "channel=ops"):
        assert secret not in delivery["last_error"] and secret not in caplog.text
