"""The flip test (FT): would group d's predictions change if d were treated like group a?

As smclarify 0.5 computes it: a k-nearest-neighbour classifier (k = 5, or 1 when group a has
at most 9 records; uniform votes, Euclidean distance on the unscaled features) is fitted on
group a's features and the model's predicted labels, then asked about every record of d.
FT = (#d the model predicts positive but the kNN negative - #d the model predicts negative
but the kNN positive) / n_d, so a model that disadvantages d gives a NEGATIVE value (the AWS
documentation states the opposite sign; we follow the library). Features are every column
except the facet, the label and the predicted label; a non-numeric column makes FT fail.

The kNN is brute force in numpy over a bounded, seeded sample of the records (the job reports
its size); it never needs more than `CHUNK` x n_a distances in memory at once. For the drift
rule FT is bootstrapped by resampling both groups and refitting the kNN (`MAX_REPLICATES` times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DEFAULT_NEIGHBOURS = 5
MIN_NEIGHBOURS = 1
SMALL_GROUP = 9  # group a with at most this many records uses one neighbour
CHUNK = 512
NON_NUMERIC = "FlipTest does not support non-numeric columns"


MAX_REPLICATES = 30  # kNN refits per bootstrap of FT
REPLICATE_GROUP = 2000  # records per group in one refit; larger samples are subsampled (m-out-of-n)


@dataclass
class FlipOutcome:
    """FT's value, or its error, and the data it came from (for the bootstrap, which refits the kNN)."""

    value: float | None
    error: str | None = None
    train: NDArray[np.float64] | None = None  # group a's features
    train_labels: NDArray[np.bool_] | None = None  # the model's predictions for a
    query: NDArray[np.float64] | None = None  # group d's features
    model: NDArray[np.bool_] | None = None  # the model's predictions for d


@dataclass
class FlipSample:
    """The records FT is computed on: their fields, facet keys and positive predictions."""

    fields: list[dict[str, str | None]]
    keys: list[list[str | None]]
    predicted: list[bool]
    limit: int
    usable: int


def knn_predict(train: NDArray[np.float64], labels: NDArray[np.bool_], query: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Majority vote of the k nearest training rows (k as Clarify picks it) for each query row."""
    k = DEFAULT_NEIGHBOURS if len(train) > SMALL_GROUP else MIN_NEIGHBOURS
    k = min(k, len(train))
    train_sq = np.einsum("ij,ij->i", train, train)
    out = np.empty(len(query), dtype=bool)
    votes = labels.astype(np.int64)
    for start in range(0, len(query), CHUNK):
        block = query[start : start + CHUNK]
        dist = train_sq[None, :] - 2.0 * block @ train.T + np.einsum("ij,ij->i", block, block)[:, None]
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k] if k < len(train) else np.tile(
            np.arange(len(train)), (len(block), 1))
        out[start : start + CHUNK] = votes[nearest].sum(axis=1) * 2 > k
    return out


def flip_test(
    features: NDArray[np.float64] | None, in_d: NDArray[np.bool_], predicted: NDArray[np.bool_]
) -> FlipOutcome:
    """FT over rows of numeric `features` (None when a feature column is not numeric)."""
    if not in_d.any():
        return FlipOutcome(None, "Facet set is empty")
    if in_d.all():
        return FlipOutcome(None, "Negated Facet set is empty")
    if features is None:
        return FlipOutcome(None, NON_NUMERIC)
    if features.shape[1] == 0:
        return FlipOutcome(None, "FlipTest needs at least one feature column besides the facet and the labels")
    outcome = FlipOutcome(None, None, features[~in_d], predicted[~in_d], features[in_d], predicted[in_d])
    outcome.value = _ft(outcome.train, outcome.train_labels, outcome.query, outcome.model)
    return outcome


def _ft(train: NDArray[np.float64], labels: NDArray[np.bool_], query: NDArray[np.float64],
        model: NDArray[np.bool_]) -> float:
    knn = knn_predict(train, labels, query)
    flips = (model & ~knn).astype(np.int64) - (~model & knn).astype(np.int64)
    return float(flips.sum()) / len(flips) if len(flips) else 0.0


def bootstrap_flip_values(outcome: FlipOutcome, replicates: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """FT over resamples of both groups, the kNN refitted on each (at most `MAX_REPLICATES` of them).

    Holding the kNN fixed would leave out its own variability, which dominates FT's noise: a fair
    model's FT moves by several hundredths between samples of the same distribution. A group
    larger than `REPLICATE_GROUP` is resampled at that size (an m-out-of-n bootstrap, each refit
    costing m² distances instead of n²) and the spread rescaled by sqrt(m / n) around FT's value.
    """
    if outcome.train is None or outcome.query is None or outcome.train_labels is None or outcome.model is None:
        return np.array([])
    n_a, n_d = len(outcome.train), len(outcome.query)
    m_a, m_d = min(n_a, REPLICATE_GROUP), min(n_d, REPLICATE_GROUP)
    values = []
    for _ in range(min(replicates, MAX_REPLICATES)):
        a = rng.integers(0, n_a, m_a)
        d = rng.integers(0, n_d, m_d)
        values.append(_ft(outcome.train[a], outcome.train_labels[a], outcome.query[d], outcome.model[d]))
    spread = np.array(values, dtype=float)
    if m_d == n_d and m_a == n_a:
        return spread
    scale = np.sqrt(m_d / n_d)
    return float(outcome.value or 0.0) + (spread - spread.mean()) * scale
