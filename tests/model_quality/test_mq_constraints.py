"""Suggested constraints, the four operators, the violation message and constraint-file errors."""

from __future__ import annotations

import math

import pytest

from monitor_service.errors import BaselineMismatchError, FormatError
from monitor_service.monitors.model_quality.constraints import (
    OPERATORS,
    Constraint,
    describe,
    evaluate,
    parse_constraints,
    suggest_constraints,
)
from monitor_service.monitors.model_quality.statistics import scalar_metrics

BLOCK = {
    "auc": {"value": 0.5, "standard_deviation": 0.0},
    "f1": {"value": 0.7, "standard_deviation": "NaN"},
    "false_positive_rate": {"value": 0.2, "standard_deviation": 0.01},
    "recall_best_constant_classifier": {"value": 1.0, "standard_deviation": "NaN"},
    "confusion_matrix": {"0": {"0": 1, "1": 0}, "1": {"0": 0, "1": 1}},
}


@pytest.mark.parametrize(("operator", "value", "threshold", "violated"), [
    ("GreaterThanThreshold", 0.5, 0.5, False), ("GreaterThanThreshold", 0.51, 0.5, True),
    ("GreaterThanOrEqualToThreshold", 0.5, 0.5, True), ("GreaterThanOrEqualToThreshold", 0.49, 0.5, False),
    ("LessThanThreshold", 0.5, 0.5, False), ("LessThanThreshold", 0.49, 0.5, True),
    ("LessThanOrEqualToThreshold", 0.5, 0.5, True), ("LessThanOrEqualToThreshold", 0.51, 0.5, False),
])
def test_operators(operator: str, value: float, threshold: float, violated: bool) -> None:
    assert OPERATORS.get(operator)(value, threshold) is violated
    block = {"auc": {"value": value, "standard_deviation": 0.0}}
    assert bool(evaluate(block, [Constraint("auc", threshold, operator)])) is violated


def test_violation_uses_sagemaker_fields_and_message() -> None:
    checks = [Constraint("auc", 0.7, "LessThanThreshold"), Constraint("f1", 0.8, "LessThanThreshold")]
    violations = evaluate(BLOCK, checks)
    assert violations[0] == {"metric_name": "auc", "constraint_check_type": "LessThanThreshold",
                             "description": "Metric auc with 0.5 +/- 0.0 was LessThanThreshold '0.7'"}
    assert violations[1]["description"] == "Metric f1 with 0.7 +/- NaN was LessThanThreshold '0.8'"


def test_nan_and_missing_metrics_are_not_violations() -> None:
    block = {"auc": {"value": "NaN", "standard_deviation": "NaN"}}
    checks = [Constraint("auc", 0.7, "LessThanThreshold"), Constraint("f1", 0.7, "LessThanThreshold")]
    assert evaluate(block, checks) == []
    assert describe("auc", math.nan, math.nan, "LessThanThreshold", 0.7).startswith("Metric auc with NaN +/- NaN")


def test_numbers_in_messages_are_printed_like_java() -> None:
    """As data-quality violations (core.violations.format_double): 1e-05 is `1.0E-5`, 2 is `2.0`."""
    text = describe("mse", 1e-5, 2e-7, "GreaterThanThreshold", 2.0)
    assert text == "Metric mse with 1.0E-5 +/- 2.0E-7 was GreaterThanThreshold '2.0'"
    assert describe("mse", 12345678.0, math.inf, "GreaterThanThreshold", 0.001).endswith(
        "with 1.2345678E7 +/- Infinity was GreaterThanThreshold '0.001'")


def test_statistics_numbers_are_read_like_other_artifacts() -> None:
    """SageMaker's "NaN" / "Infinity" strings are numbers; anything else names the metric and field."""
    values = scalar_metrics({"mse": {"value": 1, "standard_deviation": "Infinity"}, "confusion_matrix": {}})
    assert values == {"mse": (1.0, math.inf)}
    with pytest.raises(FormatError, match=r"field 'auc\.standard_deviation' must be a number, got bool"):
        scalar_metrics({"auc": {"value": 0.5, "standard_deviation": True}})


def test_suggestions_cover_model_metrics_only_with_direction() -> None:
    doc = suggest_constraints("BinaryClassification", BLOCK)
    assert doc == {"version": 0.0, "binary_classification_constraints": {
        "auc": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"},
        "false_positive_rate": {"threshold": 0.2, "comparison_operator": "GreaterThanThreshold"},
        "f1": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"},
    }}
    loose = suggest_constraints("BinaryClassification", BLOCK, margin_std=2.0)["binary_classification_constraints"]
    assert loose["false_positive_rate"]["threshold"] == pytest.approx(0.22)
    assert loose["f1"]["threshold"] == 0.7  # no standard deviation: nothing to loosen by


def test_edited_constraints_are_validated() -> None:
    good = {"binary_classification_constraints": {
        "auc": {"threshold": 0.7, "comparison_operator": "LessThanOrEqualToThreshold"},
        "accuracy_best_constant_classifier": {"threshold": "1e-1", "comparison_operator": "GreaterThanThreshold"}}}
    with pytest.raises(FormatError, match=r"binary_classification_constraints\.accuracy_best_constant_classifier"
                                          r"\.threshold' must be a number"):
        parse_constraints(good, "BinaryClassification")
    good["binary_classification_constraints"]["accuracy_best_constant_classifier"]["threshold"] = 1e-1
    assert parse_constraints(good, "BinaryClassification")[1] == Constraint(
        "accuracy_best_constant_classifier", 0.1, "GreaterThanThreshold")
    with pytest.raises(FormatError, match="unknown BinaryClassification metric 'aucc'"):
        parse_constraints({"binary_classification_constraints": {"aucc": {"threshold": 1,
                           "comparison_operator": "LessThanThreshold"}}}, "BinaryClassification")
    with pytest.raises(FormatError, match="comparison_operator 'Below'") as err:
        parse_constraints({"binary_classification_constraints": {"auc": {"threshold": 1,
                           "comparison_operator": "Below"}}}, "BinaryClassification")
    assert "LessThanOrEqualToThreshold" in str(err.value)
    with pytest.raises(BaselineMismatchError):
        parse_constraints({"regression_constraints": {}}, "BinaryClassification")
    with pytest.raises(FormatError, match="confusion_matrix"):
        parse_constraints({"binary_classification_constraints": {"confusion_matrix": {"threshold": 1,
                           "comparison_operator": "LessThanThreshold"}}}, "BinaryClassification")
