"""Per-group numbers across executions: history for charts, latest values for Prometheus.

Every run stores one row per group of its summary's `feature_metrics`: a feature (data quality),
a metric group such as `model_quality` / `model_quality_estimated` (model quality), a facet value
(bias), ... `model_metric_history` combines the groups a monitor type names in its
`metric_series` (e.g. value -> model_quality, estimated -> model_quality_estimated) into one
series per metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor_service.store.models import Execution, FeatureMetric, Schedule


def _newest_rows(session: Session, *, schedule_id: str, features: Sequence[str], since: datetime | None,
                 until: datetime | None, limit: int) -> list[FeatureMetric]:
    """The newest `limit` rows of these features, newest window first; since/until filter the window end."""
    query = select(FeatureMetric).where(FeatureMetric.schedule_id == schedule_id,
                                        FeatureMetric.feature_name.in_(features))
    if since is not None:
        query = query.where(FeatureMetric.window_end >= since)
    if until is not None:
        query = query.where(FeatureMetric.window_end < until)
    return list(session.scalars(query.order_by(FeatureMetric.window_end.desc(), FeatureMetric.id.desc())
                                .limit(limit)))


def feature_history(session: Session, *, schedule_id: str, feature: str, since: datetime | None,
                    until: datetime | None, limit: int) -> list[FeatureMetric]:
    """The feature's metrics per execution, oldest window first (the order a chart draws)."""
    return list(reversed(_newest_rows(session, schedule_id=schedule_id, features=(feature,), since=since,
                                      until=until, limit=limit)))


@dataclass
class ModelMetricPoint:
    """One execution's value of a model metric in each of the monitor's series (e.g. value, estimated)."""

    execution_id: str
    window_start: datetime
    window_end: datetime
    values: dict[str, float | None] = field(default_factory=dict)  # series name -> value


def model_metric_history(session: Session, *, schedule_id: str, metric: str, series: Mapping[str, str],
                         since: datetime | None, until: datetime | None, limit: int) -> list[ModelMetricPoint]:
    """Up to `limit` executions that recorded `metric` in one of the `series` groups, oldest window first."""
    by_group = {group: name for name, group in series.items()}
    points: dict[str, ModelMetricPoint] = {}
    for row in _newest_rows(session, schedule_id=schedule_id, features=tuple(by_group), since=since, until=until,
                            limit=limit * max(1, len(by_group))):
        if metric not in row.metrics:
            continue
        point = points.setdefault(row.execution_id, ModelMetricPoint(row.execution_id, row.window_start,
                                                                     row.window_end))
        point.values[by_group[row.feature_name]] = row.metrics[metric]
    return list(reversed(list(points.values())[:limit]))


def model_metric_names(session: Session, *, schedule_id: str, series: Mapping[str, str]) -> list[str]:
    """The model metrics of the newest row of each series group (the problem type's metrics)."""
    names: set[str] = set()
    for group in series.values():
        for row in _newest_rows(session, schedule_id=schedule_id, features=(group,), since=None, until=None,
                                limit=1):
            names.update(row.metrics)
    return sorted(names)


def feature_names(session: Session, *, schedule_id: str) -> list[str]:
    query = select(FeatureMetric.feature_name).where(FeatureMetric.schedule_id == schedule_id).distinct()
    return sorted(session.scalars(query))


def latest_feature_metrics(session: Session, *, monitor_type: str | None = None,
                           features: Sequence[str] | None = None) -> list[tuple[str, str, dict[str, float | None]]]:
    """(schedule name, feature, metrics) from each schedule's newest analysed window, optionally only
    for schedules of one monitor type and for some features."""
    newest = (select(FeatureMetric.schedule_id, func.max(FeatureMetric.window_end).label("window_end"))
              .group_by(FeatureMetric.schedule_id).subquery())
    query = (select(Schedule.name, FeatureMetric.feature_name, FeatureMetric.metrics)
             .join(newest, (newest.c.schedule_id == FeatureMetric.schedule_id)
                   & (newest.c.window_end == FeatureMetric.window_end))
             .join(Schedule, Schedule.id == FeatureMetric.schedule_id)
             .order_by(Schedule.name, FeatureMetric.feature_name, FeatureMetric.id))
    if monitor_type is not None:
        query = query.where(Schedule.monitor_type == monitor_type)
    if features is not None:
        query = query.where(FeatureMetric.feature_name.in_(features))
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
