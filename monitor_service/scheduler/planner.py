"""Turns due scheduled times into Pending executions, with bounded catch-up after downtime.

After an outage the planner creates the newest `catchup_max_windows` missed windows and counts
the older ones as skipped (visible on the schedule), so a scheduler that was down for a month
does not bury the cluster under a month of runs; a backfill brings the older ones back.
Creating executions is idempotent (see `service.executions.insert_scheduled`) and the
schedule's `planned_until` only moves by compare-and-set, so concurrent planners are harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor_service.core.registry import Registry
from monitor_service.errors import MonitorError
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.scheduler.expressions import ExpressionError, ScheduleExpression
from monitor_service.service.executions import insert_scheduled
from monitor_service.service.schedules import timing_of
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import affected
from monitor_service.store.models import Schedule

log = logging.getLogger(__name__)
_MAX_ERROR = 2000  # characters of a planning error kept on the schedule


@dataclass(frozen=True)
class Plan:
    created: list[str]
    skipped: int


def due_times(expression: ScheduleExpression, after: datetime, now: datetime,
              max_windows: int) -> tuple[list[datetime], int]:
    """The newest `max_windows` fire times in `(after, now]` (oldest first) and how many older ones."""
    recent: list[datetime] = []
    moment = now + timedelta(microseconds=1)
    try:
        while len(recent) < max_windows:
            moment = expression.previous_before(moment)
            if moment <= after:
                break
            recent.append(moment)
    except ExpressionError:  # no earlier fire time at all
        pass
    oldest = recent[-1] if recent else now + timedelta(microseconds=1)
    skipped = len(expression.fire_times(after, oldest - timedelta(microseconds=1), limit=1_000_000))
    return list(reversed(recent)), skipped


def plan_schedule(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], schedule: Schedule, *,
                  now: datetime, max_catchup: int) -> Plan:
    seen = schedule.planned_until
    if seen >= now:
        return Plan([], 0)
    timing = timing_of(schedule)
    fires, skipped = due_times(timing.expression, seen, now, max_catchup)
    created = []
    for fire in fires:
        trigger = "Scheduled" if fire == fires[-1] else "CatchUp"
        execution_id = insert_scheduled(session, artifacts, monitors, schedule, fire_time=fire, trigger=trigger,
                                        now=now)
        if execution_id is not None:
            created.append(execution_id)
    moved = affected(session.execute(
        update(Schedule).where(Schedule.id == schedule.id, Schedule.planned_until == seen)
        .values(planned_until=now, skipped_windows=Schedule.skipped_windows + skipped)))
    if skipped and moved:
        log.warning("schedule %s: %d missed windows older than the newest %d were skipped "
                    "(MONITOR_CATCHUP_MAX_WINDOWS); backfill them if needed", schedule.name, skipped, max_catchup)
    return Plan(created, skipped if moved else 0)


def plan_all(session: Session, artifacts: ArtifactStore, monitors: Registry[MonitorPlugin], *, now: datetime,
             max_catchup: int) -> list[str]:
    """Plan every running schedule; a broken one is logged, its error recorded, and the others go on.

    Each schedule is planned inside its own savepoint, so whatever it raises (a bad expression, an
    unreadable input spec, a storage or database error) rolls back only its own half-done work:
    on PostgreSQL a failed statement would otherwise abort the whole transaction. Inserts are
    idempotent, so a schedule that failed is simply planned again next tick.
    """
    created: list[str] = []
    schedules = session.scalars(select(Schedule).where(Schedule.status == "Scheduled").order_by(Schedule.name)).all()
    for schedule in schedules:
        schedule_id, name, had_error = schedule.id, schedule.name, schedule.planning_error is not None
        try:
            with session.begin_nested():
                plan = plan_schedule(session, artifacts, monitors, schedule, now=now, max_catchup=max_catchup)
                if had_error:
                    _record_error(session, schedule_id, None)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, MonitorError) else f"{type(exc).__name__}: {exc}"
            log.error("schedule %s cannot be planned: %s", name, reason, exc_info=not isinstance(exc, MonitorError))
            with session.begin_nested():
                _record_error(session, schedule_id, reason[:_MAX_ERROR])
        else:
            created.extend(plan.created)
    return created


def _record_error(session: Session, schedule_id: str, reason: str | None) -> None:
    session.execute(update(Schedule).where(Schedule.id == schedule_id).values(planning_error=reason)
                    .execution_options(synchronize_session=False))
