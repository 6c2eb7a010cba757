"""Assertions that two profiles of the same data agree: exact counts, moments to 1e-9, HLL within 5 %.

Shared by the merge laws (a merged profile against the profile of the union) and the Spark
plans (the wide plan against the general reader).
"""

from __future__ import annotations

import math

from monitor_service.core.profile import ColumnProfile, DatasetProfile


def _close(x: float, y: float, scale: float) -> bool:
    """Equal within 1e-9 relative, measured against the data's scale for values near zero."""
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9 * scale)


def assert_same_counts_and_moments(left: DatasetProfile, right: DatasetProfile) -> None:
    assert left.item_count == right.item_count
    lcols, rcols = left.by_name(), right.by_name()
    assert set(lcols) == set(rcols)
    for name, a in lcols.items():
        b = rcols[name]
        assert a.inferred_type == b.inferred_type, name
        assert (a.num_present, a.num_missing) == (b.num_present, b.num_missing), name
        assert a.type_counts == b.type_counts, name
        assert a.histogram == b.histogram, name
        assert (a.numeric is None) == (b.numeric is None), name
        if a.numeric is not None and b.numeric is not None:
            scale = max(abs(a.numeric.min), abs(a.numeric.max))
            assert a.numeric.count == b.numeric.count
            assert (a.numeric.min, a.numeric.max) == (b.numeric.min, b.numeric.max), name
            for moment in ("sum", "mean", "std_dev"):
                assert _close(getattr(a.numeric, moment), getattr(b.numeric, moment),
                              scale * (a.numeric.count if moment == "sum" else 1)), (name, moment)
            assert a.numeric.kll is not None and b.numeric.kll is not None
            assert a.numeric.kll.n == b.numeric.kll.n == a.numeric.count, name
        assert_distinct_close(a, b)


def assert_distinct_close(a: ColumnProfile, b: ColumnProfile) -> None:
    """Exact while a histogram exists; otherwise HLL estimates (union vs direct) within 5 %."""
    assert a.distinct_count is not None and b.distinct_count is not None
    if a.histogram is not None:
        assert a.distinct_count == b.distinct_count == len(a.histogram)
    else:
        assert math.isclose(a.distinct_count, b.distinct_count, rel_tol=0.05, abs_tol=1), a.name
