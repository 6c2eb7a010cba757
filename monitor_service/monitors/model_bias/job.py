"""The bias jobs: a baseline `analysis.json` from a labelled dataset, and the drift check of one window.

Baseline: read the dataset (predictions and labels in its columns, or labels merged in from
ground truth), compute every asked-for Clarify metric per facet entry, write `analysis.json`
(which IS the bias-drift baseline constraint, as in SageMaker) and `report.html`.

Analysis: read one window of capture, merge it with the ground truth collected by the execution
time (the model-quality merge and its late-label rules; merged records under `merge/`),
compute the window's `analysis.json`, check it against the baseline with the drift rule
(`drift`) into `constraint_violations.json`, and write `report.html`. Records still waiting for
a label are counted in `summary.json`; without any labelled record yet the job completes
without metrics, because late labels are the normal case.

Spark does two small aggregates and, for FT, one bounded sample (`spark_counts`); all the
metric maths run on the driver over the count table.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor_service import io
from monitor_service.errors import ConfigError, EmptyInputError
from monitor_service.monitors.model_bias.analysis_document import (
    BaselineMetrics,
    StageResult,
    analysis_document,
    read_baseline,
)
from monitor_service.monitors.model_bias.catalog import Stage
from monitor_service.monitors.model_bias.checking import CheckOutcome, check_evaluation
from monitor_service.monitors.model_bias.config import AnalysisConfig, load_config, parse_config
from monitor_service.monitors.model_bias.evaluate import Evaluation, evaluate
from monitor_service.monitors.model_bias.model_scores import usable_predictor
from monitor_service.monitors.model_bias.plan import prediction_source
from monitor_service.monitors.model_bias.report import write_bias_report
from monitor_service.monitors.model_bias.requests import (
    ModelBiasAnalyzeRequest,
    ModelBiasBaselineRequest,
    _ModelBiasRequest,
)
from monitor_service.monitors.model_bias.violations import violations_document
from monitor_service.runner.common import JobClock, Progress, job_outcome, new_summary, no_progress, read_records
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MONITOR_TYPE = "ModelBias"
ANALYSIS_FILE = "analysis.json"
CONFIG_FILE = "analysis_config.json"
VIOLATIONS_FILE = "constraint_violations.json"


@dataclass
class Measured:
    config: AnalysisConfig
    evaluation: Evaluation | None  # None: no usable record (analysis only)
    states: dict[str, int]


def run_baseline(
    spark: SparkSession, request: ModelBiasBaselineRequest, progress: Progress = no_progress
) -> RunSummary:
    """Write the baseline `analysis.json`, `report.html` and `summary.json`."""
    clock = JobClock()
    summary = _new_summary("baseline", request.input, request.output_dir)
    with job_outcome(summary, clock):
        config = _load_config(request)
        clock.engine_started = time.perf_counter()
        measured = _measure(spark, request, config, datetime.now(UTC), None, summary, progress)
        if measured.evaluation is None:
            raise EmptyInputError(
                f"no record of {request.input.path} has a usable label"
                f"{' and prediction' if config.stage_methods('post_training') else ''} (record states: "
                f"{measured.states})",
                hint="check the analysis config's label, --inference-attribute / --probability-attribute",
            )
        _write_results(request.output_dir, measured, None, summary, request)
    return summary


def run_analysis(
    spark: SparkSession, request: ModelBiasAnalyzeRequest, progress: Progress = no_progress
) -> RunSummary:
    """Measure one window and check it against the baseline analysis.json (see the module docstring)."""
    clock = JobClock()
    summary = _new_summary("analyze", request.input, request.output_dir)
    with job_outcome(summary, clock):
        config = _load_config(request)
        baseline = _load_baseline(request)
        clock.engine_started = time.perf_counter()
        execution_time = request.effective_execution_time()
        measured = _measure(spark, request, config, execution_time, request.output_dir, summary, progress)
        outcome = None
        if measured.evaluation is not None and baseline is not None:
            progress(f"checking against the baseline ({request.drift.bootstrap_samples} bootstrap resamples)")
            outcome = check_evaluation(measured.evaluation, baseline, request.drift)
        elif measured.evaluation is None:
            progress("no labelled records yet: analysis.json holds no metrics")
        if baseline is not None:
            violations = outcome.violations if outcome is not None else []
            summary.artifacts["constraint_violations"] = _write(
                request.output_dir, VIOLATIONS_FILE, violations_document(violations)
            )
            summary.violations = len(violations)
            summary.violations_by_check = dict(Counter(v.to_json()["constraint_check_type"] for v in violations))
            if violations:
                summary.status = "CompletedWithViolations"
        _write_results(request.output_dir, measured, outcome, summary, request)
    return summary


def _new_summary(job: str, spec: InputSpec, out: str) -> RunSummary:
    summary = new_summary(job, spec, out)
    summary.monitor_type = MONITOR_TYPE
    return summary


def _load_config(request: _ModelBiasRequest) -> AnalysisConfig:
    given = request.analysis_config
    config = load_config(given) if isinstance(given, str) else parse_config(given, "analysis_config")
    if config.stage_methods("post_training") and prediction_source(config, request.attributes) == "none":
        _, predictor_problem = usable_predictor(config)
        raise ConfigError(
            "post-training bias metrics need the predicted label"
            + (f"; the config's predictor cannot give it: {predictor_problem}" if predictor_problem else ""),
            hint="pass --inference-attribute or --probability-attribute, set predicted_label in the analysis "
            "config, give its predictor a model_uri or endpoint_url (or ask only for methods.pre_training_bias)",
        )
    return config


def _load_baseline(request: ModelBiasAnalyzeRequest) -> BaselineMetrics | None:
    if request.baseline_constraints is None:
        return None
    path = request.baseline_constraints
    return read_baseline(io.read_json(path, "baseline analysis.json"), where=path)


def _input_with_headers(spec: InputSpec, config: AnalysisConfig) -> InputSpec:
    """A header-less CSV dataset takes its column names from the config's `headers`, as Clarify reads it."""
    if spec.format != "csv" or spec.dataset_config.header or spec.dataset_config.input.names or not config.headers:
        return spec
    side = spec.dataset_config.input.model_copy(update={"names": list(config.headers)})
    return spec.model_copy(update={"dataset_config": spec.dataset_config.model_copy(update={"input": side})})


