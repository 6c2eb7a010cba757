"""The bias-drift rule: allowed ranges, bootstrap intervals, and small windows that must not alarm."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from monitor_service.monitors.model_bias.counts import CountTable, bootstrap_tables
from monitor_service.monitors.model_bias.drift import (
    DriftSettings,
    allowed_range,
    check_metric,
    confidence_interval,
    format_value,
)
from monitor_service.monitors.model_bias.metrics import compute_metrics, replicate_values
from tests.model_bias.oracle import table_from_arrays


def _window(n: int, q_a: float, q_d: float, seed: int = 0) -> CountTable:
    """n records, half in d; predicted positive with the given rates (exact proportions)."""
    rng = np.random.default_rng(seed)
    in_d = np.arange(n) % 2 == 1
    pred = np.where(in_d, np.arange(n) // 2 < round(q_d * n / 2), np.arange(n) // 2 < round(q_a * n / 2))
    label = rng.random(n) < 0.5
    return table_from_arrays(in_d, label, pred, None)


def test_allowed_ranges() -> None:
    assert allowed_range("DPPL", -0.2) == (-0.2, 0.2)
    assert allowed_range("DPPL", 0.2) == (-0.2, 0.2)
    assert allowed_range("DI", 0.8) == pytest.approx((0.8, 1.25))
    assert allowed_range("DI", 1.25) == pytest.approx((0.8, 1.25))
    assert allowed_range("DI", 0.0) == (0.0, math.inf)


def test_normal_interval_is_value_plus_minus_z_sd() -> None:
    replicates = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    z = NormalDist().inv_cdf(0.975)
    sd = float(np.std(replicates, ddof=1))
    assert confidence_interval(0.2, replicates, 0.95) == pytest.approx((0.2 - z * sd, 0.2 + z * sd))
    # too few computable resamples: no interval at all, so nothing can be flagged
    assert confidence_interval(0.2, np.array([0.1, np.nan, np.nan, np.nan]), 0.95) == (-math.inf, math.inf)
    # infinite resamples: percentile interval instead of a normal one
    lo, hi = confidence_interval(math.inf, np.array([math.inf] * 39 + [3.0]), 0.9)
    assert confidence_interval(math.inf, np.array([math.inf] * 9 + [3.0]), 0.9) == (3.0, math.inf)
    assert (lo, hi) == (math.inf, math.inf)


def test_bootstrap_is_a_multinomial_resample_of_the_records() -> None:
    table = _window(1000, 0.5, 0.3)
    draws = bootstrap_tables(table, 4000, np.random.default_rng(1))
    assert draws.shape == (4000, *table.cells.shape) and (draws.sum(axis=(1, 2, 3, 4)) == 1000).all()
    dppl = replicate_values(draws, "DPPL", False)
    # Binomial standard errors of the two selection rates (500 records each), added in quadrature.
    expected_sd = math.sqrt(0.5 * 0.5 / 500 + 0.3 * 0.7 / 500)
    assert float(np.mean(dppl)) == pytest.approx(0.2, abs=0.003)
    assert float(np.std(dppl)) == pytest.approx(expected_sd, rel=0.06)


@pytest.mark.parametrize(("n", "violated"), [(40, False), (20_000, True)])
def test_small_window_with_wide_interval_does_not_violate_large_one_does(n: int, violated: bool) -> None:
    """Baseline DPPL 0.05. Both windows have DPPL 0.2 (farther from 0), but only the large one is sure of it."""
    settings = DriftSettings(bootstrap_samples=300, seed=3)
    table = _window(n, 0.5, 0.3)
    [dppl] = compute_metrics(table, ["DPPL"])
    assert dppl.value == pytest.approx(0.2)
    replicates = replicate_values(bootstrap_tables(table, 300, np.random.default_rng(3)), "DPPL", False)
    check = check_metric("DPPL", dppl.value, 0.05, replicates, settings)
    assert check is not None
    assert check.violated is violated
    assert check.allowed == (-0.05, 0.05)
    if not violated:
        assert check.interval[0] < 0.05  # the interval reaches into the allowed range
    assert check.description() == (
        f"Metric value {dppl.value!r} doesn't meet the baseline constraint requirement 0.05"
    )


def test_di_uses_ratio_range_and_thresholds_override_the_baseline() -> None:
    table = _window(20_000, 0.5, 0.3)
    [di] = compute_metrics(table, ["DI"])
    assert di.value == pytest.approx(0.6)
    replicates = replicate_values(bootstrap_tables(table, 200, np.random.default_rng(0)), "DI", False)
    strict = check_metric("DI", di.value, 0.9, replicates, DriftSettings())
    assert strict is not None and strict.violated and strict.allowed == pytest.approx((0.9, 1 / 0.9))
    # A window at 1/0.6 is as far from parity in ratio terms: same verdict.
    inverse = check_metric("DI", 1 / di.value, 0.9, 1 / replicates, DriftSettings())
    assert inverse is not None and inverse.violated
    loose = DriftSettings(thresholds={"DI": 0.5})
    relaxed = check_metric("DI", di.value, 0.9, replicates, loose)
    assert relaxed is not None and not relaxed.violated and relaxed.requirement == 0.5


def test_unchecked_cases_and_formatting() -> None:
    settings = DriftSettings()
    assert check_metric("DPPL", None, 0.1, np.array([]), settings) is None
    assert check_metric("DPPL", 0.3, None, np.array([]), settings) is None
    assert check_metric("TE", 0.3, math.inf, np.array([]), settings) is None
    # Clarify's real violation: TE Infinity against 2.9167 (every resample infinite too)
    te = check_metric("TE", math.inf, 2.916666666666667, np.full(100, math.inf), settings)
    assert te is not None and te.violated
    assert te.description() == (
        "Metric value Infinity doesn't meet the baseline constraint requirement 2.916666666666667"
    )
    assert format_value(-math.inf) == "-Infinity"


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="unknown metrics"):
        DriftSettings(thresholds={"XYZ": 0.1})
    with pytest.raises(ValueError, match="DI"):
        DriftSettings(thresholds={"DI": 0.0})
    with pytest.raises(ValueError):
        DriftSettings(confidence_level=1.0)


def test_flip_test_interval_includes_the_knn_noise_of_a_fair_model() -> None:
    """Two samples of one fair model: FT differs by kNN noise alone, which the refitted bootstrap covers."""
    from monitor_service.monitors.model_bias.flip_test import MAX_REPLICATES, bootstrap_flip_values, flip_test

    def sample(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(1500, 3))
        in_d = rng.random(1500) < 0.5
        predicted = rng.random(1500) < 1 / (1 + np.exp(-2 * x[:, 0]))  # depends on the features only
        return x, in_d, predicted

    quiet = 0
    for seed in range(5):
        baseline = flip_test(*sample(100 + seed))
        window = flip_test(*sample(seed))
        assert baseline.value is not None and window.value is not None
        replicates = bootstrap_flip_values(window, 200, np.random.default_rng(seed))
        assert len(replicates) == MAX_REPLICATES and float(np.std(replicates)) > 0.005
        check = check_metric("FT", window.value, baseline.value, replicates, DriftSettings())
        quiet += check is None or not check.violated
    assert quiet == 5


def test_flip_test_bootstrap_of_a_large_sample_is_rescaled_from_subsamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """m-out-of-n: the spread of refits on subsamples (here 400 records), scaled by sqrt(m/n), matches full refits."""
    from monitor_service.monitors.model_bias import flip_test as ft

    monkeypatch.setattr(ft, "REPLICATE_GROUP", 400)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3000, 2))
    in_d = rng.random(3000) < 0.5
    predicted = rng.random(3000) < 1 / (1 + np.exp(-2 * x[:, 0] + 0.3 * in_d))
    outcome = ft.flip_test(x, in_d, predicted)
    fast = ft.bootstrap_flip_values(outcome, 30, np.random.default_rng(1))
    assert float(np.mean(fast)) == pytest.approx(outcome.value)
    full = []
    draw = np.random.default_rng(2)
    assert outcome.train is not None and outcome.query is not None
    for _ in range(30):
        a = draw.integers(0, len(outcome.train), len(outcome.train))
        d = draw.integers(0, len(outcome.query), len(outcome.query))
        full.append(ft._ft(outcome.train[a], outcome.train_labels[a], outcome.query[d], outcome.model[d]))
    assert float(np.std(fast)) == pytest.approx(float(np.std(full)), rel=0.5)
