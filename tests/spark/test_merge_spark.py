"""merge_profiles(profile(A), profile(B)) against profile(A ∪ B), all three profiled by Spark.

A and B differ on purpose: shifted distributions, a column only B has, a column Integral in A
and Fractional in B, categories only one side has, and a categorical column whose union crosses
the 120-value histogram threshold. Expected values also come from numpy on the raw values.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor_service.core.merge import merge_profiles
from monitor_service.core.profile import ColumnProfile, DatasetProfile
from monitor_service.core.statistics import read_statistics, to_statistics_json, write_statistics
from monitor_service.schemas import validate
from monitor_service.spark.profiler import profile_records
from monitor_service.spark.reader import read_input
from monitor_service.specs import InputSpec

pytestmark = pytest.mark.spark

N_A, N_B = 6000, 5000
REL = 1e-9
RANK_ERROR = 0.01
DISTINCT_ERROR = 0.05
QUANTILES = np.linspace(0.01, 0.99, 99)
COLUMNS = ["x", "n_int", "amount", "cat", "cat_wide", "user", "only_b"]
NUMERIC = ["x", "n_int", "amount", "only_b"]
COLOURS = ["red", "green", "blue", "black", "white"]


def _maybe_missing(rng: np.random.Generator, values: list[Any], fraction: float) -> list[Any]:
    drop = rng.random(len(values)) < fraction
    return [None if d else v for v, d in zip(values, drop, strict=True)]


def generate(seed: int, n: int, shifted: bool) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    shift = 2.0 if shifted else 0.0
    columns: dict[str, list[Any]] = {
        "x": _maybe_missing(rng, [float(v) for v in rng.normal(shift, 1.0 + shift, n)], 0.02),
        "n_int": [int(v) for v in (rng.integers(0, 51, n) if shifted else rng.integers(-100, 101, n))],
        # Integral in A, Fractional in B: the union is Fractional
        "amount": ([round(float(v), 3) for v in rng.exponential(30.0, n)] if shifted
                   else [int(v) for v in rng.integers(0, 100, n)]),
        "cat": _maybe_missing(rng, list(map(str, rng.choice(
            [*COLOURS, "pink"] if shifted else COLOURS, n))), 0.01),
        # 80 values on each side, 130 in the union: no histogram after the merge
        "cat_wide": [f"c{int(v)}" for v in rng.integers(50, 130, n)] if shifted
        else [f"c{int(v)}" for v in rng.integers(0, 80, n)],
        "user": [f"u{int(v)}" for v in rng.integers(0, 100_000, n)],
    }
    if shifted:
        columns["only_b"] = _maybe_missing(rng, [float(v) for v in rng.uniform(-5, 5, n)], 0.1)
    return columns


def write_jsonl(path: Path, columns: dict[str, list[Any]], null_style: str) -> None:
    names = list(columns)
    n = len(columns[names[0]])
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            record = {}
            for name in names:
                value = columns[name][i]
                if value is None and null_style == "omit":
                    continue
                record[name] = value
            handle.write(json.dumps(record) + "\n")


@dataclass
class Profiles:
    a: DatasetProfile
    b: DatasetProfile
    union: DatasetProfile
    data_a: dict[str, list[Any]]
    data_b: dict[str, list[Any]]
    tmp: Path


def _profile(spark: Any, path: Path) -> DatasetProfile:
    read = read_input(spark, InputSpec(path=str(path), format="jsonl"), None)
    try:
        return profile_records(read.df, read.records_valid)
    finally:
        read.release()


@pytest.fixture(scope="module")
def profiles(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Profiles:
    root = tmp_path_factory.mktemp("merge")
    data_a, data_b = generate(11, N_A, shifted=False), generate(22, N_B, shifted=True)
    (root / "a").mkdir()
    (root / "b").mkdir()
    (root / "ab").mkdir()
    write_jsonl(root / "a" / "part-a.jsonl", data_a, null_style="omit")
    write_jsonl(root / "b" / "part-b.jsonl", data_b, null_style="null")
    for src in ("a/part-a.jsonl", "b/part-b.jsonl"):
        (root / "ab" / Path(src).name).write_bytes((root / src).read_bytes())
    return Profiles(a=_profile(spark, root / "a"), b=_profile(spark, root / "b"), union=_profile(spark, root / "ab"),
                    data_a=data_a, data_b=data_b, tmp=root)


def _union_values(p: Profiles, name: str) -> list[Any]:
    return p.data_a.get(name, [None] * N_A) + p.data_b.get(name, [None] * N_B)


def _present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _by_name(profile: DatasetProfile) -> dict[str, ColumnProfile]:
    return profile.by_name()


def _assert_rank_error(sketch: Any, x: np.ndarray) -> None:
    data = np.sort(x)
    estimates = np.asarray(sketch.quantile(QUANTILES), dtype=float)
    low = np.searchsorted(data, estimates, side="left") / len(data)
    high = np.searchsorted(data, estimates, side="right") / len(data)
    worst = float(np.max(np.maximum(low - QUANTILES, QUANTILES - high).clip(min=0.0)))
    assert worst <= RANK_ERROR, worst


def test_profiles_have_the_expected_columns(profiles: Profiles) -> None:
    assert profiles.a.item_count == N_A and profiles.b.item_count == N_B
    assert profiles.union.item_count == N_A + N_B
    assert set(_by_name(profiles.a)) == set(COLUMNS) - {"only_b"}
    assert set(_by_name(profiles.union)) == set(COLUMNS)
    assert _by_name(profiles.a)["amount"].inferred_type.value == "Integral"
    assert _by_name(profiles.b)["amount"].inferred_type.value == "Fractional"


@pytest.mark.parametrize("name", COLUMNS)
def test_merge_equals_union_counts_and_types(profiles: Profiles, name: str) -> None:
    merged = _by_name(merge_profiles(profiles.a, profiles.b))[name]
    union = _by_name(profiles.union)[name]
    present = len(_present(_union_values(profiles, name)))
    assert (merged.num_present, merged.num_missing) == (present, N_A + N_B - present)
    assert (union.num_present, union.num_missing) == (present, N_A + N_B - present)
    assert merged.inferred_type == union.inferred_type
    assert merged.type_counts == union.type_counts
    assert merged.histogram == union.histogram


@pytest.mark.parametrize("name", NUMERIC)
def test_merge_equals_union_moments(profiles: Profiles, name: str) -> None:
    merged = _by_name(merge_profiles(profiles.a, profiles.b))[name].numeric
    union = _by_name(profiles.union)[name].numeric
    assert merged is not None and union is not None
    x = np.array(_present(_union_values(profiles, name)), dtype=float)
    assert merged.count == union.count == len(x)
    for key, exact in (("sum", np.sum(x)), ("mean", np.mean(x)), ("std_dev", np.std(x)),
                       ("min", np.min(x)), ("max", np.max(x))):
        assert getattr(merged, key) == pytest.approx(float(exact), rel=REL), key
        assert getattr(merged, key) == pytest.approx(getattr(union, key), rel=REL), key
    swapped = _by_name(merge_profiles(profiles.b, profiles.a))[name].numeric
    assert swapped is not None
    for key in ("count", "sum", "mean", "std_dev", "min", "max"):
        assert getattr(swapped, key) == pytest.approx(getattr(merged, key), rel=REL), key


@pytest.mark.parametrize("name", NUMERIC)
def test_merged_kll_within_one_percent_rank_error(profiles: Profiles, name: str) -> None:
    merged = _by_name(merge_profiles(profiles.a, profiles.b))[name].numeric
    assert merged is not None and merged.kll is not None
    x = np.array(_present(_union_values(profiles, name)), dtype=float)
    assert merged.kll.n == len(x)
    _assert_rank_error(merged.kll, x)
    union = _by_name(profiles.union)[name].numeric
    assert union is not None and union.kll is not None
    _assert_rank_error(union.kll, x)


@pytest.mark.parametrize("name", COLUMNS)
def test_merged_distinct_within_five_percent(profiles: Profiles, name: str) -> None:
    merged = _by_name(merge_profiles(profiles.a, profiles.b))[name]
    exact = len({json.dumps(v) for v in _present(_union_values(profiles, name))})
    assert merged.distinct_count is not None
    assert abs(merged.distinct_count - exact) <= DISTINCT_ERROR * exact, (merged.distinct_count, exact)
    union = _by_name(profiles.union)[name]
    assert union.distinct_count is not None
    assert abs(merged.distinct_count - union.distinct_count) <= DISTINCT_ERROR * exact


def test_histogram_threshold_is_applied_after_merge(profiles: Profiles) -> None:
    a, b = _by_name(profiles.a)["cat_wide"], _by_name(profiles.b)["cat_wide"]
    assert a.histogram is not None and b.histogram is not None
    assert len(set(a.histogram) | set(b.histogram)) == 130
    assert _by_name(merge_profiles(profiles.a, profiles.b))["cat_wide"].histogram is None
    merged_cat = _by_name(merge_profiles(profiles.a, profiles.b))["cat"].histogram
    assert merged_cat is not None and merged_cat["pink"] == sum(v == "pink" for v in profiles.data_b["cat"])


def _assert_same_profile(left: DatasetProfile, right: DatasetProfile) -> None:
    assert left.item_count == right.item_count
    lcols, rcols = left.by_name(), right.by_name()
    assert set(lcols) == set(rcols)
    for name, lc in lcols.items():
        rc = rcols[name]
        assert (lc.inferred_type, lc.num_present, lc.num_missing) == (rc.inferred_type, rc.num_present, rc.num_missing)
        assert lc.type_counts == rc.type_counts, name
        assert lc.histogram == rc.histogram, name
        assert lc.distinct_count == rc.distinct_count, name
        assert lc.hll == rc.hll, name
        assert (lc.numeric is None) == (rc.numeric is None), name
        if lc.numeric is not None and rc.numeric is not None:
            for key in ("count", "sum", "mean", "std_dev", "min", "max"):
                lv, rv = getattr(lc.numeric, key), getattr(rc.numeric, key)
                assert lv == rv or (math.isnan(lv) and math.isnan(rv)), (name, key, lv, rv)
            assert lc.numeric.kll is not None and rc.numeric.kll is not None
            assert lc.numeric.kll.to_data() == rc.numeric.kll.to_data(), name


def test_merge_survives_statistics_json_round_trip(profiles: Profiles) -> None:
    folder = profiles.tmp / "roundtrip"
    folder.mkdir(exist_ok=True)
    write_statistics(str(folder / "a.json"), profiles.a)
    write_statistics(str(folder / "b.json"), profiles.b)
    a_back = read_statistics(str(folder / "a.json")).profile
    b_back = read_statistics(str(folder / "b.json")).profile
    in_memory = merge_profiles(profiles.a, profiles.b)
    from_files = merge_profiles(a_back, b_back)
    _assert_same_profile(from_files, in_memory)
    document = to_statistics_json(from_files)
    validate("statistics", document)
    write_statistics(str(folder / "merged.json"), from_files)
    again = read_statistics(str(folder / "merged.json")).profile
    _assert_same_profile(again, in_memory)
    for feature in document["features"]:
        numerical = feature.get("numerical_statistics")
        if numerical is not None:
            total = numerical["common"]["num_present"]
            assert sum(b["count"] for b in numerical["distribution"]["kll"]["buckets"]) == total
