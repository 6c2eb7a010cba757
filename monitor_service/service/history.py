"""Bounded history queries for pages: a schedule's newest windows, recent violation totals, the
metrics of one run. Each reads at most `limit` rows through an index whatever the table sizes
(executions by (schedule, window end), feature metrics by execution), so pages stay fast however
many violations are stored (see bench/dashboard_pages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor_service.store.models import Execution, FeatureMetric

FINISHED = ("Completed", "CompletedWithViolations")


@dataclass(frozen=True)
class WindowRun:
    """What a timeline or a sparkline needs of one run (no request, no artifact list)."""

    id: str
    status: str
    window_start: datetime | None
    window_end: datetime | None
    violation_count: int | None
    violations_by_check: dict[str, int] | None


def recent_windows(session: Session, *, schedule_id: str, limit: int) -> list[WindowRun]:
    """The schedule's newest `limit` analysis runs by window end, oldest first (the order charts draw)."""
    query = (select(Execution.id, Execution.status, Execution.window_start, Execution.window_end,
                    Execution.violation_count, Execution.violations_by_check)
             .where(Execution.schedule_id == schedule_id, Execution.job == "analyze")
             .order_by(Execution.window_end.desc(), Execution.created_at.desc()).limit(limit))
    return [WindowRun(*row) for row in reversed(session.execute(query).all())]


@dataclass(frozen=True)
class MetricPoint:
    window_end: datetime
    metrics: dict[str, float | None]


def group_history(session: Session, *, schedule_id: str, group: str, limit: int) -> list[MetricPoint]:
    """The newest `limit` windows' metrics of one stored group, oldest first (columns only: pages draw them)."""
    query = (select(FeatureMetric.window_end, FeatureMetric.metrics)
             .where(FeatureMetric.schedule_id == schedule_id, FeatureMetric.feature_name == group)
             .order_by(FeatureMetric.window_end.desc(), FeatureMetric.id.desc()).limit(limit))
    return [MetricPoint(when, dict(metrics)) for when, metrics in reversed(session.execute(query).all())]


def violations_since(session: Session, *, schedule_id: str, since: datetime) -> int:
    """Violations of the schedule's runs whose window ended at or after `since` (from the runs' counts)."""
    query = select(func.coalesce(func.sum(Execution.violation_count), 0)).where(
        Execution.schedule_id == schedule_id, Execution.window_end >= since)
    return int(session.scalar(query) or 0)


def latest_finished(session: Session, *, schedule_id: str) -> Execution | None:
    """The finished analysis run of the newest window (the one whose metrics pages show as "latest")."""
    query = (select(Execution).where(Execution.schedule_id == schedule_id, Execution.job == "analyze",
                                     Execution.status.in_(FINISHED))
             .order_by(Execution.window_end.desc(), Execution.finished_at.desc()).limit(1))
    return session.scalars(query).first()


def run_metrics(session: Session, *, execution_id: str) -> dict[str, dict[str, float | None]]:
    """Every stored metric group of one run: group -> metric -> value."""
    query = select(FeatureMetric.feature_name, FeatureMetric.metrics).where(FeatureMetric.execution_id == execution_id)
    return {group: dict(metrics) for group, metrics in session.execute(query)}
