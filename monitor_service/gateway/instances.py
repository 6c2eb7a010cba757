"""A variant's instances as worker processes, started and stopped by the gateway (`InstanceType: local.process`).

`WorkerPool` is the variant's invoker: it keeps `CurrentInstanceCount` worker processes
(`monitor_service.gateway.worker`, each the model behind SageMaker's container contract on a
loopback port) and sends each request to the worker with the fewest requests in flight. Scaling
(`resize`) starts new workers and waits for their `/ping` before they take traffic; a worker
taken out of service gets no new requests and is stopped (SIGTERM) once its requests are done.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from monitor_service.errors import ModelError
from monitor_service.gateway.config import ContainerDefinition, ModelDefinition
from monitor_service.gateway.container import ContainerInvoker
from monitor_service.gateway.invokers import BuildContext, Invocation, Invoker, Reply

START_SECONDS = 60.0
STOP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    port: int
    invoker: ContainerInvoker


class WorkerPool(Invoker):
    def __init__(self, model: ModelDefinition, context: BuildContext, count: int) -> None:
        super().__init__()
        self.model = model
        self.context = context
        self.workers: list[Worker] = []
        self._lock = threading.Lock()
        self._next = 0
        self.resize(count)

    @property
    def size(self) -> int:
        return len(self.workers)

    def _start(self) -> Worker:
        port = _free_port()
        env = {**os.environ, "MONITOR_WORKER_MODEL": json.dumps(self.model.model_dump(mode="json")),
               "MONITOR_WORKER_CACHE": str(Path(self.context.cache_dir) / "workers")}
        logs = Path(self.context.cache_dir) / "workers"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{self.model.ModelName}-{port}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "monitor_service.gateway.worker", "--port", str(port)],
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
        container = ContainerDefinition(Framework="container", Url=f"http://127.0.0.1:{port}")
        worker = Worker(process, port, ContainerInvoker(container, self.model.ModelName, self.context))
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                error = log_path.read_text(errors="replace")[-2000:]
                raise ModelError(f"a worker process of model {self.model.ModelName} exited with "
                                 f"{process.returncode} while starting: {error}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return worker
            except OSError:
                time.sleep(0.05)
        process.kill()
        raise ModelError(f"a worker process of model {self.model.ModelName} did not listen within {START_SECONDS:g} s")

    def resize(self, count: int) -> None:
        """Start or stop workers until `count` serve (blocking; the gateway calls it off the event loop)."""
        started = [self._start() for _ in range(max(0, count - len(self.workers)))]
        with self._lock:
            self.workers = self.workers + started
            retired = self.workers[count:]
            self.workers = self.workers[:count]
        if retired:
            threading.Thread(target=self._stop, args=(retired,), daemon=True).start()

    def _stop(self, workers: list[Worker]) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        while any(w.invoker.inflight for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        for w in workers:
            w.invoker.close()
            if w.process.poll() is None:
                w.process.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                w.process.kill()

    def _pick(self) -> Worker:
        workers = self.workers
        if not workers:
            raise ModelError(f"model {self.model.ModelName} has no worker process running")
        self._next = (self._next + 1) % len(workers)
        return min(workers[self._next:] + workers[:self._next], key=lambda w: w.invoker.inflight)

    async def acall(self, invocation: Invocation) -> Reply:
        worker = self._pick()
        worker.invoker.inflight += 1
        try:
            return await worker.invoker.acall(invocation)
        finally:
            worker.invoker.inflight -= 1

    def call(self, invocation: Invocation) -> Reply:
        return self._pick().invoker.call(invocation)

    def close(self) -> None:
        with self._lock:
            workers, self.workers = self.workers, []
        self._stop(workers)
