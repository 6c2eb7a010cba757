"""Property tests of profile merging: commutative, associative, and merge(p(A), p(B)) == p(A ∪ B).

Tables come from `reference_profile.tables`: hypothesis draws the shape (sizes, null rates,
cardinalities, type mixes) and a seed, numpy makes the rows, so inputs stay large enough for
KLL compaction to happen.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from reference_profile import Table, concat, profile, tables

from monitor_service.core.merge import merge_profiles
from monitor_service.core.profile import ColumnProfile, DatasetProfile

LAWS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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


def assert_quantiles_within_one_percent(column: ColumnProfile, values: list[str | None]) -> None:
    """Every sketch quantile lies within 1 % normalized rank of the exact data."""
    assert column.numeric is not None and column.numeric.kll is not None
    data = np.sort(np.array([float(v) for v in values if v is not None]))
    for q in np.linspace(0.01, 0.99, 99):
        x = float(column.numeric.kll.quantile(q))
        low = np.searchsorted(data, x, side="left") / data.size
        high = np.searchsorted(data, x, side="right") / data.size
        assert low - 0.01 <= q <= high + 0.01, (column.name, q, low, high)


@LAWS
@given(tables(), tables())
def test_merge_of_profiles_is_profile_of_union(a: Table, b: Table) -> None:
    union = concat(a, b)
    merged = merge_profiles(profile(a), profile(b))
    assert_same_counts_and_moments(merged, profile(union))
    assert [c.name for c in merged.columns] == list(union)
    for column in merged.columns:
        if column.numeric is not None:
            assert_quantiles_within_one_percent(column, union[column.name])


@LAWS
@given(tables(max_rows=1500), tables(max_rows=1500))
def test_merge_is_commutative(a: Table, b: Table) -> None:
    pa, pb = profile(a), profile(b)
    assert_same_counts_and_moments(merge_profiles(pa, pb), merge_profiles(pb, pa))


@LAWS
@given(tables(max_rows=1500), tables(max_rows=1500), tables(max_rows=1500))
def test_merge_is_associative(a: Table, b: Table, c: Table) -> None:
    pa, pb, pc = profile(a), profile(b), profile(c)
    left = merge_profiles(merge_profiles(pa, pb), pc)
    right = merge_profiles(pa, merge_profiles(pb, pc))
    assert_same_counts_and_moments(left, right)
