"""Health and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text

from monitor_service import __version__
from monitor_service.api.deps import ReadAccess, ResourcesDep, SessionDep
from monitor_service.monitors.base import LatestMetrics
from monitor_service.service.feature_metrics import duration_totals, execution_counts, latest_feature_metrics

router = APIRouter(tags=["system"])

@router.get("/healthz", summary="Liveness and database check (no API key needed)")
def healthz(session: SessionDep) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}


class _Snapshot:
    """A collector over metrics computed from the database for this scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


@router.get("/metrics", dependencies=[ReadAccess], response_class=Response,
            summary="Prometheus metrics (text exposition format)")
def metrics(session: SessionDep, resources: ResourcesDep) -> Response:
    """Each monitor type's gauges of the newest window of its schedules, then the executions' counters."""
    families: list[Metric] = []
    for plugin in resources.monitors:
        latest = [LatestMetrics(schedule, group, values)
                  for schedule, group, values in latest_feature_metrics(session, monitor_type=plugin.monitor_type)]
        families.extend(plugin.metric_families(latest))
    counts = GaugeMetricFamily("monitor_executions", "Executions by schedule and status",
                               labels=["schedule", "status"])
    for schedule, status, count in execution_counts(session):
        counts.add_metric([schedule, status], count)
    durations = SummaryMetricFamily("monitor_execution_duration_seconds", "Run time of finished executions",
                                    labels=["schedule"])
    for schedule, count, total in duration_totals(session):
        durations.add_metric([schedule], count_value=count, sum_value=total)
    families.extend([counts, durations])
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
