"""The ModelExplainability monitor as a plugin: SHAP baselines, nDCG drift per label, attribution gauges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from monitor_service.errors import InvalidField
from monitor_service.monitors.base import (
    BaselineJob,
    Document,
    LatestMetrics,
    MonitorPlugin,
    ViolationRow,
    WindowJob,
)
from monitor_service.monitors.clarify_inputs import analysis_config_files
from monitor_service.monitors.model_explainability.documents import (
    check_analysis_config,
    check_documents,
    parse_analysis,
)
from monitor_service.monitors.model_explainability.requests import (
    ModelExplainabilityAnalyzeRequest,
    ModelExplainabilityBaselineRequest,
)
from monitor_service.monitors.model_explainability.settings import (
    MONITOR_TYPE,
    SETTINGS_FIELD,
    ModelExplainabilitySettings,
)
from monitor_service.monitors.panels import DashboardContext

if TYPE_CHECKING:
    from prometheus_client.core import Metric

# Prometheus families: metric name -> (feature_metrics key, help).
FEATURE_GAUGES = {
    "feature_attribution": ("attribution", "Global SHAP value of the feature in the newest window"),
    "feature_attribution_change": ("attribution_change", "Global SHAP value minus the baseline's, newest window"),
}


class ModelExplainabilityMonitor(MonitorPlugin):
    monitor_type = MONITOR_TYPE
    title = "feature attribution drift"
    settings_field = SETTINGS_FIELD
    settings_model = ModelExplainabilitySettings
    analyze_model = ModelExplainabilityAnalyzeRequest
    baseline_model = ModelExplainabilityBaselineRequest
    documents = (
        Document("analysis", "Clarify's explainability analysis.json: global SHAP values per label (a "
                             "SageMaker-produced one works as it is)", replaceable=True),
        Document("analysis_config", "the explainability analysis config windows are explained with (headers, "
                                    "methods.shap, predictor)", required=False, replaceable=True),
    )
    artifacts = ("analysis.json", "analysis_config.json", "constraint_violations.json", "report.html")
    jobs_module = "monitor_service.monitors.model_explainability.job"
    cli_args_module = "monitor_service.monitors.model_explainability.cli_args"

    def check_documents(self, documents: Mapping[str, dict[str, Any]]) -> None:
        check_documents(dict(documents))

    def feature_count(self, documents: Mapping[str, dict[str, Any]]) -> int:
        try:
            parsed = parse_analysis(documents.get("analysis"), where="analysis")
        except Exception:
            return 0
        labels = next(iter(parsed.methods.values()))
        return len(next(iter(labels.values())).global_values)

    def check_pairing(self, settings: dict[str, Any] | None, documents: Mapping[str, dict[str, Any]],
                      baseline_id: str) -> None:
        parsed = ModelExplainabilitySettings.model_validate(settings or {})
        if parsed.analysis_config is None and "analysis_config" not in documents:
            raise InvalidField(SETTINGS_FIELD, f"baseline {baseline_id} keeps no analysis_config, so the schedule "
                                               "must give model_explainability.analysis_config",
                               hint="add the analysis config to the settings or to the baseline")
        if parsed.analysis_config is not None:
            check_analysis_config(parsed.analysis_config, f"{SETTINGS_FIELD}.analysis_config")

    def input_files(self, request: BaseModel) -> list[tuple[str, str]]:
        return analysis_config_files(getattr(request, "analysis_config", None))

    def analyze_request(self, job: WindowJob) -> ModelExplainabilityAnalyzeRequest:
        settings = ModelExplainabilitySettings.model_validate(job.settings or {})
        config: str | dict[str, Any] | None = settings.analysis_config or job.documents.get("analysis_config")
        if config is None:
            raise InvalidField(SETTINGS_FIELD, "no analysis config: neither the schedule nor its baseline has one")
        return ModelExplainabilityAnalyzeRequest(
            input=job.input, output_dir=job.output_dir, analysis_config=config,
            baseline_constraints=job.documents.get("analysis"), max_records=settings.max_records,
            execution_time=job.execution_time)

    def baseline_request(self, job: BaselineJob) -> ModelExplainabilityBaselineRequest:
        settings = ModelExplainabilitySettings.model_validate(job.settings or {})
        if settings.analysis_config is None:
            raise InvalidField(SETTINGS_FIELD, "a ModelExplainability baseline job needs "
                                               "model_explainability.analysis_config")
        check_analysis_config(settings.analysis_config, f"{SETTINGS_FIELD}.analysis_config")
        return ModelExplainabilityBaselineRequest(input=job.input, output_dir=job.output_dir,
                                                  analysis_config=settings.analysis_config,
                                                  max_records=settings.max_records)

    def violation_rows(self, entries: Sequence[Mapping[str, Any]]) -> list[ViolationRow]:
        """Clarify's entries name a label (the whole ranking drifted), which is the row's subject."""
        return [ViolationRow(feature_name=str(e.get("label", "")), metric_name=str(e.get("metric_name", "shap")),
                             check_type=str(e.get("constraint_check_type", "")),
                             description=str(e.get("description", ""))) for e in entries]

    def dashboard_subjects(self, context: DashboardContext) -> list[str]:
        """Labels (their nDCG) first, then features by the size of their newest attribution, counters last."""
        latest = context.latest
        labels = [g for g, m in latest.items() if "ndcg" in m or "expected_value" in m]

        def size(group: str) -> float:
            values = [abs(v) for k, v in latest[group].items() if k.startswith("attribution") and v is not None
                      and not k.startswith("attribution_change")]
            return -max(values, default=0.0)

        features = sorted((g for g in latest if g not in labels and g != "records"), key=lambda g: (size(g), g))
        return [*labels, *features, *(["records"] if "records" in latest else [])]

    def metric_families(self, latest: Sequence[LatestMetrics]) -> list[Metric]:
        """nDCG per label, and each feature's attribution and change, of each schedule's newest window."""
        from prometheus_client.core import GaugeMetricFamily

        ndcg = GaugeMetricFamily("feature_attribution_ndcg", "nDCG of the newest window's attribution ranking "
                                 "against the baseline's (a violation below the threshold)",
                                 labels=["schedule", "label"])
        gauges = {name: GaugeMetricFamily(name, doc, labels=["schedule", "feature", "label"])
                  for name, (_, doc) in FEATURE_GAUGES.items()}
        labels_of: dict[str, list[str]] = {}
        for row in latest:
            if "expected_value" in row.metrics or "ndcg" in row.metrics:
                labels_of.setdefault(row.schedule, []).append(row.group)
                if row.metrics.get("ndcg") is not None:
                    ndcg.add_metric([row.schedule, row.group], float(row.metrics["ndcg"]))  # type: ignore[arg-type]
        for row in latest:
            only = labels_of.get(row.schedule, [])
            for metric, value in row.metrics.items():
                base, _, label = metric.partition(":")
                name = next((n for n, (key, _) in FEATURE_GAUGES.items() if key == base), None)
                if name is None or value is None:
                    continue
                gauges[name].add_metric([row.schedule, row.group, label or (only[0] if len(only) == 1 else "")],
                                        float(value))
        return [ndcg, *gauges.values()]


PLUGIN = ModelExplainabilityMonitor()
