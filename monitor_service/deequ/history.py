"""Metric history for anomaly checks: how the previous windows' values reach an analysis job.

The service already stores each window's `summary.feature_metrics` (feature -> metric -> value)
as feature_metrics rows. An anomaly check needs the same metric of the same feature from earlier
windows, so the job receives them in its request (the service fills `MetricHistory` from those
rows when it creates the execution; `monitor analyze --anomaly-history FILE` reads the same JSON
from a file). The job never queries the database: the request is the whole input, so re-running
an execution sees the same history.

JSON shape: `{"features": {"age": {"mean": [{"time": "2026-11-01T10:00:00Z", "value": 41.2}, ...]}}}`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

from monitor_service import io
from monitor_service.core.json_fields import describe_validation_error, validated
from monitor_service.deequ.checks import DeequChecks

StoredHistory = Callable[[Sequence[str]], Mapping[str, Sequence[tuple[datetime, Mapping[str, float | None]]]]]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times need a time zone (e.g. 2026-11-01T10:00:00Z)")
    return value


class MetricPoint(BaseModel):
    """One window's value; None is a window where the metric could not be computed (Deequ drops those)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: Annotated[datetime, AfterValidator(_utc)]
    value: float | None


class MetricHistory(BaseModel):
    """Earlier windows' metric values, per feature and metric, oldest first after `series`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: dict[str, dict[str, list[MetricPoint]]] = {}

    @classmethod
    def from_json(cls, data: Any, source: str = "metric history") -> MetricHistory:
        return validated(cls.model_validate, data,
                         lambda exc: f"{source} is not a valid metric history: {describe_validation_error(exc, data)}",
                         hint='expected {"features": {FEATURE: {METRIC: [{"time": ..., "value": ...}]}}}')

    def series(self, feature: str, metric: str) -> list[float]:
        """The usable values in time order: missing and non-finite values dropped, one value per time
        (a repeated time keeps the last one given, as a re-run window replaces the earlier run)."""
        by_time: dict[datetime, float] = {}
        for point in self.features.get(feature, {}).get(metric, []):
            if point.value is not None and math.isfinite(point.value):
                by_time[point.time] = point.value
            else:
                by_time.pop(point.time, None)
        return [by_time[t] for t in sorted(by_time)]


def window_history(constraints_path: str, stored: StoredHistory | None) -> MetricHistory | None:
    """The history a scheduled window's anomaly checks need, from the service's stored per-window
    metrics (`stored`, see WindowJob.metric_history); None when the constraints have no anomaly check."""
    document = io.read_json(constraints_path, "baseline constraints")
    block = DeequChecks.from_json(document.get("deequ_checks") if isinstance(document, dict) else None,
                                  constraints_path)
    if not block.anomaly_checks or stored is None:
        return None
    wanted: dict[str, set[str]] = {}
    for check in block.anomaly_checks:
        wanted.setdefault(check.column, set()).add(check.metric)
    rows = stored(sorted(wanted))
    return MetricHistory(features={
        feature: {metric: [MetricPoint(time=end, value=values.get(metric)) for end, values in rows.get(feature, [])]
                  for metric in sorted(metrics)}
        for feature, metrics in wanted.items()})
