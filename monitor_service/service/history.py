"""Bounded history queries for pages: a schedule's newest windows, recent violation totals, the
metrics of one run. Each reads at most `limit` rows through an index whatever the table sizes
(executions by (schedule, window end), feature metrics by execution), so pages stay fast however
many violations are stored (see bench/dashboard_pages.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor_service.store.models import Execution, FeatureMetric

FINISHED = ("Completed", "CompletedWithViolations")


def recent_windows(session: Session, *, schedule_id: str, limit: int) -> list[Execution]:
    """The schedule's newest `limit` analysis runs by window end, oldest first (the order charts draw)."""
    query = (select(Execution).where(Execution.schedule_id == schedule_id, Execution.job == "analyze")
             .order_by(Execution.window_end.desc(), Execution.created_at.desc()).limit(limit))
    return list(reversed(list(session.scalars(query))))


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
