"""data_type_check: are the window's values of the type the baseline inferred?

Why: a numeric feature that starts receiving strings (a schema change upstream, "N/A" markers)
breaks the model silently. The ratio is the fraction of present values whose Deequ type is the
expected one (an Integral value also satisfies Fractional), from the window's per-type counts;
when a profile carries no type counts (typed sources, files) all present values count as the
window column's inferred type. Violation when the ratio < `datatype_check_threshold` (1.0 by
default: every value must match). Features whose baseline type is Unknown (all null) are skipped.
"""

from __future__ import annotations

from monitor_service.core.checks.registry import FeatureContext, feature_check
from monitor_service.core.profile import ColumnProfile
from monitor_service.core.types import InferredType, type_match_ratio
from monitor_service.core.violations import Violation, format_double

NAME = "data_type_check"


def match_ratio(window: ColumnProfile, expected: InferredType) -> float:
    counts = window.type_counts or {window.inferred_type.value: window.num_present}
    return type_match_ratio(counts, expected)


def description(expected: InferredType, threshold: float, ratio: float) -> str:
    """SageMaker's exact text, numbers printed like Java doubles."""
    return (
        f"Data type match requirement is not met. Expected data type: {expected.value}, "
        f"Expected match: {format_double(threshold * 100)}%. "
        f"Observed: Only {format_double(ratio * 100)}% of data is {expected.value}."
    )


@feature_check(NAME)
def data_type_check(ctx: FeatureContext) -> Violation | None:
    expected = ctx.constraint.inferred_type
    if expected is InferredType.UNKNOWN:
        return None
    threshold = ctx.settings.datatype_check_threshold
    ratio = match_ratio(ctx.window, expected)
    if ratio >= threshold:
        return None
    return Violation(ctx.constraint.name, NAME, description(expected, threshold, ratio), ratio, threshold)
