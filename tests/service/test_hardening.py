"""Issue 7 over REST, on SQLite and PostgreSQL: storable text (item 5), webhook addresses (7),
input roots (8), body limits and authentication before parsing (9), bad baselines (1, 3)."""

from __future__ import annotations

import base64
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from monitor_service.api import create_app
from monitor_service.core.registry import Registry
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.security.addresses import AddressPolicy, webhook_client
from monitor_service.settings import Settings
from monitor_service.store.db import make_sessionmaker, transaction
from monitor_service.store.models import Schedule
from tests.fuzz_targets import CORRUPTING_HLL
from tests.service.conftest import STATISTICS, FakeClock, FakeRunner, Receiver, schedule_body

# ----------------------------------------------------------------------------- item 5: U+0000 and lone surrogates

NUL = "a\u0000b"


@pytest.mark.parametrize(("path", "body", "where"), [
    ("/api/v1/webhooks", {"name": NUL, "url": "https://hooks.example.com/x"}, "name"),
    ("/api/v1/apikeys", {"role": "read", "name": NUL}, "name"),
    ("/api/v1/baseline-jobs", {"name": "x", "input": {"path": "/data/" + NUL}}, "input.path"),
    ("/api/v1/baseline-jobs",
     {"name": "x", "input": {"path": "/data/x", "dataset_config": {"csv_delimiter": "\u0000"}}},
     "input.dataset_config.csv_delimiter"),
    ("/api/v1/ground-truth", {"labels": [{"inference_id": NUL, "label": 1}]}, "labels.0.inference_id"),
    ("/api/v1/ground-truth", [{"inference_id": "i", "label": {"k": NUL}}], "0.label.k"),
    ("/api/v1/baselines", {"name": "b", "statistics": {**STATISTICS, NUL: 1}, "constraints": {"features": []}},
     "statistics.a\u0000b"),
])
def test_unstorable_text_in_any_body_is_a_422_on_both_databases(client: TestClient, admin: dict[str, str],
                                                                path: str, body: Any, where: str) -> None:
    response = client.post(path, headers=admin, json=body)
    assert response.status_code == 422, response.text
    message = response.json()["detail"][0]["msg"]
    assert "U+0000" in message and where.replace("\u0000", "") in message.replace("\u0000", ""), message


def test_a_lone_surrogate_is_a_422(client: TestClient, admin: dict[str, str]) -> None:
    raw = b'{"role": "read", "name": "x\\ud800y"}'
    response = client.post("/api/v1/apikeys", headers={**admin, "Content-Type": "application/json"}, content=raw)
    assert response.status_code == 422 and "U+D800" in response.json()["detail"][0]["msg"], response.text


def test_unstorable_constraints_put_and_parameters_are_422(client: TestClient, admin: dict[str, str],
                                                           baseline_id: str) -> None:
    put = client.put(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin,
                     json={"features": [{"name": NUL, "inferred_type": "Integral"}]})
    assert put.status_code == 422 and "U+0000" in put.json()["detail"][0]["msg"], put.text
    for url in ("/api/v1/schedules/a%00b", "/api/v1/baselines/x%00", "/api/v1/executions?schedule_id=a%00b",
                "/api/v1/violations?feature=%00"):
        response = client.get(url, headers=admin)
        assert response.status_code == 422, (url, response.text)
        assert "U+0000" in response.json()["detail"][0]["msg"]


# ----------------------------------------------------------------------------- item 7: webhook addresses


@pytest.fixture
def strict_client(settings: Settings, clock: FakeClock, monitors: Registry[MonitorPlugin]) -> Iterator[TestClient]:
    """The app with the default policy: no host allow-listed."""
    strict = settings.model_copy(update={"webhook_allowed_hosts": ""})
    with TestClient(create_app(strict, clock=clock, monitors=monitors)) as test_client:
        yield test_client


@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://[::1]/x", "http://0.0.0.0:8080/",
                                 "http://169.254.169.254/latest/meta-data/", "http://localhost/hook",
                                 "http://10.1.2.3/", "http://192.168.0.1/", "http://[::ffff:127.0.0.1]/",
                                 "http://2130706433/", "http://100.64.0.1/"])
def test_webhooks_to_non_public_addresses_are_refused(strict_client: TestClient, admin: dict[str, str],
                                                       url: str) -> None:
    response = strict_client.post("/api/v1/webhooks", headers=admin, json={"url": url})
    assert response.status_code == 422, (url, response.text)
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "url"] and "MONITOR_WEBHOOK_ALLOWED_HOSTS" in error["msg"]


