"""`monitor baseline|analyze --monitor-type ModelBias`: the bias monitor's arguments and the request they build.

```
monitor baseline --monitor-type ModelBias --input DATASET [--format csv --header] \\
    --analysis-config FILE [--inference-attribute L | --probability-attribute L] --output DIR
monitor analyze --monitor-type ModelBias --input CAPTURE --ground-truth PATH --analysis-config FILE \\
    --baseline-constraints analysis.json [--start --end --execution-time] --output DIR
```
The label / prediction flags are the model-quality monitor's, declared alike; `--features-attribute`
names the key of JSON records holding the features as a list (SageMaker's FeaturesAttribute).
"""

from __future__ import annotations

import argparse

from pydantic import BaseModel, ValidationError

from monitor_service.errors import ConfigError
from monitor_service.monitors.base import CliArgument, Command
from monitor_service.monitors.model_bias.attributes import BiasAttributes
from monitor_service.monitors.model_bias.drift import DriftSettings
from monitor_service.monitors.model_bias.requests import (
    DEFAULT_FT_SAMPLE,
    ModelBiasAnalyzeRequest,
    ModelBiasBaselineRequest,
)
from monitor_service.monitors.model_quality.cli_args import ARGUMENTS as MODEL_QUALITY_ARGUMENTS
from monitor_service.monitors.model_quality.cli_args import LABEL_ARGUMENTS, first_error
from monitor_service.specs import InputSpec, SideConfig, parse_timestamp

_GROUND_TRUTH_ATTRIBUTE = next(a for a in MODEL_QUALITY_ARGUMENTS if a.flags == ("--ground-truth-attribute",))

ARGUMENTS: tuple[CliArgument, ...] = (
    CliArgument(("--analysis-config",), {
        "metavar": "FILE", "help": "Clarify analysis_config.json (label, facets, group variable, methods)"}),
    *LABEL_ARGUMENTS,
    _GROUND_TRUTH_ATTRIBUTE,
    CliArgument(("--features-attribute",), {
        "metavar": "KEY", "help": "bias: key of JSON records holding the features as a list (e.g. features)"}),
    CliArgument(("--bootstrap-samples",), {
        "type": int, "default": 200, "metavar": "N",
        "help": "bias drift: bootstrap resamples for the confidence interval (default 200)"}),
    CliArgument(("--confidence-level",), {
        "type": float, "default": 0.95, "help": "bias drift: confidence of the interval (default 0.95)"}),
    CliArgument(("--bootstrap-seed",), {"type": int, "default": 0, "help": "bias drift: resampling seed"}),
    CliArgument(("--threshold",), {
        "action": "append", "default": [], "metavar": "METRIC=VALUE",
        "help": "bias drift: allowed bound of a metric instead of its baseline value (repeatable), e.g. DI=0.8"}),
    CliArgument(("--flip-test-sample",), {
        "type": int, "default": DEFAULT_FT_SAMPLE, "metavar": "N",
        "help": f"bias: records the flip test (FT) is computed on, at most (default {DEFAULT_FT_SAMPLE})"}),
)


def _thresholds(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ConfigError(f"--threshold {item!r} is not METRIC=NUMBER", hint="e.g. --threshold DPPL=0.1")
    return out


def _with_features_attribute(spec: InputSpec, key: str | None) -> InputSpec:
    if key is None:
        return spec
    side: SideConfig = spec.dataset_config.input.model_copy(update={"features_attribute": key})
    SideConfig.model_validate(side.model_dump())  # the key goes into Spark expressions: validate it
    return spec.model_copy(update={"dataset_config": spec.dataset_config.model_copy(update={"input": side})})


def request_from_args(command: Command, args: argparse.Namespace, spec: InputSpec) -> BaseModel:
    """The ModelBias baseline or analysis request of parsed arguments (a ConfigError names what is wrong)."""
    if args.analysis_config is None:
        raise ConfigError("--monitor-type ModelBias needs --analysis-config",
                          hint="pass Clarify's analysis_config.json (label, facet, ...)")
    try:
        spec = _with_features_attribute(spec, args.features_attribute)
        attributes = BiasAttributes(
            inference_attribute=args.inference_attribute, probability_attribute=args.probability_attribute,
            probability_threshold=args.probability_threshold, ground_truth_attribute=args.ground_truth_attribute)
        common = {"input": spec, "output_dir": args.output, "analysis_config": args.analysis_config,
                  "attributes": attributes, "ground_truth": args.ground_truth,
                  "flip_test_sample": args.flip_test_sample}
        if command == "baseline":
            return ModelBiasBaselineRequest(**common)
        drift = DriftSettings(bootstrap_samples=args.bootstrap_samples, confidence_level=args.confidence_level,
                              seed=args.bootstrap_seed, thresholds=_thresholds(args.threshold))
        execution_time = parse_timestamp(args.execution_time, "--execution-time") if args.execution_time else None
        return ModelBiasAnalyzeRequest(**common, baseline_constraints=args.baseline_constraints,
                                       execution_time=execution_time, drift=drift)
    except ValidationError as exc:
        raise ConfigError(f"invalid model-bias arguments: {first_error(exc)}") from exc
