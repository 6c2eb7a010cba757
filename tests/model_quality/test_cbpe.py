"""CBPE: isotonic calibration against scikit-learn, expected counts against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, roc_auc_score

from monitor_service.monitors.model_quality.cbpe import IDENTITY, Calibration, estimate_inputs, fit_isotonic
from monitor_service.monitors.model_quality.curves import ScoreHistogram, roc_auc
from monitor_service.monitors.model_quality.statistics import metric_block


def test_isotonic_fit_equals_sklearn() -> None:
    rng = np.random.default_rng(11)
    score = np.round(rng.uniform(0, 1, 2000), 2)  # repeated scores, as in a histogram
    y = (rng.uniform(0, 1, 2000) < score**2).astype(float)
    hist = ScoreHistogram.from_rows([(float(s), float(t), float(1 - t)) for s, t in zip(score, y, strict=True)])
    ours = fit_isotonic(hist)
    reference = IsotonicRegression(out_of_bounds="clip").fit(score, y)
    grid = np.linspace(-0.1, 1.1, 301)
    np.testing.assert_allclose([ours(float(g)) for g in grid], reference.predict(grid), atol=1e-12)
    assert Calibration.from_dict(ours.to_dict()) == ours


def test_expected_counts_and_auc_from_calibrated_probabilities() -> None:
    rng = np.random.default_rng(2)
    p = np.round(rng.uniform(0, 1, 1000), 3)
    pred = p >= 0.5
    inputs = estimate_inputs([(float(s), bool(d), 1.0) for s, d in zip(p, pred, strict=True)], IDENTITY)
    assert inputs.counts.tp == pytest.approx(p[pred].sum(), abs=1e-9)
    assert inputs.counts.fp == pytest.approx((1 - p[pred]).sum(), abs=1e-9)
    assert inputs.counts.fn == pytest.approx(p[~pred].sum(), abs=1e-9)
    assert inputs.counts.tn == pytest.approx((1 - p[~pred]).sum(), abs=1e-9)
    # Expected AUC = AUC over all (record, outcome) pairs weighted by the probabilities.
    scores = np.concatenate([p, p])
    labels = np.concatenate([np.ones_like(p), np.zeros_like(p)])
    weights = np.concatenate([p, 1 - p])
    assert roc_auc(inputs.scores) == pytest.approx(roc_auc_score(labels, scores, sample_weight=weights), abs=1e-9)


def test_estimate_tracks_realized_accuracy_for_calibrated_model() -> None:
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 1, 20000)
    y = rng.uniform(0, 1, 20000) < p
    inputs = estimate_inputs([(float(s), bool(s >= 0.5), 1.0) for s in p], IDENTITY)
    block = metric_block("BinaryClassification", inputs, [], len(p))
    assert block["accuracy"]["value"] == pytest.approx(accuracy_score(y, p >= 0.5), abs=0.01)
    assert block["auc"]["value"] == pytest.approx(roc_auc_score(y, p), abs=0.01)
