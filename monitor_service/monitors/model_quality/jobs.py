"""The model-quality jobs: a baseline from a labelled dataset, and the analysis of one window.

Baseline: read a dataset holding predictions and labels, compute SageMaker's metrics, write
`statistics.json`, suggested `constraints.json` and, for binary problems with a probability,
`calibration.json` (the isotonic map the CBPE estimate uses later).

Analysis: read captured predictions, merge them with the ground truth collected up to the
execution time (writing SageMaker-style merged records under `merge/`), compute the realized
metrics on the labelled records and check them against the baseline constraints
(`constraint_violations.json`). Records still waiting for a label are counted; for binary
problems with a probability their performance is estimated by CBPE into
`estimated_statistics.json` (and `estimated_constraint_violations.json`), which never changes
the job's status. Without any label yet the job completes with an item count of 0 instead of
failing, because late labels are the normal case.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor_service import io
from monitor_service.errors import EmptyInputError
from monitor_service.monitors.model_quality import cbpe
from monitor_service.monitors.model_quality.constraints import (
    Constraint,
    evaluate,
    parse_constraints,
    suggest_constraints,
    violations_document,
)
from monitor_service.monitors.model_quality.problem import ModelQualityAttributes
from monitor_service.monitors.model_quality.report import write_model_quality_report
from monitor_service.monitors.model_quality.requests import ModelQualityAnalyzeRequest, ModelQualityBaselineRequest
from monitor_service.monitors.model_quality.statistics import metric_block, scalar_metrics, statistics_document
from monitor_service.runner.common import (
    JobClock,
    Progress,
    job_outcome,
    new_summary,
    no_progress,
    read_records,
)
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from monitor_service.monitors.model_quality.spark_metrics import WindowAggregates

CALIBRATION_FILE = "calibration.json"


def run_model_quality_baseline(
    spark: SparkSession, request: ModelQualityBaselineRequest, progress: Progress = no_progress
) -> RunSummary:
    """Write `statistics.json`, `constraints.json`, maybe `calibration.json`, and `summary.json`."""
    clock = JobClock()
    out, attrs = request.output_dir, request.attributes
    summary = _new_summary("baseline", request.input, out)
    with job_outcome(summary, clock):
        clock.engine_started = time.perf_counter()
        agg = _aggregate_window(
            spark, request.input, attrs, request.ground_truth, datetime.now(UTC), out, summary, progress, merge_dir=None
        )
        if agg.labelled == 0:
            raise EmptyInputError(
                f"no record of {request.input.path} has both a usable prediction and label "
                f"(record states: {agg.states})",
                hint="check --inference-attribute, --probability-attribute and --ground-truth-attribute",
            )
        block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
        constraints = suggest_constraints(attrs.problem_type, block, request.suggest_margin_std)
        stats = statistics_document(attrs.problem_type, agg.labelled, block)
        summary.artifacts.update(
            {
                "statistics": _write(out, "statistics.json", stats),
                "constraints": _write(out, "constraints.json", constraints),
            }
        )
        if agg.full is not None and getattr(agg.full, "scores", None) is not None:
            summary.artifacts["calibration"] = _write(
                out, CALIBRATION_FILE, cbpe.fit_isotonic(agg.full.scores).to_dict()
            )
        summary.feature_metrics["model_quality"] = _gauges(block)
        write_model_quality_report(out, summary, parse_constraints(constraints, attrs.problem_type), [],
                                   attrs.problem_type)
    return summary


def run_model_quality_analysis(
    spark: SparkSession, request: ModelQualityAnalyzeRequest, progress: Progress = no_progress
) -> RunSummary:
    """Merge, measure, check and estimate one window; see the module docstring for the files."""
    clock = JobClock()
    out, attrs = request.output_dir, request.attributes
    summary = _new_summary("analyze", request.input, out)
    with job_outcome(summary, clock):
        constraints = _load_constraints(request)
        clock.engine_started = time.perf_counter()
        execution_time = request.effective_execution_time()
        agg = _aggregate_window(
            spark, request.input, attrs, request.ground_truth, execution_time, out, summary, progress, merge_dir=out
        )
        block = None
        if agg.labelled:
            block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
        summary.artifacts["statistics"] = _write(
            out, "statistics.json", statistics_document(attrs.problem_type, agg.labelled, block)
        )
        if block is not None:
            summary.feature_metrics["model_quality"] = _gauges(block)
        else:
            progress("no labelled records yet: statistics.json holds item_count 0")
        violations: list[dict[str, str]] = []
        if constraints is not None:
            violations = evaluate(block or {}, constraints)
            summary.artifacts["constraint_violations"] = _write(
                out, "constraint_violations.json", violations_document(violations)
            )
            summary.violations = len(violations)
            summary.violations_by_check = dict(Counter(v["constraint_check_type"] for v in violations))
            if violations:
                summary.status = "CompletedWithViolations"
        if agg.unlabelled_scores:
            _estimate(request, agg, constraints, summary, progress)
        write_model_quality_report(out, summary, constraints, violations, attrs.problem_type)
    return summary


# The names the plugin's default job hooks call (`MonitorPlugin.jobs_module`).
run_baseline = run_model_quality_baseline
run_analysis = run_model_quality_analysis


def _new_summary(job: str, spec: InputSpec, out: str) -> RunSummary:
    summary = new_summary(job, spec, out)
    summary.monitor_type = "ModelQuality"
    summary.engine = "spark"
    return summary


def _aggregate_window(
    spark: SparkSession,
    spec: InputSpec,
    attrs: ModelQualityAttributes,
    ground_truth: str | None,
    execution_time: datetime,
    out: str,
    summary: RunSummary,
    progress: Progress,
    merge_dir: str | None,
) -> WindowAggregates:
    """Read, optionally merge with ground truth, and aggregate; fills the summary's counters."""
    from pyspark import StorageLevel

    from monitor_service.monitors.model_quality.spark_metrics import aggregate, prepare
    from monitor_service.spark.ground_truth import read_ground_truth
    from monitor_service.spark.merge import merge_with_ground_truth, write_merged

    read = read_records(spark, spec, out, summary, progress)
    event_ids = spec.format == "capture"  # plain datasets have no ids: subsamples then hash the record
    gt = merged = None
    try:
        if ground_truth is None:
            prepared = prepare(read.df, attrs, truth_fields="fields", event_ids=event_ids)
        else:
            progress(f"reading ground truth {ground_truth} collected up to {execution_time.isoformat()}")
            gt = read_ground_truth(spark, ground_truth, execution_time)
            summary.feature_metrics["ground_truth"] = dict(gt.stats().as_metrics())
            merged = merge_with_ground_truth(read.df, gt.labels).persist(StorageLevel.MEMORY_AND_DISK)
            if merge_dir is not None:
                summary.artifacts["merge"] = write_merged(merged, merge_dir, execution_time)
            prepared = prepare(merged, attrs, truth_fields="gt_fields", event_ids=event_ids)
        progress(f"computing {attrs.problem_type} metrics")
        agg = aggregate(prepared, attrs)
    finally:
        if merged is not None:
            merged.unpersist()
        if gt is not None:
            gt.release()
        read.release()
    summary.records_analyzed = agg.labelled
    summary.feature_metrics["records"] = {state: float(n) for state, n in sorted(agg.states.items())}
    if agg.auc_max_grid_error is not None:
        summary.feature_metrics["exactness"] = {"auc_max_grid_error": agg.auc_max_grid_error}
    progress(
        f"{agg.labelled} labelled, {agg.unlabelled} waiting for a label, "
        f"{agg.records - agg.labelled - agg.unlabelled} unusable"
    )
    return agg


