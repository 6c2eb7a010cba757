"""The Spark profiler against numpy / pandas on ~20k generated rows.

Exact: counts, missing, type counts, categorical histograms. To 1e-9 relative: mean, sum,
population std, min, max. Within 1% rank error: KLL quantiles. Within 5%: HLL distinct counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monitor_service.core.profile import ColumnProfile, DatasetProfile
from monitor_service.monitors.data_quality.baseline_job import run_baseline
from monitor_service.monitors.data_quality.requests import BaselineRequest
from monitor_service.schemas import validate
from monitor_service.spark.profiler import profile_records
from monitor_service.spark.reader import read_input
from monitor_service.specs import DatasetConfig, InputSpec

pytestmark = pytest.mark.spark

N_ROWS = 20_000
REL = 1e-9
RANK_ERROR = 0.01
DISTINCT_ERROR = 0.05
QUANTILES = np.linspace(0.01, 0.99, 99)

EXPECTED_TYPES = {
    "neg_float": "Fractional", "int_small": "Integral", "big_int": "Integral", "mixed_num": "Fractional",
    "category": "String", "hi_card": "String", "flag": "Boolean", "mixed_str": "String",
}
NUMERIC = ["neg_float", "int_small", "big_int", "mixed_num"]


def _blank_some(rng: np.random.Generator, values: list[str], fraction: float) -> list[str | None]:
    missing = rng.random(len(values)) < fraction
    return [None if m else v for v, m in zip(values, missing, strict=True)]


def generate_columns(seed: int, n: int) -> dict[str, list[str | None]]:
    """Column name -> the exact value texts written (None = missing)."""
    rng = np.random.default_rng(seed)
    mixed = []
    for kind, v in zip(rng.integers(0, 10, n), rng.normal(50.0, 20.0, n), strict=True):
        if kind == 0:
            mixed.append(str(round(float(v))))       # an Integral text in a Fractional column
        elif kind == 1:
            mixed.append(f"{float(v):.6e}")          # exponent notation
        else:
            mixed.append(repr(float(v)))
    return {
        "neg_float": _blank_some(rng, [repr(float(v)) for v in rng.normal(-3.0, 10.0, n)], 0.05),
        "int_small": _blank_some(rng, [str(int(v)) for v in rng.integers(-50, 51, n)], 0.03),
        "big_int": [str(int(v)) for v in rng.integers(-1_000_000, 1_000_000, n)],
        "mixed_num": mixed,
        "category": _blank_some(rng, list(rng.choice(["red", "green", "blue", "black", "white"], n,
                                                     p=[0.4, 0.25, 0.2, 0.1, 0.05])), 0.02),
        "hi_card": _blank_some(rng, [f"user_{int(k)}" for k in rng.integers(0, 40_000, n)], 0.01),
        "flag": _blank_some(rng, ["true" if b else "false" for b in rng.random(n) < 0.3], 0.005),
        "mixed_str": ["N/A" if k == 0 else str(int(v)) for k, v in zip(rng.integers(0, 50, n),
                                                                      rng.integers(0, 1000, n), strict=True)],
    }


def write_csv(path: Path, columns: dict[str, list[str | None]]) -> None:
    names = list(columns)
    rows = zip(*(columns[c] for c in names), strict=True)
    lines = [",".join(names)] + [",".join("" if v is None else v for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Profiled:
    columns: dict[str, list[str | None]]
    profile: DatasetProfile
    stats_path: Path
    records_valid: int


@pytest.fixture(scope="module")
def profiled(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Profiled:
    root = tmp_path_factory.mktemp("profiler")
    columns = generate_columns(seed=20240501, n=N_ROWS)
    data = root / "data.csv"
    write_csv(data, columns)
    spec = InputSpec(path=str(data), format="csv", dataset_config=DatasetConfig(header=True))
    read = read_input(spark, spec, None)
    try:
        profile = profile_records(read.df, read.records_valid)
    finally:
        read.release()
    out = root / "baseline"
    summary = run_baseline(spark, BaselineRequest(input=spec, output_dir=str(out)))
    assert summary.status == "Completed", summary.failure_reason
    return Profiled(columns, profile, out / "statistics.json", read.records_valid)


def _column(p: Profiled, name: str) -> ColumnProfile:
    return p.profile.by_name()[name]


def _present(values: list[str | None]) -> list[str]:
    return [v for v in values if v is not None]


def test_columns_and_item_count(profiled: Profiled) -> None:
    assert profiled.records_valid == N_ROWS
    assert profiled.profile.item_count == N_ROWS
    assert [c.name for c in profiled.profile.columns] == list(profiled.columns)


@pytest.mark.parametrize("name", list(EXPECTED_TYPES))
def test_counts_and_inferred_type(profiled: Profiled, name: str) -> None:
    values = profiled.columns[name]
    column = _column(profiled, name)
    present = len(_present(values))
    assert column.num_present == present
    assert column.num_missing == N_ROWS - present
    assert column.inferred_type.value == EXPECTED_TYPES[name]


def test_type_counts_of_mixed_columns(profiled: Profiled) -> None:
    mixed_str = profiled.columns["mixed_str"]
    na = sum(v == "N/A" for v in mixed_str)
    counts = _column(profiled, "mixed_str").type_counts
    assert (counts["String"], counts["Integral"], counts["Fractional"], counts["Unknown"]) == (na, N_ROWS - na, 0, 0)
    mixed_num = profiled.columns["mixed_num"]
    integral = sum("." not in v and "e" not in v for v in _present(mixed_num))
    counts = _column(profiled, "mixed_num").type_counts
    assert (counts["Integral"], counts["Fractional"], counts["String"]) == (integral, N_ROWS - integral, 0)
    flag = _column(profiled, "flag").type_counts
    assert flag["Boolean"] == len(_present(profiled.columns["flag"]))


@pytest.mark.parametrize("name", NUMERIC)
def test_moments_match_numpy(profiled: Profiled, name: str) -> None:
    x = np.array([float(v) for v in _present(profiled.columns[name])])
    numeric = _column(profiled, name).numeric
    assert numeric is not None
    assert numeric.count == len(x)
    assert numeric.sum == pytest.approx(float(np.sum(x)), rel=REL)
    assert numeric.mean == pytest.approx(float(np.mean(x)), rel=REL)
    assert numeric.std_dev == pytest.approx(float(np.std(x)), rel=REL)  # population (ddof=0)
    assert numeric.min == float(np.min(x))
    assert numeric.max == float(np.max(x))


def _assert_quantiles_within_rank_error(sketch: Any, x: np.ndarray, tolerance: float = RANK_ERROR) -> None:
    data = np.sort(x)
    n = len(data)
    estimates = np.asarray(sketch.quantile(QUANTILES), dtype=float)
    low = np.searchsorted(data, estimates, side="left") / n    # rank interval of the estimate (ties)
    high = np.searchsorted(data, estimates, side="right") / n
    worst = float(np.max(np.maximum(low - QUANTILES, QUANTILES - high).clip(min=0.0)))
    assert worst <= tolerance, f"worst rank error {worst:.4f}"
    exact = np.quantile(data, QUANTILES, method="inverted_cdf")
    assert np.all(np.isin(estimates, data))  # sketch items are data values
    assert np.max(np.abs(np.searchsorted(data, exact, side="right") / n
                         - np.searchsorted(data, estimates, side="right") / n)) <= 2 * tolerance


@pytest.mark.parametrize("name", NUMERIC)
def test_kll_quantiles_within_one_percent_rank_error(profiled: Profiled, name: str) -> None:
    x = np.array([float(v) for v in _present(profiled.columns[name])])
    numeric = _column(profiled, name).numeric
    assert numeric is not None and numeric.kll is not None
    assert numeric.kll.n == len(x)
    _assert_quantiles_within_rank_error(numeric.kll, x)


@pytest.mark.parametrize("name", list(EXPECTED_TYPES))
def test_distinct_count_within_five_percent(profiled: Profiled, name: str) -> None:
    exact = len(set(_present(profiled.columns[name])))
    estimate = _column(profiled, name).distinct_count
    assert estimate is not None
    assert abs(estimate - exact) <= DISTINCT_ERROR * exact, (estimate, exact)


@pytest.mark.parametrize("name", ["category", "flag", "int_small"])
def test_low_cardinality_histograms_are_exact(profiled: Profiled, name: str) -> None:
    expected = pd.Series(profiled.columns[name], dtype="object").value_counts(dropna=True)
    assert _column(profiled, name).histogram == {str(k): float(v) for k, v in expected.items()}


@pytest.mark.parametrize("name", ["hi_card", "big_int", "neg_float"])
def test_high_cardinality_columns_have_no_histogram(profiled: Profiled, name: str) -> None:
    assert len(set(_present(profiled.columns[name]))) > 120
    assert _column(profiled, name).histogram is None


def test_statistics_json_is_valid_and_buckets_sum_to_present(profiled: Profiled) -> None:
    stats = json.loads(profiled.stats_path.read_text())
    validate("statistics", stats)
    assert stats["dataset"]["item_count"] == N_ROWS
    features = {f["name"]: f for f in stats["features"]}
    assert {n: f["inferred_type"] for n, f in features.items()} == EXPECTED_TYPES
    for name in NUMERIC:
        x = np.array([float(v) for v in _present(profiled.columns[name])])
        numerical = features[name]["numerical_statistics"]
        assert numerical["common"]["num_present"] == len(x)
        kll = numerical["distribution"]["kll"]
        assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
        weight = sum(len(level) * 2**h for h, level in enumerate(kll["sketch"]["data"]))
        assert weight == len(x)
        buckets = kll["buckets"]
        assert len(buckets) == 10
        assert sum(b["count"] for b in buckets) == len(x)
        assert buckets[0]["lower_bound"] == float(np.min(x))
        assert buckets[-1]["upper_bound"] == float(np.max(x))
        for i, b in enumerate(buckets):
            inside = (x >= b["lower_bound"]) & ((x < b["upper_bound"]) if i < 9 else (x <= b["upper_bound"]))
            assert abs(b["count"] - int(np.sum(inside))) <= 2 * RANK_ERROR * len(x), (name, i)
    category = features["category"]["string_statistics"]
    buckets = category["distribution"]["categorical"]["buckets"]
    expected = pd.Series(profiled.columns["category"], dtype="object").value_counts(dropna=True)
    assert [(b["value"], b["count"]) for b in buckets] == [(str(k), float(v)) for k, v in expected.items()]
    assert "distribution" not in features["hi_card"]["string_statistics"]


def test_spark_sketch_of_many_values_reads_back(spark: Any) -> None:
    """Once every register is set, Spark's union result keeps curMin > 0 in the header: a baseline's
    sketch of a high-cardinality column must still read back (it failed analyses against it)."""
    from monitor_service.core import hll

    row = spark.range(0, 150_000).selectExpr("hll_sketch_agg(cast(id as string)) AS s").collect()[0]
    blob = bytes(row["s"])
    assert blob[7] & 3 == 2  # a full HLL_8 array
    assert hll.estimate(blob) == pytest.approx(150_000, rel=0.05)
