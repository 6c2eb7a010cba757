"""A tiny model server on 127.0.0.1 (free port) for the HTTP predictor tests.

It scores a record as sigmoid(sum of its values) and answers in the format the path names;
`/flaky` fails with 503 until it has been asked `fail_first` times, `/refuse` answers 400,
`/slow` answers after `slow_seconds`. Every request body is recorded.
"""

from __future__ import annotations

import csv
import io
import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def score(values: list[float]) -> float:
    return 1.0 / (1.0 + math.exp(-sum(values)))


@dataclass
class ServerState:
    bodies: list[tuple[str, str, str]] = field(default_factory=list)  # (path, content type, body)
    fail_first: int = 0
    slow_seconds: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _rows(content_type: str, body: str) -> list[list[float]]:
    if content_type == "text/csv":
        return [[float(v) for v in r] for r in csv.reader(io.StringIO(body)) if r]
    if content_type == "application/jsonlines":
        docs = [json.loads(line) for line in body.splitlines() if line.strip()]
        return [d["features"] if isinstance(d, dict) and "features" in d else d for d in docs]
    doc = json.loads(body)
    instances = doc["instances"] if isinstance(doc, dict) else doc
    return [list(r.values()) if isinstance(r, dict) else r for r in instances]


def make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            content_type = self.headers.get("Content-Type", "")
            with state.lock:
                state.bodies.append((self.path, content_type, body))
                calls = sum(1 for p, _, _ in state.bodies if p == self.path)
            if self.path == "/refuse":
                return self._answer(400, "text/plain", "feature 3 is not a number")
            if self.path == "/flaky" and calls <= state.fail_first:
                return self._answer(503, "text/plain", "warming up")
            if self.path == "/slow":
                time.sleep(state.slow_seconds)
            rows = _rows(content_type, body)
            scores = [score(r) for r in rows]
            if self.path in ("/csv", "/flaky", "/slow"):
                text = "\n".join(f"{int(s > 0.5)},{s!r}" for s in scores)
                return self._answer(200, "text/csv", text)
            if self.path == "/csv-line":  # SageMaker XGBoost: one line, one score per record
                return self._answer(200, "text/csv", ",".join(repr(s) for s in scores))
            if self.path == "/jsonl":
                text = "\n".join(json.dumps({"predicted_label": int(s > 0.5), "score": s}) for s in scores)
                return self._answer(200, "application/jsonlines", text)
            if self.path == "/json-multi":
                doc = {"predictions": [{"probabilities": [1 - s, s]} for s in scores]}
                return self._answer(200, "application/json", json.dumps(doc))
            if self.path == "/json-one":
                return self._answer(200, "application/json", json.dumps(scores[0]))
            return self._answer(404, "text/plain", "no such model")

        def _answer(self, status: int, content_type: str, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def running_server() -> Iterator[tuple[str, ServerState]]:
    state = ServerState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
