"""Model-quality constraints: suggestion from a baseline, the file format, and evaluation.

`constraints.json` is SageMaker's: `{"version": 0.0, "<problem>_constraints": {metric:
{"threshold": t, "comparison_operator": op}}}`. The operator names the *violating* condition
(`"auc": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"}` means "flag when auc
< 0.7"). Suggested thresholds are the baseline values, as SageMaker's, optionally loosened by
`margin_std` standard deviations so a window drawn from the baseline's own distribution does
not flag half the metrics; error metrics get `GreaterThanThreshold`, quality metrics
`LessThanThreshold`. The file is meant to be edited: any scalar metric of the problem type may
be listed with any of the four operators.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor_service.core.json_fields import Where, as_number
from monitor_service.core.registry import Registry
from monitor_service.core.violations import format_double
from monitor_service.errors import BaselineMismatchError, FormatError
from monitor_service.monitors.model_quality.metrics import METRICS
from monitor_service.monitors.model_quality.problem import BLOCKS
from monitor_service.monitors.model_quality.statistics import VERSION, scalar_metrics

# Each operator is true when the metric value violates the threshold; NaN never violates.
OPERATORS: Registry[Callable[[float, float], bool]] = Registry("comparison operator")
OPERATORS.register("GreaterThanThreshold", lambda value, threshold: value > threshold)
OPERATORS.register("GreaterThanOrEqualToThreshold", lambda value, threshold: value >= threshold)
OPERATORS.register("LessThanThreshold", lambda value, threshold: value < threshold)
OPERATORS.register("LessThanOrEqualToThreshold", lambda value, threshold: value <= threshold)

SUGGESTED_OPERATOR = {"higher": "LessThanThreshold", "lower": "GreaterThanThreshold"}


@dataclass(frozen=True)
class Constraint:
    metric: str
    threshold: float
    operator: str


def suggest_constraints(problem_type: str, block: dict[str, Any], margin_std: float = 0.0) -> dict[str, Any]:
    """Constraints for every model metric of the baseline block (best-constant ones excluded).

    With `margin_std > 0` and a numeric standard deviation, quality thresholds move down and
    error thresholds up by that many standard deviations.
    """
    if margin_std < 0:
        raise ValueError("margin_std must be >= 0")
    values = scalar_metrics(block)
    out: dict[str, Any] = {}
    for metric in METRICS[problem_type]:
        if metric.direction is None or metric.name not in values:
            continue
        value, std = values[metric.name]
        if math.isnan(value):
            continue
        slack = margin_std * std if margin_std and not math.isnan(std) else 0.0
        threshold = value - slack if metric.direction == "higher" else value + slack
        operator = SUGGESTED_OPERATOR[metric.direction]
        out[metric.name] = {"threshold": threshold, "comparison_operator": operator}
    return {"version": VERSION, BLOCKS[problem_type].constraints: out}


def parse_constraints(doc: Any, problem_type: str, where: str = "constraints") -> list[Constraint]:
    """Validate a constraints document for `problem_type`; errors name the offending entry."""
    if not isinstance(doc, dict):
        raise FormatError(f"{where} must be a JSON object")
    key = BLOCKS[problem_type].constraints
    if key not in doc:
        found = [b.constraints for b in BLOCKS.values() if b.constraints in doc]
        if found:
            raise BaselineMismatchError(
                f"{where} holds {found[0]} but the analysis is {problem_type}",
                hint="pass the constraints of a baseline made with the same --problem-type")
        raise FormatError(f"{where} has no {key!r} block")
    block = doc[key]
    if not isinstance(block, dict):
        raise FormatError(f"{where}: {key} must be an object of metric -> constraint")
    known = [m.name for m in METRICS[problem_type] if m.scalar]
    out = []
    for metric, entry in block.items():
        if metric not in known:
            raise FormatError(f"{where}: unknown {problem_type} metric {metric!r}",
                              hint=f"use one of {known}")
        if not isinstance(entry, dict) or "threshold" not in entry or "comparison_operator" not in entry:
            raise FormatError(f"{where}: {metric} needs 'threshold' and 'comparison_operator'")
        operator = entry["comparison_operator"]
        if operator not in OPERATORS:
            raise FormatError(f"{where}: {metric} has unknown comparison_operator {operator!r}",
                              hint=f"use one of {OPERATORS.names()}")
        threshold = as_number(entry["threshold"], Where(where) / key / metric / "threshold")
        out.append(Constraint(metric, threshold, OPERATORS.canonical(operator)))
    return out


def describe(metric: str, value: float, std: float, operator: str, threshold: float) -> str:
    """SageMaker's message, e.g. `Metric auc with 0.5 +/- 0.0 was LessThanThreshold '0.7'`.

    Numbers are printed like Java's `Double.toString` (`1.0E-5`), as in data-quality violations.
    """
    return (f"Metric {metric} with {format_double(value)} +/- {format_double(std)} was {operator} "
            f"'{format_double(threshold)}'")


def evaluate(block: dict[str, Any], constraints: list[Constraint]) -> list[dict[str, str]]:
    """Violations of `constraints` by a metric block, in constraint order.

    A metric that is missing from the block or NaN (e.g. AUC of a window with one class) cannot
    be compared and is not a violation.
    """
    values = scalar_metrics(block)
    violations = []
    for c in constraints:
        if c.metric not in values:
            continue
        value, std = values[c.metric]
        if math.isnan(value) or not OPERATORS.get(c.operator)(value, c.threshold):
            continue
        violations.append({"metric_name": c.metric, "constraint_check_type": c.operator,
                           "description": describe(c.metric, value, std, c.operator, c.threshold)})
    return violations


def violations_document(violations: list[dict[str, str]]) -> dict[str, Any]:
    return {"violations": violations}
