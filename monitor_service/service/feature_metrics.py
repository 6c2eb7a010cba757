"""Per-feature numbers across executions: history for charts, latest values for Prometheus."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor_service.store.models import Execution, FeatureMetric, Schedule


def feature_history(session: Session, *, schedule_id: str, feature: str, since: datetime | None,
                    until: datetime | None, limit: int) -> list[FeatureMetric]:
    """The feature's metrics per execution, oldest window first (the order a chart draws)."""
    query = select(FeatureMetric).where(FeatureMetric.schedule_id == schedule_id,
                                        FeatureMetric.feature_name == feature)
    if since is not None:
        query = query.where(FeatureMetric.window_end >= since)
    if until is not None:
        query = query.where(FeatureMetric.window_end < until)
    newest = query.order_by(FeatureMetric.window_end.desc(), FeatureMetric.id.desc()).limit(limit)
    return list(reversed(list(session.scalars(newest))))


def feature_names(session: Session, *, schedule_id: str) -> list[str]:
    query = select(FeatureMetric.feature_name).where(FeatureMetric.schedule_id == schedule_id).distinct()
    return sorted(session.scalars(query))


def latest_feature_metrics(session: Session) -> list[tuple[str, str, dict[str, float | None]]]:
    """(schedule name, feature, metrics) from each schedule's newest analysed window."""
    newest = (select(FeatureMetric.schedule_id, func.max(FeatureMetric.window_end).label("window_end"))
              .group_by(FeatureMetric.schedule_id).subquery())
    query = (select(Schedule.name, FeatureMetric.feature_name, FeatureMetric.metrics)
             .join(newest, (newest.c.schedule_id == FeatureMetric.schedule_id)
                   & (newest.c.window_end == FeatureMetric.window_end))
             .join(Schedule, Schedule.id == FeatureMetric.schedule_id)
             .order_by(Schedule.name, FeatureMetric.feature_name, FeatureMetric.id))
    latest: dict[tuple[str, str], dict[str, float | None]] = {}
    for name, feature, metrics in session.execute(query):
        latest[(name, feature)] = metrics  # a later id (a re-run) of the same window wins
    return [(name, feature, metrics) for (name, feature), metrics in latest.items()]


def execution_counts(session: Session) -> list[tuple[str, str, int]]:
    """(schedule name or "" for baseline jobs, status, count)."""
    query = (select(Schedule.name, Execution.status, func.count())
             .select_from(Execution).outerjoin(Schedule, Schedule.id == Execution.schedule_id)
             .group_by(Schedule.name, Execution.status))
    return [(name or "", status, int(count)) for name, status, count in session.execute(query)]


def duration_totals(session: Session) -> list[tuple[str, int, float]]:
    """(schedule name, finished runs, total seconds) over runs with a duration."""
    query = (select(Schedule.name, func.count(), func.sum(Execution.duration_seconds))
             .select_from(Execution).outerjoin(Schedule, Schedule.id == Execution.schedule_id)
             .where(Execution.duration_seconds.is_not(None)).group_by(Schedule.name))
    return [(name or "", int(count), float(total or 0.0)) for name, count, total in session.execute(query)]