def test_the_allow_list_admits_named_hosts_and_networks() -> None:
    policy = AddressPolicy.of(["127.0.0.1", "10.0.0.0/8", "hooks.internal"])
    policy.check_url("http://127.0.0.1:9000/x")
    policy.check_url("http://10.20.30.40/x")
    assert policy.allowed_addresses("hooks.internal", 80, lambda h, p: ["192.168.1.5"]) == ["192.168.1.5"]
    with pytest.raises(Exception, match="MONITOR_WEBHOOK_ALLOWED_HOSTS"):
        policy.allowed_addresses("other.internal", 80, lambda h, p: ["192.168.1.5"])
    with pytest.raises(ValueError, match="neither a host name"):
        AddressPolicy.of(["not a host!"])


def test_a_host_that_resolves_to_a_forbidden_address_is_refused_at_send_time(
        client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock, make_scheduler: Any,
        runner: FakeRunner, receiver: Receiver) -> None:
    hook = client.post("/api/v1/webhooks", headers=admin, json={"url": "https://hooks.example.com/x"}).json()
    runner.fail_with = "boom"
    clock.advance(hours=1, minutes=1)
    scheduler = make_scheduler(webhook_max_attempts=1)
    scheduler.dispatcher.resolve = lambda host, port: ["169.254.169.254"]
    scheduler.tick()
    assert receiver.received == []  # nothing was sent
    delivery = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()[0]
    assert delivery["status"] == "Failed" and delivery["last_error"].startswith("refused: the webhook host")


