"""The ModelExplainability jobs: a SHAP baseline, and the attribution-drift analysis of a window.

Baseline: explain the dataset, write Clarify's `analysis.json` (global SHAP values and expected
value per label, under `kernel_shap` or `tree_shap`), `explanations_shap/baseline.csv` (the
background) and, with `save_local_shap_values`, `explanations_shap/out.csv`; `report.html`.

Analysis: explain the window the same way (against the baseline's background when the config
gives none), compute per label the nDCG of the window's ranking against the baseline's, and
write `constraint_violations.json` (a violation per label below its threshold), the window's
`analysis.json` with each feature's attribution and change, and `report.html`.

`summary.feature_metrics` groups (stable names, stored per window by the service):
- `<label>` (a label as in analysis.json, e.g. `label0`): `ndcg`, `ndcg_threshold` (analysis),
  `expected_value`;
- `<feature>`: `attribution` and, in an analysis with a baseline, `baseline_attribution` and
  `attribution_change` (window minus baseline); with several labels each name ends in
  `:<label>` (e.g. `attribution:label1`);
- `records`: `available` (rows with every feature a number), `explained`, and the skipped rows
  by reason (`invalid_feature_value`, `missing_feature_value`).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from monitor_service import io
from monitor_service.errors import BaselineMismatchError, ConfigError, InputError
from monitor_service.monitors.model_explainability import report
from monitor_service.monitors.model_explainability.config import ExplainabilityConfig, load_analysis_config
from monitor_service.monitors.model_explainability.documents import (
    ExplanationFile,
    LabelAttributions,
    analysis_document,
    parse_analysis,
    violation,
    violations_document,
)
from monitor_service.monitors.model_explainability.ndcg import ndcg
from monitor_service.monitors.model_explainability.requests import (
    ModelExplainabilityAnalyzeRequest,
    ModelExplainabilityBaselineRequest,
)
from monitor_service.monitors.model_explainability.settings import MONITOR_TYPE
from monitor_service.monitors.model_explainability.window import WindowExplanation, explain_window
from monitor_service.reports.html import write_report
from monitor_service.runner.common import JobClock, Progress, job_outcome, new_summary, no_progress
from monitor_service.runner.summary import RunSummary

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def run_baseline(
    spark: SparkSession, request: ModelExplainabilityBaselineRequest, progress: Progress = no_progress
) -> RunSummary:
    clock = JobClock()
    out = request.output_dir
    summary = _summary("baseline", request)
    config = load_analysis_config(request.analysis_config)
    with job_outcome(summary, clock):
        clock.engine_started = time.perf_counter()
        explanation = explain_window(spark, request.input, config, out, summary, progress,
                                     max_records=request.max_records)
        doc = analysis_document(explanation.plan.method, explanation.labels, explanation.extension(config))
        summary.artifacts["analysis"] = _write(out, "analysis.json", doc)
        summary.artifacts["analysis_config"] = _write(out, "analysis_config.json", _config_document(request))
        _metrics(summary, explanation, None, None)
        summary.artifacts["report"] = write_report(out, report.render(summary, explanation, None, None))
    return summary


def run_analysis(
    spark: SparkSession, request: ModelExplainabilityAnalyzeRequest, progress: Progress = no_progress
) -> RunSummary:
    clock = JobClock()
    out = request.output_dir
    summary = _summary("analyze", request)
    config = load_analysis_config(request.analysis_config)
    with job_outcome(summary, clock):
        baseline = _load_baseline(request.baseline_constraints)
        clock.engine_started = time.perf_counter()
        explanation = explain_window(spark, request.input, config, out, summary, progress, baseline=baseline,
                                     max_records=request.max_records)
        extension = explanation.extension(config)
        drift = base_labels = None
        if baseline is not None:
            baseline_method, base_labels = baseline.labels_for(explanation.plan.method)
            drift = _drift(config, explanation, baseline_method, base_labels)
            extension["feature_attribution_drift"] = drift
            violations = [violation(label, d["ndcg"], d["threshold"]) for label, d in drift.items() if d["violation"]]
            summary.artifacts["constraint_violations"] = _write(
                out, "constraint_violations.json", violations_document(violations)
            )
            summary.violations = len(violations)
            summary.violations_by_check = dict(Counter(v["constraint_check_type"] for v in violations))
            if violations:
                summary.status = "CompletedWithViolations"
        doc = analysis_document(explanation.plan.method, explanation.labels, extension)
        summary.artifacts["analysis"] = _write(out, "analysis.json", doc)
        summary.artifacts["analysis_config"] = _write(out, "analysis_config.json", _config_document(request))
        _metrics(summary, explanation, drift, base_labels)
        summary.artifacts["report"] = write_report(out, report.render(summary, explanation, drift, base_labels))
    return summary


def _summary(job: str, request: ModelExplainabilityBaselineRequest) -> RunSummary:
    summary = new_summary(job, request.input, request.output_dir)
    summary.monitor_type = MONITOR_TYPE
    return summary


def _load_baseline(path: str | None) -> ExplanationFile | None:
    if path is None:
        return None
    try:
        doc = io.read_json(path, "baseline analysis")
    except InputError as exc:
        raise ConfigError(str(exc), hint="pass the baseline job's analysis.json with --baseline-constraints") from None
    return parse_analysis(doc, where=f"baseline analysis {path}")


def _drift(config: ExplainabilityConfig, explanation: WindowExplanation, baseline_method: str,
           base_labels: dict[str, LabelAttributions]) -> dict[str, dict[str, Any]]:
    """nDCG per label present in both; a baseline with no label or feature in common is a mismatch."""
    common = [label for label in explanation.labels if label in base_labels]
    if not common:
        raise BaselineMismatchError(
            f"the baseline explains labels {sorted(base_labels)}, this run {sorted(explanation.labels)}",
            hint="use the same predictor.label_headers as the baseline job (label0, label1, ... without them)",
        )
    drift: dict[str, dict[str, Any]] = {}
    for label in common:
        base, window = base_labels[label].global_values, explanation.labels[label].global_values
        if not set(base) & set(window):
            raise BaselineMismatchError(
                f"label {label}: the baseline's features {sorted(base)[:10]} and this run's {sorted(window)[:10]} "
                "have nothing in common",
                hint="name the features as in the baseline (analysis config headers)",
            )
        score = ndcg(base, window)
        threshold = config.attribution_drift_check.for_label(label)
        drift[label] = {
            "ndcg": score,
            "threshold": threshold,
            "violation": score is not None and score < threshold,
            "baseline_method": baseline_method,
            "missing_in_window": sorted(set(base) - set(window)),
            "features": {
                f: {"attribution": window.get(f), "baseline": base.get(f),
                    "change": None if f not in window or f not in base else window[f] - base[f]}
                for f in dict.fromkeys([*base, *window])
            },
        }
    return drift


def _metrics(summary: RunSummary, explanation: WindowExplanation, drift: dict[str, dict[str, Any]] | None,
             base_labels: dict[str, LabelAttributions] | None) -> None:
    several = len(explanation.labels) > 1
    metrics = summary.feature_metrics
    for label, entry in explanation.labels.items():
        group = metrics.setdefault(label, {})
        group["expected_value"] = entry.expected_value
        if drift and label in drift:
            group["ndcg"] = drift[label]["ndcg"]
            group["ndcg_threshold"] = drift[label]["threshold"]
        suffix = f":{label}" if several else ""
        base = base_labels.get(label) if base_labels else None
        for feature, value in entry.global_values.items():
            fm = metrics.setdefault(feature, {})
            fm[f"attribution{suffix}"] = value
            if base is not None and feature in base.global_values:
                fm[f"baseline_attribution{suffix}"] = base.global_values[feature]
                fm[f"attribution_change{suffix}"] = value - base.global_values[feature]
    metrics["records"] = {"available": float(explanation.available), "explained": float(explanation.explained),
                          **{reason: float(n) for reason, n in explanation.skipped.items()}}


def _config_document(request: ModelExplainabilityBaselineRequest) -> dict[str, Any]:
    """The analysis config the run used, kept beside its results (a baseline job's becomes a document)."""
    if isinstance(request.analysis_config, dict):
        return request.analysis_config
    doc: dict[str, Any] = io.read_json(request.analysis_config, "analysis config")
    return doc


def _write(out: str, name: str, doc: Any) -> str:
    path = io.join(out, name)
    io.write_json_atomic(path, doc)
    return path
