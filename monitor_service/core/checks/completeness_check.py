"""completeness_check: is the window at least as complete as the constraint requires?

Why: a feature that starts arriving null (a broken join, a dropped field) degrades predictions
without any error. Violation when the window completeness num_present / (num_present +
num_missing) is below the feature's `completeness` (the baseline's observed completeness
unless edited). Features without a `completeness` constraint are skipped.
"""

from __future__ import annotations

from monitor_service.core.checks.registry import FeatureContext, feature_check
from monitor_service.core.violations import Violation, value_description

NAME = "completeness_check"


@feature_check(NAME)
def completeness_check(ctx: FeatureContext) -> Violation | None:
    required = ctx.constraint.completeness
    observed = ctx.window.completeness
    if required is None or observed >= required:
        return None
    return Violation(ctx.constraint.name, NAME, value_description(observed), observed, required)
