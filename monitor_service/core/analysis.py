"""Evaluate a window against a baseline: every registered check, plus every drift measure.

`evaluate` works on profiles alone (no data), so it runs the same after a Spark job, in the
service on stored statistics, and in tests. It never raises because a check failed: failures
become `CheckError` rows in `AnalysisResult.errors`, next to the violations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from monitor_service.core.checks import CHECKS, run_check
from monitor_service.core.checks.registry import error_message
from monitor_service.core.constraints import Constraints
from monitor_service.core.drift import DRIFT_METHODS, column_kind
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.violations import CheckError, Violation

DRIFT_METRICS = "drift_metrics"  # the `check` name of errors raised while computing drift_metrics


@dataclass
class AnalysisResult:
    """Violations (feature order, then check order), drift per feature and method, error rows.

    `drift_metrics[feature][method]` is None when the measure cannot be computed (a missing
    sketch or histogram, or a ChiSquared test with fewer than two categories left).
    """

    violations: list[Violation]
    drift_metrics: dict[str, dict[str, float | None]]
    errors: list[CheckError] = field(default_factory=list)


def evaluate(baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints) -> AnalysisResult:
    violations: list[Violation] = []
    errors: list[CheckError] = []
    for check in CHECKS:
        for finding in run_check(check, baseline, window, constraints):
            (violations if isinstance(finding, Violation) else errors).append(finding)
    metrics, drift_errors = compute_drift_metrics(baseline, window)
    return AnalysisResult(_in_feature_order(violations, baseline, window), metrics, errors + drift_errors)


def compute_drift_metrics(
    baseline: DatasetProfile, window: DatasetProfile
) -> tuple[dict[str, dict[str, float | None]], list[CheckError]]:
    """Every registered method that applies to each feature present in both profiles.

    The kind (numeric / categorical) comes from the baseline's inferred type; a feature of
    Unknown type has no applicable method and maps to an empty dict.
    """
    current_columns = window.by_name()
    metrics: dict[str, dict[str, float | None]] = {}
    errors: list[CheckError] = []
    for column in baseline.columns:
        current = current_columns.get(column.name)
        if current is None:
            continue
        kind = column_kind(column.inferred_type)
        values: dict[str, float | None] = {}
        for method in DRIFT_METHODS:
            if kind is None or not method.supports(kind):
                continue
            try:
                value = method.compute(column, current, kind)
            except Exception as exc:  # one bad measure must not lose the others
                errors.append(CheckError(DRIFT_METRICS, column.name, f"{method.name}: {error_message(exc)}"))
                value = None
            values[method.name] = None if value is None or math.isnan(value) else value
        metrics[column.name] = values
    return metrics, errors


def _in_feature_order(violations: list[Violation], baseline: DatasetProfile, window: DatasetProfile) -> list[Violation]:
    """Baseline column order, then window-only columns; within a feature, check registration order."""
    order: dict[str, int] = {}
    for column in [*baseline.columns, *window.columns]:
        order.setdefault(column.name, len(order))
    checks = {name: i for i, name in enumerate(CHECKS.names())}

    def key(violation: Violation) -> tuple[int, int]:
        feature = order.get(violation.feature_name, len(order))
        return feature, checks.get(violation.constraint_check_type, len(checks))

    return sorted(violations, key=key)
