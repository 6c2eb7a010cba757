"""Gateway test harness: the gateway as a real process on a free loopback port, and config builders.

Requests go through `http.client` (keep-alive, no framework), every loop is bounded, and every
process is stopped (SIGTERM, then SIGKILL) even when a test fails.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ASSETS = Path(__file__).with_name("assets")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """A keep-alive HTTP/1.1 client on one connection (reconnects when the server closed it)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | str = b"", headers: dict[str, str] | None = None) -> Answer:
        data = body.encode() if isinstance(body, str) else body
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers or {})
                response = self.conn.getresponse()
                return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
            except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def invoke(self, endpoint: str, body: bytes | str, content_type: str = "text/csv", **headers: str) -> Answer:
        names = {"target_variant": "X-Amzn-SageMaker-Target-Variant", "inference_id": "X-Amzn-SageMaker-Inference-Id",
                 "custom_attributes": "X-Amzn-SageMaker-Custom-Attributes",
                 "target_model": "X-Amzn-SageMaker-Target-Model", "accept": "Accept"}
        sent = {"Content-Type": content_type, **{names[k]: v for k, v in headers.items()}}
        return self.request("POST", f"/endpoints/{endpoint}/invocations", body, sent)

    def metrics(self) -> dict[str, float]:
        """Prometheus samples as {'name{labels}': value}."""
        text = self.request("GET", "/metrics").body.decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def close(self) -> None:
        self.conn.close()


@dataclass
class GatewayProcess:
    workdir: Path
    config: Path | None = None
    port: int = field(default_factory=free_port)
    extra: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, timeout: float = 60.0) -> GatewayProcess:
        self.log = self.workdir / f"gateway-{self.port}-{time.monotonic_ns()}.log"
        command = [sys.executable, "-m", "monitor_service.cli.main", "gateway", "--port", str(self.port),
                   *(["--config", str(self.config)] if self.config else []), *self.extra]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir,
                                         env={**os.environ, "PYTHONPATH": str(REPO), **self.env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited with {self.proc.returncode}:\n{self.output()}")
            try:
                client = Client(self.port, timeout=2)
                ready = client.request("GET", "/ping").status == 200
                client.close()
                if ready:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"gateway did not answer /ping within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def terminate(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"gateway did not stop on SIGTERM:\n{self.output()}") from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@pytest.fixture
def gateways() -> Iterator[list[GatewayProcess]]:  # re-exported by conftest.py
    """Processes started by a test; each is killed at the end if still running."""
    started: list[GatewayProcess] = []
    yield started
    for process in started:
        process.kill()


def write_config(folder: Path, document: dict[str, Any], name: str = "gateway.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def script_model(name: str, script: str = "linear.py", **extra: Any) -> dict[str, Any]:
    return {"ModelName": name, "Framework": "script", "EntryPoint": str(ASSETS / script), **extra}


def capture_config(destination: Path | str, percentage: int = 100, modes: tuple[str, ...] = ("Input", "Output"),
                   ) -> dict[str, Any]:
    return {"EnableCapture": True, "InitialSamplingPercentage": percentage, "DestinationS3Uri": str(destination),
            "CaptureOptions": [{"CaptureMode": m} for m in modes],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}}


def gateway_block(folder: Path, **overrides: Any) -> dict[str, Any]:
    return {"SpoolDirectory": str(folder / "spool"), "ModelCacheDirectory": str(folder / "models"),
            "SegmentMaxAgeSeconds": 1, "PollSeconds": 0.5, "UploadRetryInitialSeconds": 0.2, **overrides}


def capture_lines(destination: Path) -> list[dict[str, Any]]:
    """Every line under the destination (the reader would see these), parsed with json only."""
    out = []
    for path in sorted(destination.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line))
    return out


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
