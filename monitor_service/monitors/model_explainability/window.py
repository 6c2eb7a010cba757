"""Explaining one dataset or window end to end: read, name features, choose background and explainer.

Shared by the baseline and the analysis job. The background is resolved as `background.py`
describes; the explainer as `explainers.py` does. Rows that cannot be explained (a feature that
is not a number, or missing) are counted in the summary, and `max_records` caps the rows
explained with a seeded uniform sample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from monitor_service import io
from monitor_service.errors import EmptyInputError, ModelError
from monitor_service.monitors.model_explainability import spark_explain as sx
from monitor_service.monitors.model_explainability.background import (
    Background,
    file_background,
    inline_background,
    kmeans_background,
    sample_background,
)
from monitor_service.monitors.model_explainability.config import DEFAULT_NUM_CLUSTERS, ExplainabilityConfig
from monitor_service.monitors.model_explainability.documents import ExplanationFile, LabelAttributions
from monitor_service.monitors.model_explainability.explainers import BatchExplainer, ExplainerPlan, plan_explainer
from monitor_service.predictor import (
    HttpPredictor,
    ModelFileConfig,
    ModelSource,
    Predictor,
    build_predictor,
    load_source,
    read_source,
)
from monitor_service.runner.common import Progress, read_records
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

BACKGROUND_SAMPLE_ROWS = 10_000
LOCAL_VALUES_FILE = "explanations_shap/out.csv"
BACKGROUND_FILE = "explanations_shap/baseline.csv"


@dataclass
class WindowExplanation:
    features: list[str]  # every model feature, in model order
    explained_features: list[str]  # features_to_explain (default: all)
    plan: ExplainerPlan
    background: Background
    labels: dict[str, LabelAttributions]
    available: int
    explained: int
    skipped: dict[str, int] = field(default_factory=dict)
    explain_seconds: float = 0.0  # SHAP on the executors and the aggregation, without reading

    def extension(self, config: ExplainabilityConfig) -> dict[str, Any]:
        """Our `monitor_service` block of analysis.json (without the drift part)."""
        return {
            "records": {"available": self.available, "explained": self.explained, "skipped": dict(self.skipped)},
            "explainer": {
                "method": self.plan.method,
                "reason": self.plan.reason,
                "agg_method": config.shap.agg_method,
                "use_logit": config.shap.use_logit,
                "num_samples": self.plan.nsamples,
                "seed": config.shap.seed,
                "explain_seconds": round(self.explain_seconds, 3),
            },
            "features": self.features,
            "background": self.background.to_document(self.features),
        }


def input_spec(spec: InputSpec, config: ExplainabilityConfig) -> InputSpec:
    """Name positional inputs by the analysis config's headers when the dataset config does not.

    Capture payloads hold the features only, so the label columns are left out of their names;
    plain datasets (CSV without a header line) hold every column named by `headers`.
    """
    side = spec.dataset_config.input
    updates: dict[str, Any] = {}
    if config.headers and side.names is None and not (spec.format == "csv" and spec.dataset_config.header):
        names = config.headers
        if spec.format == "capture":
            names = [h for h in names if h not in config.label_columns()]
        updates["names"] = names
    if config.features and side.features_attribute is None:
        updates["features_attribute"] = config.features
    if not updates:
        return spec
    dataset = spec.dataset_config.model_copy(update={"input": side.model_copy(update=updates)})
    return spec.model_copy(update={"dataset_config": dataset})


def _model(config: ExplainabilityConfig) -> tuple[Predictor, ModelSource | None]:
    """The predictor on the driver, and for a model file the bytes the executors get."""
    predictor = config.predictor
    if isinstance(predictor, ModelFileConfig):
        source = read_source(predictor.model_uri, predictor.framework, predictor.trusted)
        return load_source(source), source
    return build_predictor(predictor), None


def explain_window(
    spark: SparkSession,
    spec: InputSpec,
    config: ExplainabilityConfig,
    out: str,
    summary: RunSummary,
    progress: Progress,
    baseline: ExplanationFile | None = None,
    max_records: int | None = None,
) -> WindowExplanation:
    """Everything between reading the records and the global SHAP values of each label."""
    shap = config.shap
    spec = input_spec(spec, config)
    model, source = _model(config)
    features = config.feature_names(model.feature_names, spec.dataset_config.input.names)
    if isinstance(model, HttpPredictor):
        model.feature_names, model.n_features = features, len(features)
    if model.feature_names is not None and model.feature_names != features:
        raise ModelError(
            f"{model.describe()} was trained on features {model.feature_names}, the analysis config names {features}",
            hint="make headers (without the label) list the model's features in its order",
        )
    if model.n_features is not None and model.n_features != len(features):
        raise ModelError(
            f"{model.describe()} expects {model.n_features} features, the analysis config names {len(features)}: "
            f"{features}",
            hint="make headers (without the label and excluded columns) list exactly the model's features",
        )
    endpoint = None if source is not None else config.predictor
    payload = sx.ModelPayload(source, endpoint, tuple(features))  # type: ignore[arg-type]
    explained_features = config.explained_features(features)
    read = read_records(spark, spec, out, summary, progress)
    local = rows = None
    try:
        rows = sx.feature_rows(read.df, features, shap.seed, shap.keep_missing)
        for reason, count in rows.skipped.items():
            summary.records_quarantined.by_reason[reason] = count
            summary.records_quarantined.total += count
        if rows.available == 0:
            raise EmptyInputError(
                f"no record of {spec.path} has a number for every model feature ({rows.skipped})",
                hint="check headers / --dataset-config names against the data",
            )
        background, plan = _background_and_plan(config, features, model, rows, baseline)
        cap = max_records if max_records is not None else shap.max_records
        sampled, count = sx.sample_rows(rows, cap)
        progress(f"explaining {count} of {rows.available} records with {plan.method} "
                 f"({len(background.rows)} background rows, {background.source})")
        expected = BatchExplainer(model, plan, background).expected_values
        started = time.perf_counter()
        local = sx.explain(spark, sampled, count, payload, plan, background, len(features))
        values = sx.global_values(local, shap.agg_method)
        explain_seconds = time.perf_counter() - started
        chosen = [features.index(f) for f in explained_features]
        if shap.save_local_shap_values:
            path = io.join(out, LOCAL_VALUES_FILE)
            sx.write_local_values(local, path, features, list(plan.labels), chosen)
            summary.artifacts["local_shap_values"] = path
    finally:
        if local is not None:
            local.release()
        if rows is not None:
            rows.release()
        read.release()
    summary.artifacts["background"] = _write_background(out, background, features)
    labels = {
        label: LabelAttributions(label, {features[j]: float(values[k, j]) for j in chosen}, float(expected[k]))
        for k, label in enumerate(plan.labels)
    }
    summary.records_analyzed = count
    summary.features = len(explained_features)
    return WindowExplanation(features, explained_features, plan, background, labels, rows.available, count,
                             dict(rows.skipped), explain_seconds)


def _background_and_plan(
    config: ExplainabilityConfig,
    features: list[str],
    model: Predictor,
    rows: sx.FeatureRows,
    baseline: ExplanationFile | None,
) -> tuple[Background, ExplainerPlan]:
    shap = config.shap
    headers = config.predictor.label_headers
    if isinstance(shap.baseline, list):
        background = inline_background(shap.baseline, features)
    elif isinstance(shap.baseline, str):
        background = file_background(shap.baseline, features)
    elif baseline is not None and "background" in baseline.extension:
        background = Background.from_document(baseline.extension["background"], features, "baseline analysis")
    else:
        data = sx.collect_matrix(rows.df, len(features), BACKGROUND_SAMPLE_ROWS)
        if shap.num_clusters is not None:
            background = kmeans_background(data, shap.num_clusters)
        else:
            background = sample_background(data, shap.num_background, shap.seed)
            plan = plan_explainer(model, shap, background, headers)
            if plan.method == "kernel_shap":  # Kernel SHAP's cost grows with the background: summarize it
                background = kmeans_background(data, DEFAULT_NUM_CLUSTERS)
            return background, plan
    return background, plan_explainer(model, shap, background, headers)


def _write_background(out: str, background: Background, features: list[str]) -> str:
    """Clarify's explanations_shap/baseline.csv: the background rows with a header line."""
    import csv
    import io as _io

    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(features)
    for row in np.asarray(background.rows):
        writer.writerow([repr(float(v)) for v in row])
    path = io.join(out, BACKGROUND_FILE)
    io.write_text_atomic(path, buffer.getvalue())
    return path

