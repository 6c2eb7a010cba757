"""The bias-drift monitor as a plugin: Clarify's analysis config and analysis.json as the baseline.

- Baseline documents: `analysis_config` (Clarify's analysis_config.json) and `analysis` (the
  baseline's Clarify analysis.json, which IS the bias-drift constraint); uploaded, or written
  by a baseline job (whose settings carry the analysis config inline).
- Schedules carry `ModelBiasSettings` in the body field `model_bias` (locators, labels folder,
  drift-rule knobs). Labels posted over REST are read from the service's ground-truth folder.
- Violations are stored with the facet as `feature_name`, the metric as `metric_name` and the
  facet value in `details`, so they filter by facet and by metric.
- History: each facet entry is a metric group (`Sex=0`, `Age>40`, see `job.history_metrics`),
  read with the schedule's features history; Prometheus gets `model_bias_metric{schedule, facet, metric}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from monitor_service.errors import ConfigError, FormatError, InvalidField
from monitor_service.ground_truth.folder import ground_truth_folder
from monitor_service.monitors.base import (
    BaselineJob,
    Document,
    LatestMetrics,
    MonitorPlugin,
    ViolationRow,
    WindowJob,
)
from monitor_service.monitors.clarify_inputs import analysis_config_files
from monitor_service.monitors.model_bias.analysis_document import read_baseline
from monitor_service.monitors.model_bias.attributes import BiasAttributes
from monitor_service.monitors.model_bias.config import parse_config
from monitor_service.monitors.model_bias.drift import DriftSettings
from monitor_service.monitors.model_bias.plan import prediction_source
from monitor_service.monitors.model_bias.requests import (
    DEFAULT_FT_SAMPLE,
    ModelBiasAnalyzeRequest,
    ModelBiasBaselineRequest,
)

if TYPE_CHECKING:
    from prometheus_client.core import Metric

MONITOR_TYPE = "ModelBias"
GAUGE = "model_bias_metric"
# summary.feature_metrics groups that are bookkeeping, not facet entries.
BOOKKEEPING_GROUPS = frozenset({"records", "ground_truth", "flip_test"})


class ModelBiasSettings(BiasAttributes):
    """What a ModelBias schedule or baseline job carries besides its input (body field `model_bias`)."""

    ground_truth: str | None = Field(
        default=None, min_length=1, max_length=2000,
        description="Folder or URL of SageMaker ground-truth JSONL files. Schedules: default "
                    "`{artifact_root}/ground-truth` (POST /api/v1/ground-truth). Baseline jobs: default none, the "
                    "labels are the dataset's `label` column.")
    analysis_config: dict[str, Any] | None = Field(
        default=None, description="Baseline jobs only: the Clarify analysis_config.json (schedules use their "
                                  "baseline's analysis_config document).")
    drift: DriftSettings = Field(default_factory=DriftSettings)
    flip_test_sample: int = Field(default=DEFAULT_FT_SAMPLE, ge=10, le=1_000_000)
    flip_test_seed: int = 0

    def attributes(self) -> BiasAttributes:
        return BiasAttributes.model_validate(self.model_dump(include=set(BiasAttributes.model_fields)))


def _config_error(name: str, exc: ConfigError | FormatError) -> InvalidField:
    return InvalidField(name, exc.message, hint=exc.hint)


class ModelBiasMonitor(MonitorPlugin):
    monitor_type = MONITOR_TYPE
    title = "bias drift"
    settings_field = "model_bias"
    settings_model = ModelBiasSettings
    analyze_model = ModelBiasAnalyzeRequest
    baseline_model = ModelBiasBaselineRequest
    documents = (
        Document("analysis_config", "Clarify's analysis_config.json: label, facets, group variable, methods",
                 replaceable=True),
        Document("analysis", "the baseline's Clarify analysis.json (bias metrics per facet): the bias-drift "
                             "constraint", replaceable=True),
    )
    artifacts = ("analysis.json", "analysis_config.json", "constraint_violations.json", "report.html")
    jobs_module = "monitor_service.monitors.model_bias.job"
    cli_args_module = "monitor_service.monitors.model_bias.cli_args"

    def check_documents(self, documents: Mapping[str, dict[str, Any]]) -> None:
        try:
            config = parse_config(documents["analysis_config"], "analysis_config")
        except ConfigError as exc:
            raise _config_error("analysis_config", exc) from None
        try:
            baseline = read_baseline(documents["analysis"], "analysis")
        except FormatError as exc:
            raise _config_error("analysis", exc) from None
        facets = {config.column(f.name_or_index) for f in config.facet}
        found = {key[1] for key in baseline.entries}
        if not facets & found:
            raise InvalidField("analysis", f"the analysis has facets {sorted(found)}, none of the analysis config's "
                                           f"{sorted(facets)}", hint="upload the analysis.json made with this config")

    def feature_count(self, documents: Mapping[str, dict[str, Any]]) -> int:
        facets = documents.get("analysis_config", {}).get("facet")
        return len(facets) if isinstance(facets, list) else 0

    def check_pairing(self, settings: dict[str, Any] | None, documents: Mapping[str, dict[str, Any]],
                      baseline_id: str) -> None:
        own = ModelBiasSettings.model_validate(settings or {})
        if own.analysis_config is not None:
            raise InvalidField("model_bias", "a schedule uses its baseline's analysis_config document",
                               hint="leave model_bias.analysis_config out, or replace the baseline's document")
        config = parse_config(documents["analysis_config"], "analysis_config")
        if config.stage_methods("post_training") and prediction_source(config, own.attributes()) == "none":
            raise InvalidField("model_bias", f"baseline {baseline_id} asks for post-training metrics, which need "
                                             "the predicted label",
                               hint="set model_bias.inference_attribute or model_bias.probability_attribute")

    def input_files(self, request: BaseModel) -> list[tuple[str, str]]:
        return analysis_config_files(getattr(request, "analysis_config", None))

    def analyze_request(self, job: WindowJob) -> ModelBiasAnalyzeRequest:
        settings = ModelBiasSettings.model_validate(job.settings or {})
        return ModelBiasAnalyzeRequest(
            input=job.input, output_dir=job.output_dir, analysis_config=job.documents["analysis_config"],
            attributes=settings.attributes(), ground_truth=settings.ground_truth or ground_truth_folder(job.artifacts),
            baseline_constraints=job.documents.get("analysis"), execution_time=job.execution_time,
            drift=settings.drift, flip_test_sample=settings.flip_test_sample, flip_test_seed=settings.flip_test_seed)

    def baseline_request(self, job: BaselineJob) -> ModelBiasBaselineRequest:
        settings = ModelBiasSettings.model_validate(job.settings or {})
        if settings.analysis_config is None:
            raise InvalidField("model_bias", "a ModelBias baseline job needs model_bias.analysis_config",
                               hint="put Clarify's analysis_config.json there")
        try:
            parse_config(settings.analysis_config, "model_bias.analysis_config")
        except ConfigError as exc:
            raise _config_error("model_bias", exc) from None
        return ModelBiasBaselineRequest(
            input=job.input, output_dir=job.output_dir, analysis_config=settings.analysis_config,
            attributes=settings.attributes(), ground_truth=settings.ground_truth,
            flip_test_sample=settings.flip_test_sample, flip_test_seed=settings.flip_test_seed)

    def violation_rows(self, entries: Sequence[Mapping[str, Any]]) -> list[ViolationRow]:
        """Clarify's entries: the facet is the row's subject, the metric its metric, the facet value a detail."""
        return [ViolationRow(feature_name=str(e.get("facet", "")), metric_name=str(e.get("metric_name", "")),
                             check_type=str(e.get("constraint_check_type", "")),
                             description=str(e.get("description", "")),
                             details={"facet_value": str(e.get("facet_value", ""))}) for e in entries]

    def metric_families(self, latest: Sequence[LatestMetrics]) -> list[Metric]:
        """`model_bias_metric{schedule, facet, metric}`: every bias metric of the newest window per facet entry."""
        from prometheus_client.core import GaugeMetricFamily

        gauge = GaugeMetricFamily(GAUGE, "Clarify bias metric of a facet entry (facet=value, facet>threshold) in "
                                         "the newest window", labels=["schedule", "facet", "metric"])
        for row in latest:
            if row.group in BOOKKEEPING_GROUPS:
                continue
            for metric, value in sorted(row.metrics.items()):
                if value is not None:
                    gauge.add_metric([row.schedule, row.group, metric], float(value))
        return [gauge]


PLUGIN = ModelBiasMonitor()
