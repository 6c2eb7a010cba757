"""Shared ways to turn two sketches or two histograms into comparable distributions.

Every drift method compares the same few things: two CDFs on the union of sketch items (Deequ
`Distance.numericalDistance`), two category-frequency vectors over the union of categories, or
two binned distributions on the baseline deciles. Keeping them here means each method module
holds only its own formula.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from monitor_service.core.kll import KllSketch

# Deequ's histogram key for nulls; drift and domain checks look at present values only.
NULL_VALUE = "NullValue"
NUM_BINS = 10
# Evidently's smoothing for empty bins in PSI (`get_binned_data(feel_zeroes=True)`).
EPSILON = 1e-4


def present_counts(histogram: Mapping[str, float] | None) -> dict[str, float] | None:
    """The histogram without the null bucket, or None when there is no histogram."""
    if histogram is None:
        return None
    return {value: float(count) for value, count in histogram.items() if value != NULL_VALUE}


def union_cdfs(a: KllSketch, b: KllSketch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both CDFs (rank / total weight) evaluated at every item of either sketch, sorted."""
    grid = np.union1d(a.sorted_items()[0], b.sorted_items()[0])
    return grid, np.asarray(a.cdf(grid), dtype=float), np.asarray(b.cdf(grid), dtype=float)


def frequency_vectors(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Relative frequencies of both histograms over the union of their categories."""
    keys = sorted(set(a) | set(b))
    pa = np.array([a.get(k, 0.0) for k in keys], dtype=float)
    pb = np.array([b.get(k, 0.0) for k in keys], dtype=float)
    return pa / pa.sum(), pb / pb.sum()


def decile_edges(sketch: KllSketch, bins: int = NUM_BINS) -> np.ndarray:
    """Distinct inner bin edges at the sketch's quantiles i/bins (smallest item with rank >= i·W/bins).

    The targets are computed as i·W/bins rather than (i/bins)·W so that integer ranks such as
    30 of 100 are hit exactly, not missed by one ulp.
    """
    items, cumulative = sketch.sorted_items()
    targets = np.arange(1, bins) * cumulative[-1] / bins
    index = np.minimum(np.searchsorted(cumulative, targets, side="left"), len(items) - 1)
    return np.unique(items[index])


def binned_fractions(baseline: KllSketch, current: KllSketch, bins: int = NUM_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of each sketch's weight in the bins (-inf, e1], (e1, e2], ..., (ek, inf).

    The edges are the baseline deciles, so the baseline fractions are ~1/bins each; both sides are
    read from rank differences, which is exact when a sketch still holds its raw values.
    """
    edges = decile_edges(baseline, bins)

    def fractions(sketch: KllSketch) -> np.ndarray:
        cdf = np.concatenate([[0.0], np.asarray(sketch.cdf(edges), dtype=float), [1.0]])
        return np.diff(cdf)

    return fractions(baseline), fractions(current)


def smooth(fractions: np.ndarray) -> np.ndarray:
    """Evidently's zero filling: empty bins get 1e-4, or min/1e6 when a non-empty bin is smaller."""
    out = np.asarray(fractions, dtype=float).copy()
    nonzero = out[out != 0]
    if len(nonzero) == 0:
        return out
    smallest = float(nonzero.min())
    out[out == 0] = smallest / 10**6 if smallest <= EPSILON else EPSILON
    return out
