"""`monitor baseline|analyze --monitor-type ModelQuality`: the extra arguments and the dispatch.

`monitor_service.cli.main` adds these arguments to both subcommands and hands a ModelQuality
run to `run_from_args`; the common arguments (`--input`, `--format`, `--output`, `--start`,
`--end`, `--baseline-constraints`, `--spark-*`) are parsed there. Exit codes and summary.json
are the data-quality commands' (0 / 3 violations / 1 failed / 2 usage).
"""

from __future__ import annotations

import argparse

from pydantic import ValidationError

from monitor_service.errors import ConfigError
from monitor_service.model_quality.problem import PROBLEM_TYPES, ModelQualityAttributes
from monitor_service.runner.common import Progress, no_progress
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import parse_timestamp


def add_model_quality_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments used only with `--monitor-type ModelQuality` (ignored otherwise)."""
    group = parser.add_argument_group("model quality (--monitor-type ModelQuality)")
    group.add_argument("--problem-type", choices=PROBLEM_TYPES,
                       help="BinaryClassification, MulticlassClassification or Regression")
    group.add_argument("--inference-attribute", metavar="LOCATOR",
                       help="predicted label / value: column name, CSV index (0 = _c0) or JSONPath")
    group.add_argument("--probability-attribute", metavar="LOCATOR",
                       help="probability of the positive class (binary: curves, AUC, CBPE estimate)")
    group.add_argument("--ground-truth-attribute", metavar="LOCATOR",
                       help="label: a column of the input, or a field of the ground-truth records "
                            "(default there: their first value)")
    group.add_argument("--probability-threshold", type=float, default=0.5,
                       help="binary: predict 1 when probability >= this (without --inference-attribute)")
    group.add_argument("--ground-truth", metavar="PATH",
                       help="SageMaker ground-truth JSONL folder (yyyy/mm/dd/hh) to merge by inference id")
    group.add_argument("--execution-time", metavar="ISO-8601",
                       help="use labels collected up to this time (default: --end, else now)")
    group.add_argument("--calibration", metavar="FILE",
                       help="CBPE calibration (default: calibration.json beside --baseline-constraints)")
    group.add_argument("--suggest-margin-std", type=float, default=0.0, metavar="K",
                       help="baseline: loosen suggested thresholds by K standard deviations (default 0)")


def attributes_from_args(args: argparse.Namespace) -> ModelQualityAttributes:
    if args.problem_type is None:
        raise ConfigError("--monitor-type ModelQuality needs --problem-type",
                          hint=f"one of {list(PROBLEM_TYPES)}")
    try:
        return ModelQualityAttributes(
            problem_type=args.problem_type, inference_attribute=args.inference_attribute,
            probability_attribute=args.probability_attribute,
            ground_truth_attribute=args.ground_truth_attribute,
            probability_threshold=args.probability_threshold)
    except ValidationError as exc:
        raise ConfigError(f"invalid model-quality arguments: {_first_error(exc)}") from exc


def run_from_args(args: argparse.Namespace, progress: Progress = no_progress) -> RunSummary:
    """Validate the arguments, start Spark, and run the model-quality baseline or analysis."""
    from monitor_service.cli.main import input_spec, spark_session
    from monitor_service.runner.model_quality import (
        ModelQualityAnalyzeRequest,
        ModelQualityBaselineRequest,
        run_model_quality_analysis,
        run_model_quality_baseline,
    )

    attrs = attributes_from_args(args)
    spec = input_spec(args)
    try:
        if args.command == "baseline":
            request: ModelQualityBaselineRequest | ModelQualityAnalyzeRequest = ModelQualityBaselineRequest(
                input=spec, attributes=attrs, output_dir=args.output, ground_truth=args.ground_truth,
                suggest_margin_std=args.suggest_margin_std)
        else:
            execution_time = (parse_timestamp(args.execution_time, "--execution-time")
                              if args.execution_time else None)
            request = ModelQualityAnalyzeRequest(
                input=spec, attributes=attrs, output_dir=args.output, ground_truth=args.ground_truth,
                baseline_constraints=args.baseline_constraints, calibration=args.calibration,
                execution_time=execution_time)
    except ValidationError as exc:
        raise ConfigError(f"invalid model-quality arguments: {_first_error(exc)}") from exc
    progress("starting Spark")
    spark = spark_session(args, progress=progress is not no_progress)
    if isinstance(request, ModelQualityBaselineRequest):
        return run_model_quality_baseline(spark, request, progress)
    return run_model_quality_analysis(spark, request, progress)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])
