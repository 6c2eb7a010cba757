"""Health and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.orm import Session

from monitor_service import __version__
from monitor_service.api.deps import ReadAccess, SessionDep
from monitor_service.service.feature_metrics import duration_totals, execution_counts, latest_feature_metrics
from monitor_service.service.model_quality import ESTIMATED, MONITOR_TYPE, REALIZED

router = APIRouter(tags=["system"])

# SageMaker's CloudWatch names, as Prometheus metrics with schedule/feature labels.
FEATURE_GAUGES = {
    "drift_distance": ("feature_baseline_drift", "Drift distance from the baseline in the newest window"),
    "completeness": ("feature_non_null", "Fraction of non-null values in the newest window"),
}
# SageMaker's model-metrics names (auc, f2, accuracy, mae, ...) behind a prefix, e.g.
# model_metrics_auc{schedule, estimated}; estimated="true" is the CBPE estimate for records
# still waiting for a label, estimated="false" the value measured on labelled records.
MODEL_METRIC_PREFIX = "model_metrics_"


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
def metrics(session: SessionDep) -> Response:
    families: list[Metric] = []
    gauges = {key: GaugeMetricFamily(name, doc, labels=["schedule", "feature"])
              for key, (name, doc) in FEATURE_GAUGES.items()}
    for schedule, feature, values in latest_feature_metrics(session):
        for key, gauge in gauges.items():
            value = values.get(key)
            if value is not None:
                gauge.add_metric([schedule, feature], float(value))
    families.extend(gauges.values())
    families.extend(_model_metric_gauges(session))
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


def _model_metric_gauges(session: Session) -> list[Metric]:
    """One gauge per model metric of the newest window of each ModelQuality schedule."""
    gauges: dict[str, GaugeMetricFamily] = {}
    for schedule, group, values in latest_feature_metrics(session, monitor_type=MONITOR_TYPE,
                                                          features=(REALIZED, ESTIMATED)):
        for metric, value in values.items():
            if value is None:
                continue
            if metric not in gauges:
                gauges[metric] = GaugeMetricFamily(
                    MODEL_METRIC_PREFIX + metric, f"Model metric {metric} in the newest window "
                    '(estimated="true": CBPE estimate for records without a label yet)',
                    labels=["schedule", "estimated"])
            gauges[metric].add_metric([schedule, "true" if group == ESTIMATED else "false"], float(value))
    return [gauges[name] for name in sorted(gauges)]