class _Hook(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        _Hook.hits.append(self.path)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_receiver() -> Iterator[int]:
    """A real HTTP receiver on 127.0.0.1 (a free port); yields the port."""
    _Hook.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_the_guarded_client_checks_the_address_it_connects_to(loopback_receiver: int) -> None:
    """DNS rebinding: the name resolves to loopback when the connection is made; refused unless allowed."""
    url = f"http://rebinding.example:{loopback_receiver}/hook"
    with webhook_client(AddressPolicy(), resolve=lambda host, port: ["127.0.0.1"]) as guarded, \
            pytest.raises(httpx.ConnectError, match="MONITOR_WEBHOOK_ALLOWED_HOSTS"):
        guarded.post(url, content=b"{}")
    assert _Hook.hits == []
    allowed = AddressPolicy.of(["127.0.0.0/8"])
    with webhook_client(allowed, resolve=lambda host, port: ["127.0.0.1"]) as guarded:
        assert guarded.post(url, content=b"{}").status_code == 204
    assert _Hook.hits == ["/hook"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hang_up_port() -> tuple[socket.socket, int]:
    """A port that accepts connections and closes them without answering ("server disconnected")."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener, int(listener.getsockname()[1])


def test_delivery_errors_do_not_tell_closed_ports_from_open_ones(client: TestClient, admin: dict[str, str],
                                                                 schedule_id: str, clock: FakeClock,
                                                                 make_scheduler: Any, runner: FakeRunner,
                                                                 settings: Settings) -> None:
    listener, open_port = _hang_up_port()
    closed = client.post("/api/v1/webhooks", headers=admin, json={"url": f"http://127.0.0.1:{_closed_port()}/"})
    opened = client.post("/api/v1/webhooks", headers=admin, json={"url": f"http://127.0.0.1:{open_port}/"})
    assert closed.status_code == opened.status_code == 201
    runner.fail_with = "boom"
    clock.advance(hours=1, minutes=1)
    scheduler = make_scheduler(webhook_max_attempts=1, webhook_timeout_seconds=2)
    with webhook_client(settings.address_policy()) as real:
        scheduler.dispatcher.client = real
        scheduler.tick()
    listener.close()
    errors = {client.get(f"/api/v1/webhooks/{hook.json()['id']}/deliveries", headers=admin).json()[0]["last_error"]
              for hook in (closed, opened)}
    assert errors == {"the receiver could not be reached or did not answer in time (no HTTP response)"}


# ----------------------------------------------------------------------------- item 8: input roots


@pytest.mark.parametrize(("path", "message"), [
    ("/etc/passwd", "is not under an input root"),
    ("/root", "is not under an input root"),
    ("/proc/self/environ", "is not under an input root"),
    ("/data/../etc/passwd", "'..' segment"),
    ("ftp://127.0.0.1:5432/x", "uses the URL scheme 'ftp'"),
    ("http://169.254.169.254/latest", "uses the URL scheme 'http'"),
    ("s3://other-bucket/capture", "is not under an input root"),
    ("simplecache::s3://labels/x", "chains file systems"),
    ("file:///etc/shadow", "is not under an input root"),
])
def test_inputs_outside_the_roots_are_422(client: TestClient, admin: dict[str, str], baseline_id: str,
                                          path: str, message: str) -> None:
    job = client.post("/api/v1/baseline-jobs", headers=admin, json={"name": "x", "input": {"path": path}})
    schedule = client.post("/api/v1/schedules", headers=admin,
                           json=schedule_body(baseline_id, input={"path": path, "format": "capture"}))
    for response in (job, schedule):
        assert response.status_code == 422, response.text
        error = response.json()["detail"][0]
        assert error["loc"] == ["body", "input.path"] and message in error["msg"], error


def test_inputs_under_the_roots_are_accepted(client: TestClient, admin: dict[str, str], baseline_id: str,
                                             settings: Settings) -> None:
    for path in ("/data/capture/*/2024/", "s3://labels/churn/", f"{settings.artifact_root}/ground-truth"):
        body = schedule_body(baseline_id, name=f"s{abs(hash(path)) % 1000}", input={"path": path})
        assert client.post("/api/v1/schedules", headers=admin, json=body).status_code == 201, path


def test_a_stored_input_outside_the_roots_fails_when_it_runs(client: TestClient, admin: dict[str, str],
                                                              schedule_id: str, clock: FakeClock, engine: Engine,
                                                              make_scheduler: Any, runner: FakeRunner) -> None:
    with transaction(make_sessionmaker(engine)) as session:  # e.g. stored before MONITOR_INPUT_ROOTS was set
        session.execute(update(Schedule).values(input_spec={"path": "/etc", "format": "capture"}))
    clock.advance(hours=1, minutes=1)
    statuses = make_scheduler().tick()
    assert set(statuses.values()) == {"Failed"} and runner.calls == []
    execution = client.get(f"/api/v1/executions/{next(iter(statuses))}", headers=admin).json()
    assert "input path '/etc' is not under an input root" in execution["failure_reason"]


# ----------------------------------------------------------------------------- items 1, 3 and 9


def test_bad_sketches_and_huge_numbers_in_an_upload_are_422(client: TestClient, admin: dict[str, str]) -> None:
    statistics = json.loads(json.dumps(STATISTICS))
    name = statistics["features"][0]["name"]
    statistics["monitor_service"] = {"features": {name: {"hll": base64.b64encode(CORRUPTING_HLL[0]).decode()}}}
    broken = client.post("/api/v1/baselines", headers=admin,
                         json={"name": "b1", "statistics": statistics, "constraints": {"features": []}})
    assert broken.status_code == 422 and "does not hold an HLL sketch" in broken.json()["detail"][0]["msg"]
    huge = json.loads(json.dumps(STATISTICS))
    huge["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]["parameters"]["k"] = "NaN"
    response = client.post("/api/v1/baselines", headers=admin,
                           json={"name": "b2", "statistics": huge, "constraints": {}})
    assert response.status_code == 422 and "must be an integer between 2 and 65535" in response.text
    deep = client.post("/api/v1/baselines", headers={**admin, "Content-Type": "application/json"},
                       content=b'{"name": "b3", "constraints": {}, "statistics": ' + b"[" * 500 + b"]" * 500 + b"}")
    assert deep.status_code == 422 and "nests deeper than 64 levels" in deep.text


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, admin: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "big", "constraints": {}, "statistics": {"x": "'
        for _ in range(40):
            yield b"x" * 65_536
        yield b'"}}'

    response = client.post("/api/v1/baselines", headers={**admin, "Content-Type": "application/json"},
                           content=chunks())
    assert response.status_code == 413, response.text
    assert "MONITOR_MAX_REQUEST_BYTES" in response.json()["detail"]


@pytest.mark.parametrize("body", [b"{not json", b"[" * 100_000, b'{"name": 1}'])
def test_requests_without_a_key_get_401_before_the_body_is_parsed(client: TestClient, body: bytes) -> None:
    for headers in ({}, {"Authorization": "Bearer mon_wrong"}):
        response = client.post("/api/v1/baselines", headers={**headers, "Content-Type": "application/json"},
                               content=body)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
