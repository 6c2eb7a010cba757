"""Drift methods against independent numpy / scipy references.

Below 2048 values a KLL sketch holds the raw values, so every method must equal its scipy /
numpy reference to float precision; above that the sketch compacts and agreement is within
sketch error (0.01). References are computed on the raw values, never with the code under test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from drift_references import CATEGORICAL_REFERENCE, NUMERIC_REFERENCE
from hypothesis import given, settings
from hypothesis import strategies as st
from profile_builders import numeric_column, profile_from_sagemaker_statistics, string_column
from scipy import stats

from monitor_service.core import drift
from monitor_service.core.drift import ColumnKind
from monitor_service.core.drift.chi_squared import chi2_sf
from monitor_service.errors import ConfigError

NUMERIC, CATEGORICAL = ColumnKind.NUMERIC, ColumnKind.CATEGORICAL

rng = np.random.default_rng(20240501)
NUMERIC_CASES = {
    "normal_shift": (rng.normal(0, 1, 800), rng.normal(0.3, 1.2, 600)),
    "integers_with_ties": (rng.integers(0, 12, 700).astype(float), rng.integers(2, 14, 500).astype(float)),
    "small_windows": (rng.exponential(2.0, 40), rng.exponential(2.5, 25)),
    "identical": (np.arange(100.0), np.arange(100.0)),
}
CATEGORICAL_CASES = {
    "three_categories": ({"a": 500, "b": 300, "c": 200}, {"a": 420, "b": 330, "c": 250}),
    "five_categories": (
        {"x": 120, "y": 90, "z": 60, "w": 20, "v": 10},
        {"x": 100, "y": 100, "z": 50, "w": 30, "v": 20, "new": 7},
    ),
}


def compute(method: str, kind: ColumnKind, baseline: object, current: object) -> float | None:
    return drift.get(method).compute(baseline, current, kind)  # type: ignore[arg-type]


def on_values(method: str, a: object, b: object) -> float | None:
    """The method on numeric columns sketched from raw values `a` (baseline) and `b`."""
    return compute(method, NUMERIC, numeric_column("x", a), numeric_column("x", b))  # type: ignore[arg-type]


def on_counts(method: str, a: dict[str, float] | None, b: dict[str, float] | None) -> float | None:
    """The method on categorical columns with histograms `a` (baseline) and `b`."""
    return compute(method, CATEGORICAL, string_column("s", a), string_column("s", b))


# ---------------------------------------------------------------- registry
def test_every_registered_method_has_reference_cases() -> None:
    """Registry exhaustiveness: each (method, kind) the registry supports has a reference here."""
    for method in drift.DRIFT_METHODS:
        assert (NUMERIC in method.kinds) == (method.name in NUMERIC_REFERENCE), method.name
        assert (CATEGORICAL in method.kinds) == (method.name in CATEGORICAL_REFERENCE), method.name


def test_sagemaker_aliases_resolve() -> None:
    assert drift.get("Simple").name == "linf_simple"
    assert drift.get("Robust").name == "linf_robust"
    assert drift.get("LInfinity").name == "linf_simple"
    assert drift.get("ChiSquared").name == "chi_squared"
    numeric = ["linf_simple", "linf_robust", "psi", "jensen_shannon", "wasserstein", "ks"]
    categorical = ["linf_simple", "linf_robust", "chi_squared", "psi", "jensen_shannon"]
    assert (drift.methods_for(NUMERIC), drift.methods_for(CATEGORICAL)) == (numeric, categorical)


def test_unknown_method_error_lists_registry_keys() -> None:
    with pytest.raises(ConfigError) as info:
        drift.get("hellinger")
    for name in drift.names():
        assert name in str(info.value)


def test_p_value_methods_drift_below_threshold() -> None:
    assert drift.get("chi_squared").is_drift(0.01, 0.05)
    assert not drift.get("chi_squared").is_drift(0.2, 0.05)
    assert drift.get("psi").is_drift(0.2, 0.1)
    assert not drift.get("psi").is_drift(math.nan, 0.1)


# ---------------------------------------------------------------- exact agreement below 2048 values
@pytest.mark.parametrize("case", sorted(NUMERIC_CASES))
@pytest.mark.parametrize("method", sorted(NUMERIC_REFERENCE))
def test_numeric_methods_equal_scipy_on_raw_values(method: str, case: str) -> None:
    a, b = NUMERIC_CASES[case]
    got = compute(method, NUMERIC, numeric_column("x", a), numeric_column("x", b))
    assert got == pytest.approx(NUMERIC_REFERENCE[method](a, b), abs=1e-12)


@pytest.mark.parametrize("case", sorted(CATEGORICAL_CASES))
@pytest.mark.parametrize("method", sorted(CATEGORICAL_REFERENCE))
def test_categorical_methods_equal_references(method: str, case: str) -> None:
    a, b = CATEGORICAL_CASES[case]
    got = compute(method, CATEGORICAL, string_column("s", a), string_column("s", b))
    assert got == pytest.approx(CATEGORICAL_REFERENCE[method](a, b), rel=1e-9, abs=1e-12)


def test_robust_correction_numbers() -> None:
    """n = m = 100 subtracts 1.8·sqrt(0.02) = 0.254558441227157 from the L∞ distance."""
    a, b = np.arange(100.0), np.arange(100.0) + 40  # sup |F_a − F_b| = 0.40 exactly
    assert on_values("linf_simple", a, b) == pytest.approx(0.4)
    assert on_values("linf_robust", a, b) == pytest.approx(0.4 - 0.254558441227157, abs=1e-12)
    near = np.arange(100.0) + 20  # L∞ 0.2 < correction -> clamped to 0
    assert on_values("linf_robust", a, near) == 0.0


def test_real_sagemaker_sketches_match_scipy(fixtures_dir: Path) -> None:
    """Sketches from a real container-written statistics.json (one level = the 100 raw values)."""
    path = fixtures_dir / "data_quality_statistics_numeric_6features.json"
    columns = profile_from_sagemaker_statistics(path).by_name()
    for left, right in [("_c2", "_c4"), ("_c3", "_c5"), ("_c0", "_c1")]:
        a = np.array(columns[left].numeric.kll.levels[0])  # type: ignore[union-attr]
        b = np.array(columns[right].numeric.kll.levels[0])  # type: ignore[union-attr]
        for method in ("linf_simple", "linf_robust", "ks"):
            got = compute(method, NUMERIC, columns[left], columns[right])
            assert got == pytest.approx(NUMERIC_REFERENCE[method](a, b), abs=1e-12), (method, left, right)
        # wasserstein uses the file's std_dev, which is the population std of the raw values
        assert columns[left].numeric.std_dev == pytest.approx(np.std(a), rel=1e-12)  # type: ignore[union-attr]


# ---------------------------------------------------------------- compacted sketches
def test_big_data_agrees_with_scipy_within_sketch_error() -> None:
    big = np.random.default_rng(7)
    a, b = big.normal(0, 1, 20_000), big.normal(0.25, 1.1, 12_000)
    ca, cb = numeric_column("x", a), numeric_column("x", b)
    assert len(ca.numeric.kll.levels) > 1  # type: ignore[union-attr]  # the sketch really compacted
    for method, reference in NUMERIC_REFERENCE.items():
        assert compute(method, NUMERIC, ca, cb) == pytest.approx(reference(a, b), abs=0.01), method


# ---------------------------------------------------------------- chi-squared specifics (Deequ)
def test_chi_squared_regroups_small_expected_counts() -> None:
    """Expected {a:50, b:45, c:3, d:2}: d (2) merges into c -> [40, 50, 10] vs [50, 45, 5] by hand."""
    got = on_counts("chi_squared", {"a": 50, "b": 45, "c": 3, "d": 2}, {"a": 40, "b": 50, "c": 5, "d": 5})
    assert got == pytest.approx(stats.chisquare([40, 50, 10], [50, 45, 5]).pvalue, rel=1e-9)


def test_chi_squared_two_categories_use_cochran_threshold() -> None:
    """2 categories: any expected count < 10 merges them into one -> NaN (cannot test)."""
    got = on_counts("chi_squared", {"a": 95, "b": 5}, {"a": 50, "b": 50})
    assert got is not None and math.isnan(got)
    ok = on_counts("chi_squared", {"a": 60, "b": 40}, {"a": 40, "b": 60})
    assert ok == pytest.approx(stats.chisquare([40, 60], [60, 40]).pvalue, rel=1e-9)


def test_chi_squared_ignores_current_only_categories_and_nulls() -> None:
    baseline = {"a": 500, "b": 500, "NullValue": 40}
    current = {"a": 450, "b": 520, "brand_new": 30, "NullValue": 900}
    got = on_counts("chi_squared", baseline, current)
    assert got == pytest.approx(stats.chisquare([450, 520], [485, 485]).pvalue, rel=1e-9)


def test_chi_squared_is_nan_without_overlap() -> None:
    got = on_counts("chi_squared", {"a": 10, "b": 10}, {"z": 9})
    assert got is not None and math.isnan(got)


@pytest.mark.parametrize("dof", [1, 2, 3, 7, 30, 150])
@pytest.mark.parametrize("statistic", [0.0, 0.004, 0.5, 3.0, 11.0, 40.0, 250.0, 900.0])
def test_chi2_survival_function_matches_scipy(statistic: float, dof: int) -> None:
    assert chi2_sf(statistic, dof) == pytest.approx(stats.chi2.sf(statistic, dof), rel=1e-9, abs=1e-300)


# ---------------------------------------------------------------- missing state, nulls
def test_missing_sketch_or_histogram_gives_none() -> None:
    with_sketch = numeric_column("x", [1.0, 2.0, 3.0])
    without = numeric_column("x", [1.0, 2.0, 3.0])
    without.numeric.kll = None  # type: ignore[union-attr]
    assert compute("linf_robust", NUMERIC, without, with_sketch) is None
    assert compute("linf_robust", NUMERIC, with_sketch, without) is None
    assert on_counts("psi", None, {"a": 3}) is None
    assert on_counts("psi", {"NullValue": 4}, {"a": 3}) is None


def test_null_bucket_is_not_a_category() -> None:
    a, b = {"a": 60, "b": 40, "NullValue": 500}, {"a": 60, "b": 40}
    assert on_counts("linf_simple", a, b) == 0.0


def test_unsupported_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="does not support categorical"):
        compute("wasserstein", CATEGORICAL, string_column("s", {"a": 1}), string_column("s", {"a": 1}))


def test_wasserstein_floor_for_constant_baseline() -> None:
    a, b = np.full(50, 3.0), np.full(50, 3.5)
    got = on_values("wasserstein", a, b)
    assert got == pytest.approx(stats.wasserstein_distance(a, b) / 0.001)


# ---------------------------------------------------------------- laws (hypothesis)
values = st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)), min_size=1, max_size=120)
counts = st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 500), min_size=1, max_size=8)
DISTANCES_NUMERIC = ["linf_simple", "linf_robust", "psi", "jensen_shannon", "wasserstein", "ks"]
DISTANCES_CATEGORICAL = ["linf_simple", "linf_robust", "psi", "jensen_shannon"]


@settings(max_examples=60, deadline=None)
@given(values)
def test_identical_numeric_inputs_have_zero_distance(xs: list[float]) -> None:
    for method in DISTANCES_NUMERIC:
        assert on_values(method, xs, xs) == pytest.approx(0.0, abs=1e-12), method


@settings(max_examples=60, deadline=None)
@given(counts)
def test_identical_histograms_have_zero_distance_and_p_value_one(hist: dict[str, int]) -> None:
    for method in DISTANCES_CATEGORICAL:
        assert on_counts(method, hist, hist) == pytest.approx(0.0)  # type: ignore[arg-type]
    p = on_counts("chi_squared", hist, hist)  # type: ignore[arg-type]
    assert p is not None and (math.isnan(p) or p == pytest.approx(1.0))


@settings(max_examples=60, deadline=None)
@given(values, values)
def test_symmetric_numeric_distances_and_robust_below_simple(xs: list[float], ys: list[float]) -> None:
    a, b = numeric_column("x", xs), numeric_column("x", ys)
    for method in ("linf_simple", "ks", "linf_robust"):
        assert compute(method, NUMERIC, a, b) == pytest.approx(compute(method, NUMERIC, b, a), abs=1e-12)
    simple = compute("linf_simple", NUMERIC, a, b)
    robust = compute("linf_robust", NUMERIC, a, b)
    assert simple is not None and robust is not None and 0.0 <= robust <= simple <= 1.0


@settings(max_examples=60, deadline=None)
@given(counts, counts)
def test_symmetric_categorical_distances_and_bounds(x: dict[str, int], y: dict[str, int]) -> None:
    a, b = string_column("s", x), string_column("s", y)
    for method in DISTANCES_CATEGORICAL:
        forward, backward = compute(method, CATEGORICAL, a, b), compute(method, CATEGORICAL, b, a)
        assert forward == pytest.approx(backward, abs=1e-12), method
    simple, robust = compute("linf_simple", CATEGORICAL, a, b), compute("linf_robust", CATEGORICAL, a, b)
    assert simple is not None and robust is not None and 0.0 <= robust <= simple <= 1.0
    js = compute("jensen_shannon", CATEGORICAL, a, b)
    assert js is not None and 0.0 <= js <= math.sqrt(math.log(2)) + 1e-12
