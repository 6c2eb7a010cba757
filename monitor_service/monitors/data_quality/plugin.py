"""The data-quality monitor as a plugin: SageMaker's statistics/constraints baselines and six checks."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from monitor_service import io
from monitor_service.deequ.history import MetricHistory, window_history
from monitor_service.errors import ConfigError, InvalidField, MonitorError
from monitor_service.monitors.base import BaselineJob as BaselineJobSpec
from monitor_service.monitors.base import (
    CliArgument,
    Command,
    Document,
    LatestMetrics,
    MonitorPlugin,
    WindowJob,
)
from monitor_service.monitors.data_quality import dashboard
from monitor_service.monitors.data_quality.constraints_patch import ConstraintsPatch, apply_patch
from monitor_service.monitors.data_quality.documents import validate_constraints, validate_statistics
from monitor_service.monitors.data_quality.requests import AnalyzeRequest, BaselineRequest, DataQualitySettings
from monitor_service.monitors.panels import DashboardContext, FormField, FormValues, Panel
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from prometheus_client.core import Metric

# SageMaker's CloudWatch names, as Prometheus metrics with schedule/feature labels.
FEATURE_GAUGES = {
    "drift_distance": ("feature_baseline_drift", "Drift distance from the baseline in the newest window"),
    "completeness": ("feature_non_null", "Fraction of non-null values in the newest window"),
}


class DataQualityMonitor(MonitorPlugin):
    monitor_type = "DataQuality"
    title = "data quality"
    settings_field = "data_quality"
    settings_model = DataQualitySettings
    settings_required = False
    engines = ("spark", "duckdb", "deequ")
    analyze_model = AnalyzeRequest
    baseline_model = BaselineRequest
    documents = (
        Document("statistics", "statistics.json: the baseline profile (SageMaker's format)"),
        Document("constraints", "constraints.json: the checks and thresholds (SageMaker's format)",
                 replaceable=True),
    )
    artifacts = ("statistics.json", "constraints.json", "constraint_violations.json", "check_errors.json",
                 "report.html")
    jobs_module = "monitor_service.monitors.data_quality.analysis_job"
    baseline_jobs_module = "monitor_service.monitors.data_quality.baseline_job"
    counts_features = True
    constraints_patch_model = ConstraintsPatch

    def check_documents(self, documents: Mapping[str, dict[str, Any]]) -> None:
        for name, check in (("statistics", validate_statistics), ("constraints", validate_constraints)):
            try:
                check(documents[name])
            except ValueError as exc:
                raise InvalidField(name, str(exc)) from None

    def feature_count(self, documents: Mapping[str, dict[str, Any]]) -> int:
        features = documents.get("statistics", {}).get("features")
        return len(features) if isinstance(features, list) else 0

    def patch_constraints(self, documents: Mapping[str, dict[str, Any]], patch: BaseModel) -> dict[str, Any]:
        assert isinstance(patch, ConstraintsPatch)
        return apply_patch(documents["constraints"], patch)

    def analyze_request(self, job: WindowJob) -> AnalyzeRequest:
        return AnalyzeRequest(input=job.input, baseline_statistics=job.documents["statistics"],
                              baseline_constraints=job.documents["constraints"], output_dir=job.output_dir,
                              engine=_settings(job.settings).engine,
                              metric_history=window_history(job.documents["constraints"], job.metric_history))

    def baseline_request(self, job: BaselineJobSpec) -> BaselineRequest:
        return BaselineRequest(input=job.input, output_dir=job.output_dir, engine=_settings(job.settings).engine)

    def cli_arguments(self) -> Sequence[CliArgument]:
        return (CliArgument(("--baseline-statistics",), {"metavar": "FILE", "help": "baseline statistics.json"}),
                CliArgument(("--anomaly-history",), {"metavar": "FILE", "help": "earlier windows' metrics for the "
                            "deequ_checks anomaly checks (JSON, docs/deequ.md)"}))

    def cli_request(self, command: Command, args: argparse.Namespace, spec: InputSpec) -> BaseModel:
        engine = getattr(args, "engine", None)
        if command == "baseline":
            return BaselineRequest(input=spec, output_dir=args.output, engine=engine)
        missing = [f"--{n}" for n in ("baseline-statistics", "baseline-constraints")
                   if getattr(args, n.replace("-", "_"), None) is None]
        if missing:
            raise ConfigError(f"analyze needs {' and '.join(missing)}", hint="pass the baseline's files")
        history = None
        if args.anomaly_history is not None:
            try:
                history = MetricHistory.from_json(io.read_json(args.anomaly_history, "--anomaly-history"),
                                                  f"--anomaly-history {args.anomaly_history}")
            except MonitorError as exc:
                raise ConfigError(exc.message, hint=exc.hint or "pass a metric-history JSON file") from None
        return AnalyzeRequest(input=spec, baseline_statistics=args.baseline_statistics,
                              baseline_constraints=args.baseline_constraints, output_dir=args.output, engine=engine,
                              metric_history=history)

    def dashboard_subjects(self, context: DashboardContext) -> list[str]:
        return dashboard.subjects(context)

    def dashboard_panels(self, context: DashboardContext) -> list[Panel]:
        return dashboard.panels(context)

    def constraints_form(self, documents: Mapping[str, dict[str, Any]]) -> list[FormField]:
        return dashboard.form(documents)

    def constraints_patch_from_form(self, documents: Mapping[str, dict[str, Any]], form: FormValues) -> BaseModel:
        return dashboard.patch_from_form(documents, form)

    def metric_families(self, latest: Sequence[LatestMetrics]) -> list[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        gauges = {key: GaugeMetricFamily(name, doc, labels=["schedule", "feature"])
                  for key, (name, doc) in FEATURE_GAUGES.items()}
        for row in latest:
            for key, gauge in gauges.items():
                value = row.metrics.get(key)
                if value is not None:
                    gauge.add_metric([row.schedule, row.group], float(value))
        return list(gauges.values())


def _settings(settings: dict[str, Any] | None) -> DataQualitySettings:
    return DataQualitySettings.model_validate(settings or {})


PLUGIN = DataQualityMonitor()
