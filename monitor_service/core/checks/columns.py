"""Name-based column comparison shared by missing_column_check and extra_column_check."""

from __future__ import annotations

from collections.abc import Iterator

from monitor_service.core.constraints import Constraints
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.violations import Violation


def absent_columns(
    check: str, baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints, *, missing: bool
) -> Iterator[Violation]:
    """Baseline columns the window lacks (`missing=True`) or window columns the baseline lacks.

    Skips a column when `check` is disabled for it. Evidence: metric_value is the window's column
    count, threshold the baseline's.
    """
    source, other = (baseline, window) if missing else (window, baseline)
    label, where = (
        ("Missing column", "in the baseline but not in the current data")
        if missing
        else ("Extra column", "in the current data but not in the baseline")
    )
    counts = f"(baseline columns: {len(baseline.columns)}, current columns: {len(window.columns)})"
    present = {column.name for column in other.columns}
    for column in source.columns:
        if column.name in present or not constraints.settings_for(column.name).check_enabled(check):
            continue
        yield Violation(
            column.name,
            check,
            f"{label}: '{column.name}' is {where} {counts}.",
            float(len(window.columns)),
            float(len(baseline.columns)),
        )
