"""extra_column_check: one violation per window column the baseline does not have.

Why: an unexpected column often means the payload layout changed (e.g. a field inserted into a
headerless CSV, which shifts every positional name). SageMaker compares column counts; we
compare names so the violation names the new column. A new column has no per-feature settings,
so only the global `evaluate_constraints` / `disabled_checks` apply.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor_service.core.checks.columns import absent_columns
from monitor_service.core.checks.registry import register
from monitor_service.core.constraints import Constraints
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.violations import Violation

NAME = "extra_column_check"


@register(NAME)
def extra_column_check(
    baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints
) -> Iterator[Violation]:
    return absent_columns(NAME, baseline, window, constraints, missing=False)
