"""Monitoring schedules: what to read, against which baseline, how often, over which window.

A schedule is `Scheduled` (running) or `Stopped` (paused), SageMaker's two steady states.
`planned_until` marks the last scheduled time already turned into an execution; the planner
continues after it. A new or resumed schedule starts from "now": earlier windows are run only
when asked for with a backfill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor_service.core.registry import Registry
from monitor_service.errors import ConflictError, InvalidField, NotFoundError
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.scheduler.expressions import (
    ExpressionError,
    ScheduleExpression,
    check_fires,
    check_offsets,
    parse_offset,
    parse_schedule_expression,
    window_for,
)
from monitor_service.service.baselines import get_baseline
from monitor_service.service.common import new_id
from monitor_service.service.monitor_settings import monitor_settings, resolve_monitor
from monitor_service.store.models import Baseline, Schedule

ScheduleStatus = Literal["Scheduled", "Stopped"]


@dataclass(frozen=True)
class Timing:
    """A schedule's parsed expression and offsets."""

    expression: ScheduleExpression
    start_offset: timedelta | None
    end_offset: timedelta | None

    def window(self, fire_time: datetime) -> tuple[datetime, datetime]:
        return window_for(self.expression, fire_time, self.start_offset, self.end_offset)


def parse_timing(expression: str, start_offset: str | None, end_offset: str | None) -> Timing:
    """Parse and cross-check the three timing fields (raises ExpressionError)."""
    start = None if start_offset is None else parse_offset(start_offset)
    end = None if end_offset is None else parse_offset(end_offset)
    check_offsets(start, end)
    return Timing(parse_schedule_expression(expression), start, end)


def checked_timing(expression: str, start_offset: str | None, end_offset: str | None, now: datetime) -> Timing:
    """`parse_timing`, and the schedule must fire (within ten years of `now`); a 422 otherwise."""
    try:
        timing = parse_timing(expression, start_offset, end_offset)
        check_fires(timing.expression, now, timing.start_offset)
    except ExpressionError as exc:
        raise InvalidField("schedule_expression", str(exc)) from exc
    return timing


def timing_of(schedule: Schedule) -> Timing:
    return parse_timing(schedule.schedule_expression, schedule.start_offset, schedule.end_offset)


def get_schedule(session: Session, schedule_id: str) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFoundError(f"schedule {schedule_id} does not exist")
    return schedule


def list_schedules(session: Session, *, status: str | None = None) -> list[Schedule]:
    query = select(Schedule).order_by(Schedule.name)
    if status is not None:
        query = query.where(Schedule.status == status)
    return list(session.scalars(query))


def _check_baseline(session: Session, baseline_id: str, monitor_type: str) -> Baseline:
    try:
        baseline = get_baseline(session, baseline_id)
    except NotFoundError as exc:
        raise InvalidField("baseline_id", exc.message) from exc
    if baseline.status != "Ready":
        raise InvalidField("baseline_id", f"baseline {baseline_id} is {baseline.status}; a schedule needs a Ready one")
    if baseline.monitor_type != monitor_type:
        raise InvalidField("baseline_id", f"baseline {baseline_id} is a {baseline.monitor_type} baseline; "
                                          f"a {monitor_type} schedule needs a {monitor_type} one")
    return baseline


def create_schedule(session: Session, monitors: Registry[MonitorPlugin], *, name: str, monitor_type: str,
                    input_spec: dict[str, Any], settings: dict[str, dict[str, Any]], baseline_id: str,
                    schedule_expression: str, start_offset: str | None, end_offset: str | None,
                    now: datetime) -> Schedule:
    """`settings` holds the request's monitor-settings objects by body field (see `monitor_settings`)."""
    monitor_type, plugin = resolve_monitor(monitors, monitor_type)
    own_settings = monitor_settings(plugin, monitor_type, settings)
    checked_timing(schedule_expression, start_offset, end_offset, now)
    if session.scalar(select(Schedule.id).where(Schedule.name == name)) is not None:
        raise ConflictError(f"a schedule named {name!r} already exists", hint="pick another name")
    baseline = _check_baseline(session, baseline_id, monitor_type)
    plugin.check_pairing(own_settings, baseline.contents(), baseline.id)
    schedule = Schedule(
        id=new_id(), name=name, monitor_type=monitor_type, input_spec=input_spec, monitor_settings=own_settings,
        baseline_id=baseline_id, schedule_expression=schedule_expression, start_offset=start_offset,
        end_offset=end_offset, status="Scheduled", planned_until=now, skipped_windows=0,
        created_at=now, updated_at=now,
    )
    session.add(schedule)
    session.flush()
    return schedule


def update_schedule(session: Session, monitors: Registry[MonitorPlugin], *, schedule_id: str, changes: dict[str, Any],
                    now: datetime) -> Schedule:
    """Apply a validated PATCH: pause/resume (`status`) and edits of any other field.

    New monitor settings come as `changes["settings"]`, the request's settings objects by body field.
    """
    schedule = get_schedule(session, schedule_id)
    plugin = monitors.get(schedule.monitor_type)
    if "settings" in changes:
        changes["monitor_settings"] = monitor_settings(plugin, schedule.monitor_type, changes.pop("settings"))
    if "baseline_id" in changes or "monitor_settings" in changes:
        baseline = _check_baseline(session, changes.get("baseline_id", schedule.baseline_id), schedule.monitor_type)
        plugin.check_pairing(changes.get("monitor_settings", schedule.monitor_settings), baseline.contents(),
                             baseline.id)
    merged = {k: changes.get(k, getattr(schedule, k)) for k in ("schedule_expression", "start_offset", "end_offset")}
    checked_timing(merged["schedule_expression"], merged["start_offset"], merged["end_offset"], now)
    status = changes.get("status")
    if status == "Scheduled" and schedule.status == "Stopped":
        schedule.planned_until = now  # resume from now: a pause skips its windows on purpose
    for key, value in changes.items():
        setattr(schedule, key, value)
    schedule.updated_at = now
    return schedule


def delete_schedule(session: Session, schedule_id: str) -> None:
    """Delete a schedule with its executions, violations and metrics (reports stay on disk)."""
    session.delete(get_schedule(session, schedule_id))


def upcoming(schedule: Schedule, now: datetime, count: int = 3) -> list[tuple[datetime, datetime, datetime]]:
    """The next `count` (scheduled time, window start, window end) after now, for display.

    Fewer (or none) when the schedule stops firing, e.g. a cron whose year range has ended.
    """
    if schedule.status != "Scheduled":
        return []
    out, fire = [], max(now, schedule.planned_until)
    try:
        timing = timing_of(schedule)
        for _ in range(count):
            fire = timing.expression.next_after(fire)
            out.append((fire, *timing.window(fire)))
    except (ExpressionError, OverflowError):
        pass
    return out