def _measure(
    spark: SparkSession,
    request: _ModelBiasRequest,
    config: AnalysisConfig,
    execution_time: datetime,
    merge_dir: str | None,
    summary: RunSummary,
    progress: Progress,
) -> Measured:
    """Read (and merge), profile, count and sample; fills the summary's counters."""
    from pyspark import StorageLevel

    from monitor_service.monitors.model_bias import spark_counts
    from monitor_service.monitors.model_bias.plan import make_plan
    from monitor_service.spark.ground_truth import read_ground_truth
    from monitor_service.spark.merge import merge_with_ground_truth, write_merged

    spec = _input_with_headers(request.input, config)
    read = read_records(spark, spec, request.output_dir, summary, progress)
    needs_prediction = bool(config.stage_methods("post_training"))
    gt = merged = prepared = None
    try:
        frame = read.df
        if request.ground_truth is not None:
            progress(f"reading ground truth {request.ground_truth} collected up to {execution_time.isoformat()}")
            gt = read_ground_truth(spark, request.ground_truth, execution_time)
            summary.feature_metrics["ground_truth"] = dict(gt.stats().as_metrics())
            merged = merge_with_ground_truth(read.df, gt.labels).persist(StorageLevel.MEMORY_AND_DISK)
            if merge_dir is not None:
                summary.artifacts["merge"] = write_merged(merged, merge_dir, execution_time)
            frame = merged
        if needs_prediction and prediction_source(config, request.attributes) == "model":
            frame = _scored(frame, config, progress)
        prepared = spark_counts.prepare(
            frame, config, request.attributes, merged=merged is not None, needs_prediction=needs_prediction
        ).persist(StorageLevel.MEMORY_AND_DISK)
        progress("profiling facet and label columns")
        text_prediction = prediction_source(config, request.attributes) in ("inference", "predicted_label")
        states, profiles = spark_counts.profile(prepared, config, text_prediction and needs_prediction)
        summary.records_analyzed = states["usable"]
        summary.feature_metrics["records"] = {s: float(n) for s, n in sorted(states.items())}
        progress(f"{states['usable']} usable records; record states {states}")
        if states["usable"] == 0:
            return Measured(config, None, states)
        plan = make_plan(config, request.attributes, profiles)
        keyed = spark_counts.with_keys(prepared, plan)
        progress("counting records per facet group, label, prediction and group variable")
        rows = spark_counts.count_rows(keyed)
        sample = None
        if "FT" in config.stage_methods("post_training"):
            progress(f"sampling up to {request.flip_test_sample} records for the flip test")
            sample = spark_counts.flip_sample(keyed, request.flip_test_sample, request.flip_test_seed, states["usable"])
            summary.feature_metrics["flip_test"] = {
                "sample_rows": float(len(sample.fields)),
                "sample_limit": float(request.flip_test_sample),
            }
    finally:
        if prepared is not None:
            prepared.unpersist()
        if merged is not None:
            merged.unpersist()
        if gt is not None:
            gt.release()
        read.release()
    output_names = list(spec.dataset_config.output.names or [])
    evaluation = evaluate(rows, config, request.attributes, plan, sample, output_names)
    return Measured(config, evaluation, states)


