"""categorical_values_check: do the window's values stay inside the baseline's `domains`?

Why: new categories (a new country code, a typo'd label) are invisible to numeric drift and
often map to an "unknown" embedding. The ratio is the fraction of present window values inside
`string_constraints.domains`: exact from `ColumnProfile.domain_matches` when the profiler counted
it, else from the window histogram (nulls excluded). Violation when the ratio is below
`domain_content_threshold`. Skipped when there are no domains or nothing to count.
"""

from __future__ import annotations

from monitor_service.core.checks.registry import FeatureContext, feature_check
from monitor_service.core.drift.distributions import present_counts
from monitor_service.core.profile import ColumnProfile
from monitor_service.core.violations import Violation, value_description

NAME = "categorical_values_check"


def domain_ratio(window: ColumnProfile, domains: set[str]) -> float | None:
    """Fraction of present values inside `domains`, or None when the window cannot tell."""
    if window.domain_matches is not None:
        return window.domain_matches / window.num_present if window.num_present > 0 else None
    counts = present_counts(window.histogram)
    total = sum(counts.values()) if counts else 0.0
    if not counts or total <= 0:
        return None
    return sum(count for value, count in counts.items() if value in domains) / total


@feature_check(NAME)
def categorical_values_check(ctx: FeatureContext) -> Violation | None:
    strings = ctx.constraint.string_constraints
    if strings is None or not strings.domains:
        return None
    threshold = ctx.settings.domain_content_threshold
    ratio = domain_ratio(ctx.window, set(strings.domains))
    if ratio is None or ratio >= threshold:
        return None
    return Violation(ctx.constraint.name, NAME, value_description(ratio), ratio, threshold)
