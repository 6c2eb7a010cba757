"""Property tests of profile merging: commutative, associative, and merge(p(A), p(B)) == p(A ∪ B).

Tables come from `reference_profile.tables`: hypothesis draws the shape (sizes, null rates,
cardinalities, type mixes) and a seed, numpy makes the rows, so inputs stay large enough for
KLL compaction to happen.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from reference_profile import Table, concat, profile, tables

from monitor_service.core.merge import merge_profiles
from monitor_service.core.profile import ColumnProfile
from tests.profile_asserts import assert_same_counts_and_moments

LAWS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
