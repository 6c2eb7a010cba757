"""The data-quality analysis job: profile one window and check it against a baseline.

Writes the window's `statistics.json` (each feature also carrying `drift_metrics` against the
baseline), SageMaker's `constraint_violations.json`, the `constraints.json` checked against (as
SageMaker's monitoring output does) and `summary.json`. Baselines produced by
SageMaker itself work as they are: missing extension state only disables what needs it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from monitor_service import io
from monitor_service.core.analysis import AnalysisResult, evaluate
from monitor_service.core.constraints import Constraints, read_constraints, write_constraints
from monitor_service.core.drift.registry import column_kind
from monitor_service.core.drift.registry import get as get_method
from monitor_service.core.profile import DatasetProfile, column_metrics
from monitor_service.core.statistics import read_statistics, write_statistics
from monitor_service.core.types import InferredType
from monitor_service.core.violations import Violation, write_violations
from monitor_service.deequ.engine import run_checks
from monitor_service.monitors.data_quality import report
from monitor_service.monitors.data_quality.profiling import job_engine, profile_input, start_engine
from monitor_service.monitors.data_quality.requests import AnalyzeRequest
from monitor_service.runner.common import JobClock, Progress, job_outcome, new_summary, no_progress
from monitor_service.runner.summary import RunSummary

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def run_analysis(spark: SparkSession | None, request: AnalyzeRequest,
                 progress: Progress = no_progress) -> RunSummary:
    """Analyze one window; the summary's status says whether constraints were violated.

    Runs on `request.engine` (Spark when it is None and a session is given, else DuckDB).
    """
    clock = JobClock()
    out = request.output_dir
    summary = new_summary("analyze", request.input, out)
    with job_outcome(summary, clock):
        engine = summary.engine = job_engine(request.engine, spark)
        summary.startup_seconds = start_engine(engine)
        baseline = read_statistics(request.baseline_statistics).profile
        constraints = read_constraints(request.baseline_constraints)
        clock.engine_started = time.perf_counter()
        window = profile_input(engine, spark, request.input, out, summary, progress,
                               domains=_domains(constraints), categorical=_categorical(baseline))
        deequ_violations = run_checks(spark, request.input, constraints, window, request.metric_history, progress)
        progress("checking constraints")
        finish_analysis(request, baseline, window, constraints, summary, deequ_violations)
    return summary


def finish_analysis(request: AnalyzeRequest, baseline: DatasetProfile, window: DatasetProfile,
                    constraints: Constraints, summary: RunSummary,
                    extra_violations: Sequence[Violation] = ()) -> AnalysisResult:
    """Everything after profiling (no Spark): check, then write the statistics, violations (SageMaker's
    checks, then the `deequ_checks` ones), the constraints checked against (as SageMaker's monitoring
    output folder holds them), the report, and the summary's feature metrics."""
    out = request.output_dir
    result = evaluate(baseline, window, constraints)
    result.violations.extend(extra_violations)
    _write_outputs(out, window, result, summary)
    constraints_path = io.join(out, "constraints.json")
    write_constraints(constraints_path, constraints)
    summary.artifacts["constraints"] = constraints_path
    summary.feature_metrics = feature_metrics(window, result, constraints, baseline)
    page = report.analysis_report(summary, baseline, window, constraints, result.drift_metrics, result.violations,
                                  baseline_statistics=request.baseline_statistics,
                                  baseline_constraints=request.baseline_constraints)
    report.write(out, page, summary)
    return result


def _domains(constraints: Constraints) -> dict[str, list[str]]:
    return {
        f.name: list(f.string_constraints.domains)
        for f in constraints.features
        if f.string_constraints is not None and f.string_constraints.domains
    }


def _categorical(baseline: DatasetProfile) -> set[str]:
    return {c.name for c in baseline.columns if c.histogram and not c.inferred_type.is_numeric}


def _write_outputs(out: str, window: DatasetProfile, result: AnalysisResult, summary: RunSummary) -> None:
    stats_path, violations_path = io.join(out, "statistics.json"), io.join(out, "constraint_violations.json")
    drift = {name: values for name, values in result.drift_metrics.items() if name in window.by_name()}
    write_statistics(stats_path, window, drift)
    write_violations(violations_path, result.violations)
    summary.features = len(window.columns)
    summary.violations = len(result.violations)
    summary.violations_by_check = dict(Counter(v.constraint_check_type for v in result.violations))
    summary.status = "CompletedWithViolations" if result.violations else "Completed"
    summary.artifacts.update({"statistics": stats_path, "constraint_violations": violations_path})
    if result.errors:
        errors_path = io.join(out, "check_errors.json")
        io.write_json_atomic(
            errors_path,
            {
                "errors": [
                    {"check": e.check, "feature_name": e.feature_name, "message": e.message} for e in result.errors
                ]
            },
        )
        summary.artifacts["check_errors"] = errors_path
        summary.check_errors = len(result.errors)


def feature_metrics(
    window: DatasetProfile, result: AnalysisResult, constraints: Constraints, baseline: DatasetProfile
) -> dict[str, dict[str, float | None]]:
    """Numbers for history charts and Prometheus: completeness, mean and the configured drift."""
    base = baseline.by_name()
    out: dict[str, dict[str, float | None]] = {}
    for column in window.columns:
        # completeness, mean, ..., distinct_count: also the series deequ_checks anomaly checks follow
        metrics: dict[str, float | None] = {**column_metrics(column), "drift_distance": None}
        reference = base.get(column.name)
        kind = column_kind(reference.inferred_type if reference else InferredType.UNKNOWN)
        if kind is not None:
            method, _ = constraints.settings_for(column.name).drift(kind)
            metrics["drift_distance"] = result.drift_metrics.get(column.name, {}).get(get_method(method).name)
        out[column.name] = metrics
    return out
