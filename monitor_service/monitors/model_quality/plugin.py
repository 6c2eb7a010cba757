"""The model-quality monitor as a plugin: metrics against labels, constraints, and the CBPE estimate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from monitor_service.ground_truth.folder import ground_truth_folder
from monitor_service.monitors.base import (
    BaselineJob,
    Document,
    LatestMetrics,
    MonitorPlugin,
    ViolationRow,
    WindowJob,
)
from monitor_service.monitors.model_quality import constraints_edit, dashboard
from monitor_service.monitors.model_quality.constraints_edit import ModelQualityConstraintsPatch
from monitor_service.monitors.model_quality.requests import ModelQualityAnalyzeRequest, ModelQualityBaselineRequest
from monitor_service.monitors.model_quality.settings import (
    ESTIMATED,
    MONITOR_TYPE,
    REALIZED,
    ModelQualitySettings,
    check_files,
    check_pairing,
)
from monitor_service.monitors.panels import DashboardContext, FormField, FormValues, Panel

if TYPE_CHECKING:
    from prometheus_client.core import Metric

# SageMaker's model-metrics names (auc, f2, accuracy, mae, ...) behind a prefix, e.g.
# model_metrics_auc{schedule, estimated}; estimated="true" is the CBPE estimate for records
# still waiting for a label, estimated="false" the value measured on labelled records.
MODEL_METRIC_PREFIX = "model_metrics_"


class ModelQualityMonitor(MonitorPlugin):
    monitor_type = MONITOR_TYPE
    title = "model quality"
    settings_field = "model_quality"
    settings_model = ModelQualitySettings
    analyze_model = ModelQualityAnalyzeRequest
    baseline_model = ModelQualityBaselineRequest
    documents = (
        Document("constraints", "the model-quality constraints.json (SageMaker's format)", replaceable=True),
        Document("statistics", "the baseline job's statistics.json (model-quality metrics)", required=False),
        Document("calibration", "BinaryClassification only: the calibration.json of the baseline job, used by "
                                "the CBPE estimate of records without a label", required=False),
    )
    artifacts = ("statistics.json", "constraint_violations.json", "constraints.json", "calibration.json",
                 "estimated_statistics.json", "estimated_constraint_violations.json", "report.html")
    jobs_module = "monitor_service.monitors.model_quality.jobs"
    cli_args_module = "monitor_service.monitors.model_quality.cli_args"
    metric_series: ClassVar[Mapping[str, str]] = {"value": REALIZED, "estimated": ESTIMATED}
    constraints_patch_model = ModelQualityConstraintsPatch

    def check_documents(self, documents: Mapping[str, dict[str, Any]]) -> None:
        check_files(statistics=documents.get("statistics"), constraints=documents["constraints"],
                    calibration=documents.get("calibration"))

    def check_pairing(self, settings: dict[str, Any] | None, documents: Mapping[str, dict[str, Any]],
                      baseline_id: str) -> None:
        assert settings is not None
        check_pairing(settings, baseline_id, documents.get("constraints") or {})

    def analyze_request(self, job: WindowJob) -> ModelQualityAnalyzeRequest:
        settings = ModelQualitySettings.model_validate(job.settings)
        return ModelQualityAnalyzeRequest(
            input=job.input, attributes=settings.attributes(), output_dir=job.output_dir,
            ground_truth=settings.ground_truth or ground_truth_folder(job.artifacts),
            baseline_constraints=job.documents.get("constraints"), calibration=job.documents.get("calibration"),
            execution_time=job.execution_time)

    def baseline_request(self, job: BaselineJob) -> ModelQualityBaselineRequest:
        settings = ModelQualitySettings.model_validate(job.settings)
        return ModelQualityBaselineRequest(input=job.input, attributes=settings.attributes(),
                                           output_dir=job.output_dir, ground_truth=settings.ground_truth)

    def violation_rows(self, entries: Sequence[Mapping[str, Any]]) -> list[ViolationRow]:
        """Model-quality violations name a metric (auc, f2, ...); it is also the row's subject."""
        rows = []
        for entry in entries:
            metric = str(entry.get("metric_name", entry.get("feature_name", "")))
            rows.append(ViolationRow(feature_name=metric, metric_name=metric,
                                     check_type=str(entry.get("constraint_check_type", "")),
                                     description=str(entry.get("description", ""))))
        return rows

    def patch_constraints(self, documents: Mapping[str, dict[str, Any]], patch: BaseModel) -> dict[str, Any]:
        assert isinstance(patch, ModelQualityConstraintsPatch)
        return constraints_edit.apply_patch(documents["constraints"], patch)

    def constraints_form(self, documents: Mapping[str, dict[str, Any]]) -> list[FormField]:
        return constraints_edit.form(documents)

    def constraints_patch_from_form(self, documents: Mapping[str, dict[str, Any]], form: FormValues) -> BaseModel:
        return constraints_edit.patch_from_form(documents, form)

    def dashboard_subjects(self, context: DashboardContext) -> list[str]:
        return dashboard.subjects(context)

    def dashboard_panels(self, context: DashboardContext) -> list[Panel]:
        return dashboard.panels(context)

    def metric_families(self, latest: Sequence[LatestMetrics]) -> list[Metric]:
        """One gauge per model metric of the newest window of each ModelQuality schedule."""
        from prometheus_client.core import GaugeMetricFamily

        gauges: dict[str, GaugeMetricFamily] = {}
        for row in latest:
            if row.group not in (REALIZED, ESTIMATED):
                continue
            for metric, value in row.metrics.items():
                if value is None:
                    continue
                if metric not in gauges:
                    gauges[metric] = GaugeMetricFamily(
                        MODEL_METRIC_PREFIX + metric, f"Model metric {metric} in the newest window "
                        '(estimated="true": CBPE estimate for records without a label yet)',
                        labels=["schedule", "estimated"])
                gauges[metric].add_metric([row.schedule, "true" if row.group == ESTIMATED else "false"],
                                          float(value))
        return [gauges[name] for name in sorted(gauges)]


PLUGIN = ModelQualityMonitor()
