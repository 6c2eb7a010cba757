"""Schemathesis over the OpenAPI document, against a real `monitor serve` process on a loopback
port, on SQLite and on PostgreSQL, authenticated with an admin key (issue 7).

Every operation gets bounded generated requests (valid and invalid ones, hostile strings and
numbers included). The checks: no 5xx, every status code answered is declared for the
operation, the content type is the declared one, and every body matches its declared schema.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from tests.service.conftest import CONSTRAINTS, STATISTICS, T0

REPO = Path(__file__).resolve().parents[2]
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance)
EXAMPLES = int(os.environ.get("MONITOR_SCHEMATHESIS_EXAMPLES", "25"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, url: str, key: str, log: Path) -> None:
        self.url, self.key, self.log = url, key, log

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="session")
def api_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`monitor serve` on a free loopback port over an empty database of this backend."""
    root = tmp_path_factory.mktemp("schemathesis")
    env = {**os.environ, "MONITOR_DATABASE_URL": database_url, "MONITOR_ARTIFACT_ROOT": str(root / "artifacts"),
           "MONITOR_INPUT_ROOTS": f"{root / 'data'},/data", "MONITOR_MAX_REQUEST_BYTES": "1048576"}
    settings_ = Settings(database_url=database_url)
    engine = make_engine(settings_)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        key = create_key(session, role="admin", name="schemathesis", now=T0)[1]
    engine.dispose()
    port = _free_port()
    log = root / "server.log"
    with log.open("w") as out:
        serve = "import sys; from monitor_service.cli.main import main; sys.exit(main(sys.argv[1:]))"
        process = subprocess.Popen([sys.executable, "-c", serve, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=REPO, env=env, stdout=out, stderr=out)
    server = Server(f"http://127.0.0.1:{port}", key, log)
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                pytest.fail(f"monitor serve exited: {log.read_text()[-2000:]}")
            time.sleep(0.25)
        else:
            pytest.fail(f"monitor serve did not answer: {log.read_text()[-2000:]}")
        baseline = httpx.post(f"{server.url}/api/v1/baselines", headers=server.headers, timeout=30,
                              json={"name": "seed", "statistics": STATISTICS, "constraints": CONSTRAINTS})
        assert baseline.status_code == 201, baseline.text
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def test_api_conforms_to_its_openapi(api_server: Server) -> None:
    """Every operation, `EXAMPLES` generated requests each (schemathesis' strategies driven by
    hypothesis here, not by its pytest plugin); all failures are collected and reported together."""
    api = schemathesis.openapi.from_url(f"{api_server.url}/openapi.json")
    failures: list[str] = []
    operations = 0
    calls = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1
        # Valid requests and invalid ones (wrong types, missing fields, out-of-range values).
        cases = st.one_of(operation.as_strategy(), operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=cases)
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=api_server.headers, checks=CHECKS, timeout=30)

        try:
            run()
        except Exception as exc:  # the shrunk failure of this operation; the others still run
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    print(f"schemathesis: {operations} operations, {calls} requests, {len(failures)} failures")
    assert operations >= 35 and calls >= operations
    assert not failures, "\n\n".join(dict.fromkeys(failures))


def test_the_server_logged_no_internal_error(api_server: Server) -> None:
    """Runs after the generated cases of this backend: no traceback reached the server's log."""
    assert "Traceback" not in api_server.log.read_text()


def test_openapi_declares_the_error_statuses(api_server: Server) -> None:
    document = httpx.get(f"{api_server.url}/openapi.json", timeout=30).json()
    post = document["paths"]["/api/v1/baselines"]["post"]["responses"]
    assert {"201", "401", "403", "409", "413", "422", "503"} <= set(post)
    assert json.dumps(document).count('"401"') >= 35


def test_a_chunked_body_over_the_limit_gets_413_from_the_real_server(api_server: Server) -> None:
    """Issue 7, item 9, over a real socket: no Content-Length, 2 MiB streamed against a 1 MiB limit."""
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "big", "constraints": {}, "statistics": {"x": "'
        for _ in range(32):
            yield b"x" * 65_536
        yield b'"}}'

    response = httpx.post(f"{api_server.url}/api/v1/baselines", content=chunks(), timeout=30,
                          headers={**api_server.headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and "MONITOR_MAX_REQUEST_BYTES" in response.json()["detail"]


def test_without_a_key_the_real_server_answers_401_whatever_the_body(api_server: Server) -> None:
    for body in (b"{not json", b"[" * 200_000):
        response = httpx.post(f"{api_server.url}/api/v1/baselines", content=body, timeout=30,
                              headers={"Content-Type": "application/json"})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
