"""`monitor baseline|analyze --monitor-type ModelExplainability`: its arguments and the request they build.

    monitor baseline --monitor-type ModelExplainability --input DATASET --analysis-config FILE --output DIR
    monitor analyze --monitor-type ModelExplainability --input CAPTURE --analysis-config FILE \\
        --baseline-constraints analysis.json [--start --end] --output DIR

The common arguments (`--input`, `--format`, `--header`, `--dataset-config`, `--output`,
`--start`, `--end`, `--baseline-constraints`, `--spark-*`) are the CLI's own.
"""

from __future__ import annotations

import argparse

from pydantic import BaseModel, ValidationError

from monitor_service.errors import ConfigError
from monitor_service.monitors.base import CliArgument, Command
from monitor_service.monitors.model_explainability.config import load_analysis_config
from monitor_service.monitors.model_explainability.requests import (
    ModelExplainabilityAnalyzeRequest,
    ModelExplainabilityBaselineRequest,
)
from monitor_service.specs import InputSpec, parse_timestamp

ARGUMENTS: tuple[CliArgument, ...] = (
    CliArgument(("--analysis-config",), {
        "metavar": "FILE", "help": "Clarify analysis config JSON (headers, methods.shap, predictor, ...)"}),
    CliArgument(("--execution-time",), {
        "metavar": "ISO-8601", "help": "use labels collected up to this time (default: --end, else now)"}),
    CliArgument(("--max-records",), {
        "type": int, "metavar": "N",
        "help": "explain at most N records, a seeded uniform sample (default: methods.shap.max_records)"}),
)


def request_from_args(command: Command, args: argparse.Namespace, spec: InputSpec) -> BaseModel:
    """The job request of the parsed arguments; a ConfigError names the flag that is wrong."""
    if args.analysis_config is None:
        raise ConfigError("--monitor-type ModelExplainability needs --analysis-config",
                          hint="pass the explainability analysis config (methods.shap and predictor)")
    if args.max_records is not None and args.max_records < 1:
        raise ConfigError(f"--max-records {args.max_records} must be at least 1")
    load_analysis_config(args.analysis_config)  # a bad config is a usage error, before Spark starts
    try:
        if command == "baseline":
            return ModelExplainabilityBaselineRequest(input=spec, output_dir=args.output,
                                                      analysis_config=args.analysis_config,
                                                      max_records=args.max_records)
        execution_time = parse_timestamp(args.execution_time, "--execution-time") if args.execution_time else None
        return ModelExplainabilityAnalyzeRequest(input=spec, output_dir=args.output,
                                                 analysis_config=args.analysis_config,
                                                 baseline_constraints=args.baseline_constraints,
                                                 max_records=args.max_records, execution_time=execution_time)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"invalid ModelExplainability arguments: {'.'.join(map(str, err['loc']))}: "
                          f"{err['msg']}") from None
