"""Runs Pending executions under a lease, so every execution finishes exactly once.

- Claim: a compare-and-set UPDATE moves a row from Pending (or InProgress with an expired
  lease) to InProgress with this worker as `lease_owner`. Only one process can win it, and it
  clears the files an earlier attempt left in the execution's folder before the job runs.
- Heartbeat: while a job runs, the lease is renewed; a stop asked by hand or a run past the
  maximum runtime cancels the job's Spark job group.
- Finish: the result is written only if this worker still owns the lease (the same UPDATE
  fences out a worker that was presumed dead and came back).
- A run whose process died keeps an InProgress row whose lease expires; the next claim takes it
  over, and after `max_attempts` such deaths the execution is Failed with a plain reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from monitor_service.core.registry import Registry
from monitor_service.errors import ConfigError, InvalidField
from monitor_service.monitors.base import MonitorPlugin, uses_spark
from monitor_service.runner.cancel import request_cancel, run_scope
from monitor_service.runner.common import describe_failure
from monitor_service.runner.summary import RunSummary
from monitor_service.scheduler.clock import Clock
from monitor_service.service.baselines import fail_baseline_job, finish_baseline_job
from monitor_service.service.results import record_result
from monitor_service.service.webhooks import enqueue_alerts
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import affected, transaction
from monitor_service.store.models import Execution, Schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """An execution this worker now owns."""

    id: str
    job: str
    monitor_type: str
    request: dict[str, Any]
    attempt: int
    artifact_dir: str


class Worker:
    def __init__(self, *, factory: sessionmaker[Session], artifacts: ArtifactStore, monitors: Registry[MonitorPlugin],
                 clock: Clock, settings: Settings, owner: str, spark: Callable[[], Any]) -> None:
        self.factory, self.artifacts, self.monitors = factory, artifacts, monitors
        self.clock, self.settings, self.owner, self.spark = clock, settings, owner, spark
        self._spark_started = False
        self.shutting_down = False
        self._stop_reasons: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    def claim(self, limit: int) -> list[Claim]:
        """Take up to `limit` runnable executions, oldest first."""
        if limit <= 0:
            return []
        now = self.clock.now()
        runnable = or_(Execution.status == "Pending",
                       and_(Execution.status == "InProgress", Execution.lease_expires_at < now))
        with transaction(self.factory) as session:
            candidates = session.execute(
                select(Execution.id, Execution.status, Execution.attempts).where(runnable)
                .order_by(Execution.created_at, Execution.id).limit(limit * 4 + 8)).all()
        claims: list[Claim] = []
        for execution_id, status, attempts in candidates:
            if len(claims) >= limit:
                break
            with transaction(self.factory) as session:
                if status == "InProgress" and attempts >= self.settings.max_attempts:
                    self._give_up(session, execution_id, attempts, runnable)
                    continue
                won = affected(session.execute(
                    update(Execution).where(Execution.id == execution_id, runnable)
                    .values(status="InProgress", lease_owner=self.owner, lease_expires_at=now + self._lease,
                            started_at=now, attempts=Execution.attempts + 1)))
                if won == 1:
                    row = session.get_one(Execution, execution_id)
                    claims.append(Claim(row.id, row.job, row.monitor_type, row.request, row.attempts,
                                        row.artifact_dir))
        return claims

    def _give_up(self, session: Session, execution_id: str, attempts: int, runnable: Any) -> None:
        reason = (f"The worker running this execution stopped without finishing {attempts} times (its process was "
                  "killed, ran out of memory or lost the database); giving up after MONITOR_MAX_ATTEMPTS="
                  f"{self.settings.max_attempts} attempts.")
        now = self.clock.now()
        if affected(session.execute(update(Execution).where(Execution.id == execution_id, runnable).values(
                status="Failed", failure_reason=reason, finished_at=now, lease_owner=None,
                lease_expires_at=None))) == 1:
            execution = session.get_one(Execution, execution_id)
            if execution.job == "baseline":
                fail_baseline_job(session, execution=execution, reason=reason, now=now)
            schedule = session.get(Schedule, execution.schedule_id) if execution.schedule_id else None
            enqueue_alerts(session, execution=execution, schedule_name=schedule.name if schedule else None,
                           violations=[], now=now)

    def run(self, claim: Claim) -> str:
        """Run one claimed execution to the end; returns its final status (or why none was written)."""
        started = time.monotonic()
        try:
            summary = self._invoke(claim)
        except Exception as exc:  # the runners return failures as values; anything else is a bug
            log.exception("execution %s raised", claim.id)
            summary = RunSummary(job="baseline" if claim.job == "baseline" else "analyze", status="Failed",
                                 failure_reason=describe_failure(
                                     exc, details="the scheduler's log has the traceback"))
        return self._finish(claim, summary, time.monotonic() - started)

    def _session(self) -> Any:
        """The SparkSession, started on first use (DuckDB-engine runs never start it)."""
        self._spark_started = True
        return self.spark()

    def _invoke(self, claim: Claim) -> RunSummary:
        # A retried execution reuses its folder: files of an earlier attempt must not pass for this run's.
        self.artifacts.clear_files(claim.artifact_dir)
        plugin = self.monitors.get(claim.monitor_type)
        if claim.job == "baseline":
            if plugin.baseline_model is None:
                raise ConfigError(f"monitor type {claim.monitor_type} has no baseline job")
            request = self._allowed(plugin, plugin.baseline_model.model_validate(claim.request))
        else:
            request = self._allowed(plugin, plugin.analyze_model.model_validate(claim.request))
        spark = None
        if uses_spark(plugin.job_engine(request, self.settings.engine)):
            spark = self._session()
            if spark is not None:
                spark.sparkContext.setJobGroup(claim.id, f"monitor execution {claim.id}", interruptOnCancel=True)
        with run_scope(claim.id):
            if claim.job == "baseline":
                return plugin.run_baseline(spark, request)
            return plugin.run_analysis(spark, request)

    def _allowed(self, plugin: MonitorPlugin, request: Any) -> Any:
        """The input roots are checked again when a job runs: a schedule stored before they
        were set (or narrowed) must not read outside them either; nor may a model file or a
        config file the plugin says the job reads."""
        policy = self.settings.path_policy()
        policy.check_model(request)
        for field, path in plugin.input_files(request):
            problem = policy.problem(path)
            if problem:
                raise InvalidField(field, f"{field}: file {path[:300]!r} {problem}",
                                   hint="put the file under an input root, or ask the operator to add one")
        return request

    def _finish(self, claim: Claim, summary: RunSummary, duration: float) -> str:
        now = self.clock.now()
        with self._lock:
            stop_reason = self._stop_reasons.pop(claim.id, None)
        with transaction(self.factory) as session:
            # Renewing the lease inside this transaction is the fence: it locks the row, and
            # fails if another worker took the execution over meanwhile.
            mine = affected(session.execute(
                update(Execution).where(Execution.id == claim.id, Execution.lease_owner == self.owner,
                                        Execution.status == "InProgress")
                .values(lease_expires_at=now + self._lease)))
            if mine != 1:
                log.warning("execution %s was taken over by another worker; dropping this result", claim.id)
                return "Lost"
            execution = session.get_one(Execution, claim.id)
            if self.shutting_down and stop_reason is None and summary.status == "Failed":
                execution.status, execution.lease_owner, execution.lease_expires_at = "Pending", None, None
                execution.attempts -= 1  # interrupted by our own shutdown: not the job's fault
                return "Pending"
            status = "Stopped" if stop_reason else summary.status
            reason = stop_reason or (summary.failure_reason if status == "Failed" else None)
            if status == "Failed" and not reason:
                reason = "The job failed without saying why."
            record_result(session, self.artifacts, self.monitors.get(execution.monitor_type), execution=execution,
                          summary=summary, status=status, failure_reason=reason, duration=duration, now=now)
            if execution.job == "baseline":
                finish_baseline_job(session, self.artifacts, self.monitors, execution=execution,
                                    summary=summary if status != "Stopped" else summary.model_copy(
                                        update={"status": "Failed", "failure_reason": reason}), now=now)
            return execution.status

    def heartbeat(self, running: Iterable[str]) -> None:
        """Renew the leases of running executions and stop those that must stop."""
        now = self.clock.now()
        for execution_id in running:
            with transaction(self.factory) as session:
                renewed = affected(session.execute(
                    update(Execution).where(Execution.id == execution_id, Execution.lease_owner == self.owner,
                                            Execution.status == "InProgress")
                    .values(lease_expires_at=now + self._lease)))
                row = session.execute(select(Execution.stop_requested, Execution.started_at)
                                      .where(Execution.id == execution_id)).first()
            reason = None
            if renewed != 1 or row is None:
                reason = "Lost its lease to another worker."
            elif row.stop_requested:
                reason = "Stopped by hand while running."
            elif row.started_at is not None and now - row.started_at > timedelta(
                    seconds=self.settings.max_runtime_seconds):
                reason = (f"Stopped after running longer than the maximum runtime of "
                          f"{self.settings.max_runtime_seconds} seconds (MONITOR_MAX_RUNTIME_SECONDS).")
            if reason is not None:
                self.cancel(execution_id, reason)

    def cancel(self, execution_id: str, reason: str | None) -> None:
        """Cancel a run's Spark jobs; with a reason it ends Stopped, without (shutdown) Pending again."""
        with self._lock:
            first = execution_id not in self._stop_reasons
            if reason is not None:
                self._stop_reasons.setdefault(execution_id, reason)
        if first:
            request_cancel(execution_id)
        spark = self.spark() if self._spark_started else None
        if first and spark is not None:
            spark.sparkContext.cancelJobGroup(execution_id)
