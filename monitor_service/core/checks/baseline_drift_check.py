"""baseline_drift_check: has the feature's distribution moved away from the baseline?

Why: drift is the early signal that a model's inputs no longer look like its training data.
Numeric features use `comparison_method` (SageMaker: Simple / Robust L∞ between KLL CDFs) with
`comparison_threshold`; String / Boolean features use `categorical_drift_method` (LInfinity with
the Simple/Robust correction of `comparison_method`, or ChiSquared) with
`categorical_comparison_threshold`, which defaults to `comparison_threshold`. A per-feature
`comparison_method` / `comparison_threshold` override may pick any registered method. The kind
of a feature is that of its *baseline* profile, whose sketch or histogram is the reference.
Distances drift when above the threshold, p-values (ChiSquared) when below. Skipped when
`perform_comparison` is Disabled, or the baseline / window lacks the sketch or histogram.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor_service.core import drift
from monitor_service.core.checks.registry import FeatureContext, feature_check
from monitor_service.core.constraints import FeatureSettings
from monitor_service.core.drift import ColumnKind, DriftMethod, column_kind
from monitor_service.core.violations import Violation, format_double

NAME = "baseline_drift_check"


@dataclass(frozen=True)
class ResolvedDrift:
    """The method and threshold that decide drift for one feature."""

    method: DriftMethod
    threshold: float


def resolve_drift(settings: FeatureSettings, kind: ColumnKind) -> ResolvedDrift:
    """Resolve the configured method name (or SageMaker alias) through the drift registry."""
    name, threshold = settings.drift(kind)
    return ResolvedDrift(drift.get(name), threshold)


def description(method: DriftMethod, value: float, threshold: float) -> str:
    """Text matching the AWS parsers' regex `distance: (.+) exceeds threshold: (.+)`.

    SageMaker's L∞ methods keep the plain wording; other distances name the method; p-value
    methods say the p-value fell below the threshold and repeat both numbers in that shape.
    """
    shape = f"distance: {format_double(value)} exceeds threshold: {format_double(threshold)}"
    if not method.larger_is_drift:
        return (
            f"Baseline drift {method.label} p-value {format_double(value)} is below threshold "
            f"{format_double(threshold)}; {shape}"
        )
    return f"Baseline drift {shape}" if method.sagemaker else f"Baseline drift {method.label} {shape}"


@feature_check(NAME)
def baseline_drift_check(ctx: FeatureContext) -> Violation | None:
    kind = column_kind(ctx.baseline.inferred_type) if ctx.baseline is not None else None
    if ctx.baseline is None or kind is None or not ctx.settings.perform_comparison:
        return None
    resolved = resolve_drift(ctx.settings, kind)
    value = resolved.method.compute(ctx.baseline, ctx.window, kind)
    if value is None or math.isnan(value) or not resolved.method.is_drift(value, resolved.threshold):
        return None
    return Violation(
        ctx.constraint.name,
        NAME,
        description(resolved.method, value, resolved.threshold),
        value,
        resolved.threshold,
        resolved.method.name,
    )
