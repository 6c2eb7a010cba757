"""`monitor baseline|analyze --monitor-type ModelQuality`: the extra arguments and the request they build.

The common arguments (`--input`, `--format`, `--output`, `--start`, `--end`,
`--baseline-constraints`, `--spark-*`) are the CLI's own. Exit codes and summary.json are the
data-quality commands' (0 / 3 violations / 1 failed / 2 usage).
"""

from __future__ import annotations

import argparse

from pydantic import BaseModel, ValidationError

from monitor_service.errors import ConfigError
from monitor_service.monitors.base import CliArgument, Command
from monitor_service.monitors.model_quality.problem import PROBLEM_TYPES, ModelQualityAttributes
from monitor_service.monitors.model_quality.requests import ModelQualityAnalyzeRequest, ModelQualityBaselineRequest
from monitor_service.specs import InputSpec, parse_timestamp

# Flags other monitors that merge labels or read predictions declare alike.
LABEL_ARGUMENTS: tuple[CliArgument, ...] = (
    CliArgument(("--inference-attribute",), {
        "metavar": "LOCATOR", "help": "predicted label / value: column name, CSV index (0 = _c0) or JSONPath"}),
    CliArgument(("--probability-attribute",), {
        "metavar": "LOCATOR", "help": "probability of the positive class (binary: curves, AUC, CBPE estimate)"}),
    # No argparse default: a monitor tells "not given" from 0.5 (ModelBias then uses its analysis config's).
    CliArgument(("--probability-threshold",), {
        "type": float, "default": None,
        "help": "binary: predict 1 when probability >= this (without --inference-attribute; default 0.5)"}),
    CliArgument(("--ground-truth",), {
        "metavar": "PATH", "help": "SageMaker ground-truth JSONL folder (yyyy/mm/dd/hh) to merge by inference id"}),
    CliArgument(("--execution-time",), {
        "metavar": "ISO-8601", "help": "use labels collected up to this time (default: --end, else now)"}),
)

ARGUMENTS: tuple[CliArgument, ...] = (
    CliArgument(("--problem-type",), {
        "choices": PROBLEM_TYPES, "help": "BinaryClassification, MulticlassClassification or Regression"}),
    *LABEL_ARGUMENTS,
    CliArgument(("--ground-truth-attribute",), {
        "metavar": "LOCATOR", "help": "label: a column of the input, or a field of the ground-truth records "
                                      "(default there: their first value)"}),
    CliArgument(("--calibration",), {
        "metavar": "FILE", "help": "CBPE calibration (default: calibration.json beside --baseline-constraints)"}),
    CliArgument(("--suggest-margin-std",), {
        "type": float, "default": 0.0, "metavar": "K",
        "help": "baseline: loosen suggested thresholds by K standard deviations (default 0)"}),
)


def attributes_from_args(args: argparse.Namespace) -> ModelQualityAttributes:
    if args.problem_type is None:
        raise ConfigError("--monitor-type ModelQuality needs --problem-type",
                          hint=f"one of {list(PROBLEM_TYPES)}")
    try:
        return ModelQualityAttributes(
            problem_type=args.problem_type, inference_attribute=args.inference_attribute,
            probability_attribute=args.probability_attribute,
            ground_truth_attribute=args.ground_truth_attribute,
            **({} if args.probability_threshold is None else {"probability_threshold": args.probability_threshold}))
    except ValidationError as exc:
        raise ConfigError(f"invalid model-quality arguments: {first_error(exc)}") from exc


def request_from_args(command: Command, args: argparse.Namespace, spec: InputSpec) -> BaseModel:
    """The baseline or analysis request of validated arguments (a ConfigError names what is wrong)."""
    attrs = attributes_from_args(args)
    try:
        if command == "baseline":
            return ModelQualityBaselineRequest(
                input=spec, attributes=attrs, output_dir=args.output, ground_truth=args.ground_truth,
                suggest_margin_std=args.suggest_margin_std)
        execution_time = (parse_timestamp(args.execution_time, "--execution-time")
                          if args.execution_time else None)
        return ModelQualityAnalyzeRequest(
            input=spec, attributes=attrs, output_dir=args.output, ground_truth=args.ground_truth,
            baseline_constraints=args.baseline_constraints, calibration=args.calibration,
            execution_time=execution_time)
    except ValidationError as exc:
        raise ConfigError(f"invalid model-quality arguments: {first_error(exc)}") from exc


def first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])
