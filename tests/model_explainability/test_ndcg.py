"""nDCG: the AWS guide's worked example by hand, and scikit-learn's ndcg_score as the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from monitor_service.monitors.model_explainability.ndcg import ndcg


def test_college_admission_example_by_hand() -> None:
    # AWS guide: training SAT 0.70, GPA 0.50, class rank 0.05; live 0.10, 0.20, 0.70 -> "0.69"
    baseline = {"SAT score": 0.70, "GPA": 0.50, "Class rank": 0.05}
    live = {"SAT score": 0.10, "GPA": 0.20, "Class rank": 0.70}
    dcg = 0.05 / math.log2(2) + 0.50 / math.log2(3) + 0.70 / math.log2(4)  # F' = [Class rank, GPA, SAT]
    idcg = 0.70 / math.log2(2) + 0.50 / math.log2(3) + 0.05 / math.log2(4)
    assert ndcg(baseline, live) == pytest.approx(dcg / idcg, abs=1e-15)
    assert round(ndcg(baseline, live), 3) == 0.688
    assert round(ndcg(baseline, live), 2) == 0.69


def test_same_ranking_scores_one_whatever_the_scale() -> None:
    baseline = {"a": 0.5, "b": 0.3, "c": 0.1}
    assert ndcg(baseline, {"a": 50.0, "b": 3.0, "c": 0.0001}) == pytest.approx(1.0)


def test_missing_window_feature_counts_as_zero() -> None:
    baseline = {"a": 0.5, "b": 0.3, "c": 0.1}
    assert ndcg(baseline, {"b": 0.3, "c": 0.1}) == pytest.approx(ndcg(baseline, {"a": 0.0, "b": 0.3, "c": 0.1}))
    assert ndcg(baseline, {"b": 0.3, "c": 0.1}) < 0.9


def test_undefined_without_baseline_signal() -> None:
    assert ndcg({"a": 0.0, "b": 0.0}, {"a": 1.0, "b": 2.0}) is None
    assert ndcg({}, {"a": 1.0}) is None


@settings(max_examples=200, deadline=None)
# (no subnormal gains: with all gains at 5e-324 sklearn's own tie averaging rounds to an nDCG of 1.5)
@given(st.lists(st.tuples(st.floats(0, 1, allow_nan=False, allow_subnormal=False), st.integers(0, 4)),
                min_size=2, max_size=30))
def test_equals_sklearn_ndcg_score_with_ties(pairs: list[tuple[float, int]]) -> None:
    gains = np.array([g for g, _ in pairs])
    scores = np.array([s / 4 for _, s in pairs])  # few distinct values: many ties
    if gains.sum() == 0:
        return
    names = [f"f{i}" for i in range(len(pairs))]
    ours = ndcg(dict(zip(names, gains, strict=True)), dict(zip(names, scores, strict=True)))
    assert ours == pytest.approx(ndcg_score([gains], [scores]), rel=1e-12, abs=1e-12)
