"""The `monitor scheduler` process: plan due windows, run them on a warm SparkSession, send alerts.

It is its own process, never part of the web server (a scheduler per web worker would run
every window once per worker). APScheduler drives two periodic jobs, `poll` (plan, claim,
deliver alerts) and `heartbeat` (renew leases, enforce stops); the schedule definitions stay in
our tables. Several scheduler processes may share one PostgreSQL database: the unique window
key, the leases and the compare-and-set updates keep each window to one run.

`tick()` performs one poll synchronously, which is what tests (with a hand-driven clock) and
the demo use.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from monitor_service.alerts.dispatcher import Dispatcher
from monitor_service.core.registry import Registry
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.scheduler.clock import Clock
from monitor_service.scheduler.planner import plan_all
from monitor_service.scheduler.worker import Worker
from monitor_service.security.addresses import Resolver, system_resolver
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import refresh_statistics, transaction

log = logging.getLogger(__name__)


def default_owner() -> str:
    """A lease owner id unique to this process: the host name and a random suffix."""
    return f"{socket.gethostname()[:60]}-{uuid.uuid4().hex[:12]}"


class MonitorScheduler:
    def __init__(self, *, factory: sessionmaker[Session], artifacts: ArtifactStore, settings: Settings,
                 monitors: Registry[MonitorPlugin], clock: Clock, spark: Callable[[], Any], http: httpx.Client,
                 owner: str | None = None, resolve: Resolver = system_resolver) -> None:
        self.factory, self.artifacts, self.settings, self.clock = factory, artifacts, settings, clock
        self.monitors = monitors
        self.owner = owner or default_owner()
        self.worker = Worker(factory=factory, artifacts=artifacts, monitors=monitors, clock=clock,
                             settings=settings, owner=self.owner, spark=spark)
        self.dispatcher = Dispatcher(factory, clock, settings, http, resolve)
        self._running: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    def plan(self) -> list[str]:
        """Create the executions of every window due by now; returns their ids."""
        with transaction(self.factory, immediate=True) as session:  # savepoints per schedule, see plan_all
            return plan_all(session, self.artifacts, self.monitors, now=self.clock.now(),
                            max_catchup=self.settings.catchup_max_windows)

    def tick(self) -> dict[str, str]:
        """One synchronous poll: plan, run everything runnable, deliver alerts; {id: status}."""
        self.plan()
        results: dict[str, str] = {}
        while claims := self.worker.claim(self.settings.worker_concurrency):
            for claim in claims:
                results[claim.id] = self.worker.run(claim)
        self.dispatcher.deliver_due()
        return results

    def _poll(self, executor: ThreadPoolExecutor) -> None:
        self.plan()
        with self._lock:
            for execution_id in [k for k, f in self._running.items() if f.done()]:
                self._running.pop(execution_id)
            free = self.settings.worker_concurrency - len(self._running)
            for claim in self.worker.claim(free):
                self._running[claim.id] = executor.submit(self.worker.run, claim)
        self.dispatcher.deliver_due()

    def _heartbeat(self) -> None:
        with self._lock:
            running = [k for k, f in self._running.items() if not f.done()]
        self.worker.heartbeat(running)

    def serve(self, warm_up: Callable[[], Any] | None = None) -> None:
        """Run until SIGTERM/SIGINT; running jobs are cancelled and handed back as Pending."""
        from apscheduler.schedulers.blocking import BlockingScheduler

        if warm_up is not None:
            log.info("starting the SparkSession")
            warm_up()
        executor = ThreadPoolExecutor(max_workers=self.settings.worker_concurrency, thread_name_prefix="monitor-run")
        scheduler = BlockingScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
        scheduler.add_job(self._poll, "interval", args=[executor], seconds=self.settings.poll_seconds,
                          id="poll", next_run_time=self.clock.now())
        scheduler.add_job(self._heartbeat, "interval", seconds=max(1, self.settings.lease_seconds // 3),
                          id="heartbeat")
        engine = self.factory.kw["bind"]
        scheduler.add_job(refresh_statistics, "interval", args=[engine], hours=1, id="statistics",
                          next_run_time=self.clock.now())

        def stop(signum: int, _frame: object) -> None:
            log.info("received signal %d, shutting down", signum)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("scheduler %s polling every %ss with %d workers", self.owner, self.settings.poll_seconds,
                 self.settings.worker_concurrency)
        try:
            scheduler.start()
        finally:
            self.worker.shutting_down = True
            with self._lock:
                for execution_id in list(self._running):
                    self.worker.cancel(execution_id, None)
            executor.shutdown(wait=True)
