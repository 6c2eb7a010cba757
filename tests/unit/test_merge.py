"""Example-based tests of merging: each rule of monitor_service.core.merge with exact expected values."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from reference_profile import profile, profile_column

from monitor_service.core import hll
from monitor_service.core.merge import merge_columns, merge_numeric, merge_profiles
from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.statistics import read_statistics
from monitor_service.core.types import InferredType


def _numeric(values: list[float]) -> NumericState:
    state = profile_column("v", [repr(v) for v in values]).numeric
    assert state is not None
    return state


def test_numeric_moments_combine_exactly() -> None:
    merged = merge_numeric(_numeric([1.0, 2.0, 3.0]), _numeric([4.0, 5.0]))
    assert (merged.count, merged.sum, merged.mean, merged.min, merged.max) == (5.0, 15.0, 3.0, 1.0, 5.0)
    assert merged.std_dev == pytest.approx(math.sqrt(2.0), rel=1e-15)  # population std dev of 1..5
    assert merged.kll is not None and sorted(merged.kll.levels[0]) == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_an_empty_numeric_side_is_neutral() -> None:
    full = _numeric([2.0, 4.0])
    empty = NumericState(count=0.0, sum=0.0, mean=math.nan, std_dev=math.nan, min=math.inf, max=-math.inf)
    assert merge_numeric(full, empty) is full
    assert merge_numeric(empty, full) is full


def test_kll_sketches_compact_on_merge_and_keep_the_total_weight() -> None:
    a, b = _numeric([float(i) for i in range(2000)]), _numeric([float(i) for i in range(2000, 4000)])
    assert a.kll is not None and len(a.kll.levels) == 1
    merged = merge_numeric(a, b)
    assert merged.kll is not None and len(merged.kll.levels) > 1
    assert merged.kll.n == 4000.0
    assert float(merged.kll.quantile(0.5)) == pytest.approx(2000, abs=40)


def test_column_missing_from_one_side_counts_as_all_missing() -> None:
    a = profile({"x": ["1", "2"], "only_a": ["u", None]})
    b = profile({"y": ["7", "8", "9"], "x": ["3", None, "5"]})
    merged = merge_profiles(a, b)
    assert merged.item_count == 5.0
    assert [c.name for c in merged.columns] == ["x", "only_a", "y"]
    only_a, y = merged.by_name()["only_a"], merged.by_name()["y"]
    assert (only_a.num_present, only_a.num_missing) == (1.0, 4.0)
    assert only_a.type_counts["Unknown"] == 4.0 and only_a.type_counts["String"] == 1.0
    assert only_a.inferred_type is InferredType.STRING and only_a.histogram == {"u": 1.0}
    assert (y.num_present, y.num_missing, y.inferred_type) == (3.0, 2.0, InferredType.INTEGRAL)
    assert y.position == 0  # a column keeps the position it had where it was first seen
    assert y.numeric is not None and y.numeric.mean == 8.0


def test_type_is_redetermined_from_the_summed_type_counts() -> None:
    ints = profile_column("c", ["1", "2"])
    floats = profile_column("c", ["2.5", None])
    words = profile_column("c", ["abc"])
    fractional = merge_columns(ints, floats)
    assert fractional.inferred_type is InferredType.FRACTIONAL
    assert fractional.numeric is not None and fractional.numeric.sum == 5.5
    as_string = merge_columns(ints, words)
    assert as_string.inferred_type is InferredType.STRING and as_string.numeric is None
    assert as_string.type_counts == {"Unknown": 0.0, "Fractional": 0.0, "Integral": 2.0,
                                     "Boolean": 0.0, "String": 1.0}


def test_histograms_beyond_the_threshold_are_dropped_and_distinct_comes_from_hll() -> None:
    a = profile_column("c", [f"a{i}" for i in range(100)])
    b = profile_column("c", [f"b{i}" for i in range(100)])
    assert a.histogram is not None and b.histogram is not None
    merged = merge_columns(a, b)
    assert merged.histogram is None
    assert merged.hll is not None and merged.distinct_count == hll.estimate(merged.hll)
    assert merged.distinct_count == pytest.approx(200, abs=4)


def test_histograms_add_and_give_an_exact_distinct_count() -> None:
    merged = merge_columns(profile_column("c", ["a", "b", "a"]), profile_column("c", ["b", "c", None]))
    assert merged.histogram == {"a": 2.0, "b": 2.0, "c": 1.0}
    assert merged.distinct_count == 3.0


def test_sagemaker_profiles_merge_without_type_counts_or_sketches(fixtures_dir: Path) -> None:
    def read(name: str) -> DatasetProfile:
        return read_statistics(str(fixtures_dir / name)).profile

    numeric = read("data_quality_statistics_numeric_6features.json")
    merged = merge_profiles(numeric, numeric)
    original, doubled = numeric.by_name()["_c0"], merged.by_name()["_c0"]
    assert merged.item_count == 200.0
    assert (doubled.num_present, doubled.inferred_type) == (200.0, InferredType.FRACTIONAL)
    assert doubled.type_counts == {}
    assert original.numeric is not None and doubled.numeric is not None
    assert (doubled.numeric.mean, doubled.numeric.sum) == (2.31, 462.0)
    assert doubled.numeric.std_dev == pytest.approx(0.8330066026148891, rel=1e-12)
    assert doubled.numeric.kll is not None and doubled.numeric.kll.n == 200.0

    strings = read("data_quality_statistics_string_feature_sdk_test.json")
    message = merge_profiles(strings, strings).columns[0]
    assert message.histogram == {"preproc-not-YET-supported-for-csv-json": 836.0}
    assert message.distinct_count == 1.0


def test_without_sketch_or_histogram_the_distinct_count_is_a_lower_bound() -> None:
    def high_cardinality(distinct: float) -> ColumnProfile:
        return ColumnProfile(name="c", inferred_type=InferredType.STRING, num_present=500.0, num_missing=0.0,
                             distinct_count=distinct)

    merged = merge_columns(high_cardinality(300.0), high_cardinality(450.0))
    assert (merged.distinct_count, merged.histogram, merged.hll) == (450.0, None, None)


def test_a_side_with_values_but_no_sketch_makes_the_merged_sketch_unknown() -> None:
    with_sketch = profile_column("c", ["1.5", "2.5"])
    assert with_sketch.numeric is not None
    without = ColumnProfile(name="c", inferred_type=InferredType.FRACTIONAL, num_present=1.0, num_missing=0.0,
                            numeric=NumericState(count=1.0, sum=3.5, mean=3.5, std_dev=0.0, min=3.5, max=3.5))
    merged = merge_columns(with_sketch, without)
    assert merged.numeric is not None and merged.numeric.kll is None and merged.numeric.sum == 7.5
    assert merged.hll is None


def test_merging_with_an_empty_profile_changes_nothing() -> None:
    a = profile({"x": ["1.5", None, "2.5"], "s": ["u", "v", "u"]})
    for merged in (merge_profiles(a, DatasetProfile(0.0, [])), merge_profiles(DatasetProfile(0.0, []), a)):
        assert merged == a


def test_domain_matches_add_and_names_must_agree() -> None:
    a = ColumnProfile(name="c", inferred_type=InferredType.STRING, num_present=2.0, num_missing=0.0,
                      domain_matches=2.0)
    b = ColumnProfile(name="c", inferred_type=InferredType.STRING, num_present=3.0, num_missing=1.0,
                      domain_matches=1.0)
    assert merge_columns(a, b).domain_matches == 3.0
    other = ColumnProfile(name="d", inferred_type=InferredType.STRING, num_present=0, num_missing=0)
    with pytest.raises(ValueError, match="'c' with column 'd'"):
        merge_columns(a, other)
