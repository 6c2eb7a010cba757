"""missing_column_check: one violation per baseline column absent from the window.

Why: a dropped column usually means an upstream schema change; the model then sees defaults or
shifted positions. SageMaker compares column counts; we compare names, so the violation says
which column is gone (a rename shows up as one missing plus one extra column). Respects
`evaluate_constraints` globally and per feature.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor_service.core.checks.columns import absent_columns
from monitor_service.core.checks.registry import register
from monitor_service.core.constraints import Constraints
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.violations import Violation

NAME = "missing_column_check"


@register(NAME)
def missing_column_check(
    baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints
) -> Iterator[Violation]:
    return absent_columns(NAME, baseline, window, constraints, missing=True)
