"""Recording what a finished job produced: status, counts, violations, feature metrics, alerts.

The violation rows come from the job's own `constraint_violations.json` (SageMaker's or
Clarify's format), mapped onto store rows by the monitor type's plugin (`violation_rows`), so the
database and the files on disk always tell the same story.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from monitor_service.errors import FormatError, NotFoundError
from monitor_service.monitors.base import COMMON_ARTIFACTS, MonitorPlugin
from monitor_service.runner.summary import RunSummary
from monitor_service.service.webhooks import enqueue_alerts
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.models import Execution, FeatureMetric, Schedule, Violation


def artifact_links(artifacts: ArtifactStore, plugin: MonitorPlugin, execution: Execution,
                   summary: RunSummary) -> dict[str, str]:
    """The report files this run wrote into its own folder: those its summary lists, plus summary.json.

    A file the summary does not list (left by an earlier attempt, say) is never linked, and
    nothing outside the execution's folder is.
    """
    written = {posixpath.basename(path) for path in summary.artifacts.values()} | {"summary.json"}
    links = {}
    for name in (*plugin.artifacts, *COMMON_ARTIFACTS):
        path = f"{execution.artifact_dir}/{name}"
        if name in written and artifacts.contains(path) and artifacts.exists(path):
            links[name] = path
    return links


def _violation_entries(artifacts: ArtifactStore, links: dict[str, str]) -> list[dict[str, Any]]:
    path = links.get("constraint_violations.json")
    if path is None:
        return []
    try:
        document = artifacts.read_json(path, "constraint violations file")
    except NotFoundError:
        return []
    entries = document.get("violations") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise FormatError(f"{path} has no 'violations' list")
    return [e for e in entries if isinstance(e, dict)]


def record_result(session: Session, artifacts: ArtifactStore, plugin: MonitorPlugin, *, execution: Execution,
                  summary: RunSummary, status: str, failure_reason: str | None, duration: float,
                  now: datetime) -> None:
    """Store the outcome of an analysis run (the caller already holds the execution's lease)."""
    links = artifact_links(artifacts, plugin, execution, summary)
    entries: list[dict[str, Any]] = []
    if status in ("Completed", "CompletedWithViolations"):
        try:
            entries = _violation_entries(artifacts, links)
            status = "CompletedWithViolations" if entries else "Completed"
        except FormatError as exc:
            status, failure_reason = "Failed", f"The job wrote an unreadable violations file: {exc.message}"
    execution.status, execution.failure_reason = status, failure_reason
    execution.finished_at, execution.duration_seconds = now, duration
    execution.records_read = summary.records_read
    execution.records_analyzed = summary.records_analyzed
    execution.records_quarantined = summary.records_quarantined.total
    execution.quarantined_by_reason = dict(summary.records_quarantined.by_reason)
    execution.violation_count = len(entries) if status != "Failed" else None
    execution.violations_by_check = dict(summary.violations_by_check) or _by_check(entries)
    execution.artifacts = links
    execution.lease_owner, execution.lease_expires_at = None, None
    window = {"window_start": execution.window_start or now, "window_end": execution.window_end or now}
    rows = [{"execution_id": execution.id, "schedule_id": execution.schedule_id,
             "monitor_type": execution.monitor_type, "feature_name": row.feature_name[:255],
             "check_type": row.check_type[:64], "description": row.description, "metric_name": row.metric_name,
             "details": row.details, "created_at": now, **window}
            for row in plugin.violation_rows(entries)]
    if rows:
        session.execute(insert(Violation), rows)
    metrics = [{"execution_id": execution.id, "schedule_id": execution.schedule_id, "feature_name": feature,
                "metrics": values, **window}
               for feature, values in summary.feature_metrics.items()]
    if metrics and status != "Failed" and execution.job == "analyze":
        session.execute(insert(FeatureMetric), metrics)
    schedule = session.get(Schedule, execution.schedule_id) if execution.schedule_id else None
    preview = [Violation(feature_name=r["feature_name"], check_type=r["check_type"], description=r["description"],
                         metric_name=r["metric_name"], details=r["details"]) for r in rows[:50]]
    enqueue_alerts(session, execution=execution, schedule_name=schedule.name if schedule else None,
                   violations=preview, now=now)


def _by_check(entries: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        key = str(entry.get("constraint_check_type", ""))
        counts[key] = counts.get(key, 0) + 1
    return counts