def _scored(frame: Any, config: AnalysisConfig, progress: Progress) -> Any:
    """The records with the config's predictor's scores; the model is loaded here first, so a bad one fails fast."""
    from monitor_service.monitors.model_bias.model_scores import feature_columns, predictor_config, with_model_scores
    from monitor_service.predictor import build_predictor

    first = frame.select("fields").first()
    seen = [f["name"] for f in (first["fields"] or [])] if first is not None else []
    columns = feature_columns(config, seen)
    block = predictor_config(config)
    assert block is not None
    build_predictor(block, feature_names=columns)
    progress(f"predicting with the analysis config's predictor on {len(columns)} columns")
    return with_model_scores(frame, config, columns)


def _write_results(
    out: str,
    measured: Measured,
    outcome: CheckOutcome | None,
    summary: RunSummary,
    request: _ModelBiasRequest,
) -> None:
    stages = measured.evaluation.stages if measured.evaluation is not None else _empty_stages(measured.config)
    summary.artifacts["analysis"] = _write(out, ANALYSIS_FILE, analysis_document(stages))
    # The config the run used, beside its results (a baseline keeps it as its analysis_config document).
    summary.artifacts["analysis_config"] = _write(
        out, CONFIG_FILE, measured.config.model_dump(mode="json", exclude_unset=True))
    if measured.evaluation is not None:
        summary.features = len(measured.evaluation.entries)
        summary.feature_metrics.update(history_metrics(measured.evaluation))
    summary.artifacts["report"] = write_bias_report(out, summary, measured.config, measured.evaluation, outcome,
                                                    getattr(request, "drift", None))


def _empty_stages(config: AnalysisConfig) -> dict[Stage, StageResult]:
    """The asked-for stages with no facet entry: a window without any labelled record yet."""
    facets = {config.column(f.name_or_index): [] for f in config.facet}
    label = ",".join(str(v) for v in config.label_values_or_threshold)
    stages: tuple[Stage, ...] = ("pre_training", "post_training")
    return {s: StageResult(config.label_name, label, dict(facets)) for s in stages if config.stage_methods(s)}


def history_metrics(evaluation: Evaluation) -> dict[str, dict[str, float | None]]:
    """`{"Sex=0": {"CI": 0.1, "DPPL": ...}}`: every metric per facet entry, by a name stable across windows.

    Entry names: `facet=value` for configured values and one-entry-per-value facets, `facet>t`
    for a continuous facet with threshold t. Infinite values are null here (they are kept in
    analysis.json), so history and gauges stay plain numbers.
    """
    names = {(e.facet, e.value_or_threshold): e.history_name for e in evaluation.entries}
    out: dict[str, dict[str, float | None]] = {}
    for block in evaluation.stages.values():
        for facet, entries in block.facets.items():
            for entry in entries:
                group = out.setdefault(names[(facet, entry.value_or_threshold)], {})
                for metric in entry.metrics:
                    value = metric.value
                    group[metric.name] = None if value is None or not math.isfinite(value) else value
    return out


def _write(out: str, name: str, doc: Any) -> str:
    path = io.join(out, name)
    io.write_json_atomic(path, doc)
    return path