def _load_constraints(request: ModelQualityAnalyzeRequest) -> list[Constraint] | None:
    if request.baseline_constraints is None:
        return None
    doc = io.read_json(request.baseline_constraints, "baseline constraints")
    return parse_constraints(doc, request.attributes.problem_type, where=request.baseline_constraints)


def _calibration(request: ModelQualityAnalyzeRequest) -> cbpe.Calibration | None:
    """The explicit calibration file, else `calibration.json` beside the baseline constraints."""
    path = request.calibration
    if path is None and request.baseline_constraints is not None:
        folder, sep, _ = request.baseline_constraints.rpartition("/")
        sibling = f"{folder}{sep}{CALIBRATION_FILE}"
        path = sibling if _exists(sibling) else None
    if path is None:
        return None
    return cbpe.Calibration.from_dict(io.read_json(path, "calibration"), where=path)


def _exists(path: str) -> bool:
    import fsspec

    fs, root = fsspec.core.url_to_fs(path)
    return bool(fs.exists(root))


def _estimate(
    request: ModelQualityAnalyzeRequest,
    agg: WindowAggregates,
    constraints: list[Constraint] | None,
    summary: RunSummary,
    progress: Progress,
) -> None:
    out = request.output_dir
    calibration = _calibration(request)
    full, subs = agg.estimate(calibration or cbpe.IDENTITY)
    count = round(full.counts.total)
    progress(f"estimating performance of {count} unlabelled records (CBPE)")
    block = metric_block("BinaryClassification", full, subs, count)
    summary.artifacts["estimated_statistics"] = _write(
        out, "estimated_statistics.json", cbpe.estimated_document(count, block, calibration is not None)
    )
    summary.feature_metrics["model_quality_estimated"] = _gauges(block)
    if constraints is not None:
        summary.artifacts["estimated_constraint_violations"] = _write(
            out, "estimated_constraint_violations.json", violations_document(evaluate(block, constraints))
        )


def _write(out: str, name: str, doc: Any) -> str:
    path = io.join(out, name)
    io.write_json_atomic(path, doc)
    return path


def _gauges(block: dict[str, Any]) -> dict[str, float | None]:
    """Scalar metric values by SageMaker name (the model-metrics gauges); NaN becomes None."""
    values = scalar_metrics(block)
    return {name: (None if math.isnan(value) else value) for name, (value, _) in values.items()}
