"""Executions: one row per analysed window (or baseline job), from Pending to a final status.

Scheduled windows carry a `dedup_key` (their scheduled time) under a unique constraint with
the schedule id, and are inserted with ON CONFLICT DO NOTHING: however many schedulers or
backfills ask for the same window, it exists once. Manual runs have no key, so a window can be
re-run on purpose (for instance after the constraints were edited).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor_service.core.registry import Registry
from monitor_service.errors import ConflictError, InvalidField, NotFoundError
from monitor_service.monitors.base import MonitorPlugin, WindowJob
from monitor_service.service.baselines import get_baseline
from monitor_service.service.common import keyset_page, new_id
from monitor_service.service.feature_metrics import feature_history
from monitor_service.service.schedules import timing_of
from monitor_service.specs import InputSpec, Window
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.models import Execution, Schedule

FinalStatus = Literal["Completed", "CompletedWithViolations", "Failed", "Stopped"]
ExecutionStatus = Literal["Pending", "InProgress", FinalStatus]
FINAL_STATUSES: tuple[str, ...] = get_args(FinalStatus)
# Earlier windows a run's anomaly checks see (Deequ's strategies over the metric history).
HISTORY_WINDOWS = 200


def _analyze_values(artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], schedule: Schedule, *,
                    session: Session, start: datetime, end: datetime, scheduled_time: datetime | None, trigger: str,
                    now: datetime) -> dict[str, Any]:
    """Column values of a Pending analysis execution; the request is frozen at creation.

    The execution time (ground truth collected up to it counts) is the scheduled time, so every
    run of a scheduled window sees the same labels; a manual run uses the moment it was asked for.
    """
    baseline = get_baseline(session, schedule.baseline_id)
    if baseline.status != "Ready" or not baseline.documents:
        raise ConflictError(f"baseline {baseline.id} has no files yet (status {baseline.status})")
    execution_id = new_id()
    sub_hourly = timing_of(schedule).expression.sub_hourly
    if scheduled_time is not None:
        artifact_dir = artifacts.window_dir(schedule.name, scheduled_time, sub_hourly=sub_hourly)
    else:
        artifact_dir = artifacts.window_dir(schedule.name, end, sub_hourly=sub_hourly,
                                            run_label=f"manual-{execution_id[:8]}")
    spec = InputSpec.model_validate({**schedule.input_spec, "window": Window(start=start, end=end)})
    def history(features: Sequence[str]) -> dict[str, list[tuple[datetime, Mapping[str, float | None]]]]:
        return {f: [(row.window_end, row.metrics) for row in feature_history(
            session, schedule_id=schedule.id, feature=f, since=None, until=end, limit=HISTORY_WINDOWS)]
            for f in features}

    request = monitors.get(schedule.monitor_type).analyze_request(WindowJob(
        input=spec, output_dir=artifact_dir, documents=baseline.paths(), settings=schedule.monitor_settings,
        execution_time=scheduled_time or now, artifacts=artifacts, metric_history=history))
    return {
        "id": execution_id, "job": "analyze", "monitor_type": schedule.monitor_type, "trigger": trigger,
        "schedule_id": schedule.id, "baseline_id": None, "baseline_version": baseline.version,
        "dedup_key": None if scheduled_time is None else scheduled_time.isoformat(),
        "scheduled_time": scheduled_time, "window_start": start, "window_end": end, "status": "Pending",
        "request": request.model_dump(mode="json"), "artifact_dir": artifact_dir, "created_at": now,
        "attempts": 0, "stop_requested": False,
    }


def insert_scheduled(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin],
                     schedule: Schedule, *, fire_time: datetime, trigger: str, now: datetime) -> str | None:
    """Create the execution of one scheduled window unless it exists; returns its id if created."""
    start, end = timing_of(schedule).window(fire_time)
    values = _analyze_values(artifacts, monitors, schedule, session=session, start=start, end=end,
                             scheduled_time=fire_time, trigger=trigger, now=now)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Execution).values(**values).on_conflict_do_nothing(
        index_elements=["schedule_id", "dedup_key"]).returning(Execution.id)
    created: str | None = session.execute(statement).scalar_one_or_none()
    return created


def run_window_now(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], schedule: Schedule, *,
                   start: datetime, end: datetime, now: datetime) -> Execution:
    """A manual run of any window: always a new execution, even for a window already run."""
    if end <= start:
        raise InvalidField("end", f"end {end.isoformat()} must be after start {start.isoformat()}")
    if end > now:
        raise InvalidField("end", f"end {end.isoformat()} is in the future; its data is not complete yet")
    execution = Execution(**_analyze_values(artifacts, monitors, schedule, session=session, start=start, end=end,
                                            scheduled_time=None, trigger="Manual", now=now))
    session.add(execution)
    session.flush()
    return execution


@dataclass(frozen=True)
class Backfill:
    created: list[str]
    existing: int


def backfill(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], schedule: Schedule, *,
             start: datetime, end: datetime, now: datetime, max_windows: int) -> Backfill:
    """Create the scheduled windows that lie inside `[start, end]` and do not exist yet."""
    if end <= start:
        raise InvalidField("end", f"end {end.isoformat()} must be after start {start.isoformat()}")
    timing = timing_of(schedule)
    end_shift = timing.end_offset or timedelta(0)
    last = min(end, now) - end_shift
    fires = timing.expression.fire_times(start - end_shift - timedelta(microseconds=1), last,
                                         limit=max_windows + 1)
    windows = [f for f in fires if timing.window(f)[0] >= start]
    if len(fires) > max_windows:
        raise InvalidField("start", f"the range holds more than {max_windows} windows of this schedule",
                           hint="split the backfill or raise MONITOR_BACKFILL_MAX_WINDOWS")
    created = [i for f in windows if (i := insert_scheduled(session, artifacts, monitors, schedule, fire_time=f,
                                                             trigger="Backfill", now=now))]
    return Backfill(created=created, existing=len(windows) - len(created))


def get_execution(session: Session, execution_id: str) -> Execution:
    execution = session.get(Execution, execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} does not exist")
    return execution


def list_executions(session: Session, *, schedule_id: str | None, status: str | None, since: datetime | None,
                    until: datetime | None, cursor: str | None, limit: int) -> tuple[list[Execution], str | None]:
    """Newest first by creation time; `since`/`until` filter the window end."""
    query = select(Execution)
    if schedule_id is not None:
        query = query.where(Execution.schedule_id == schedule_id)
    if status is not None:
        query = query.where(Execution.status == status)
    if since is not None:
        query = query.where(Execution.window_end >= since)
    if until is not None:
        query = query.where(Execution.window_end < until)
    return keyset_page(session, query, when=Execution.created_at, key=Execution.id, cursor=cursor, limit=limit)


def stop_execution(session: Session, *, execution_id: str, now: datetime) -> Execution:
    """Stop by hand: a Pending run is Stopped at once, a running one when its worker notices."""
    execution = get_execution(session, execution_id)
    if execution.status in FINAL_STATUSES:
        raise ConflictError(f"execution {execution_id} already finished ({execution.status})")
    if execution.status == "Pending":
        session.execute(update(Execution).where(Execution.id == execution_id, Execution.status == "Pending")
                        .values(status="Stopped", finished_at=now, failure_reason="Stopped by hand before it started."))
    else:
        execution.stop_requested = True
    session.flush()
    session.refresh(execution)
    return execution
