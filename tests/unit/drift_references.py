"""Independent numpy / scipy references for every drift method, computed on raw values.

They share nothing with `monitor_service.core.drift`: bins come from numpy sorting and
`np.digitize`, distances from scipy. Used by the drift, check and analysis tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

C_ALPHA = 1.8


def ref_robust(linf: float, n: int, m: int) -> float:
    return max(0.0, linf - C_ALPHA * math.sqrt((n + m) / (n * m)))


def ref_decile_bins(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """10 bins (-inf, e1], ..., (e9, inf) at the baseline deciles (inverted-CDF quantiles)."""
    s = np.sort(a)
    n = len(s)
    edges = np.unique(s[[-(-i * n // 10) - 1 for i in range(1, 10)]])

    def fractions(x: np.ndarray) -> np.ndarray:
        return np.bincount(np.digitize(x, edges, right=True), minlength=len(edges) + 1) / len(x)

    return fractions(a), fractions(b)


def evidently_fill(p: np.ndarray) -> np.ndarray:
    p = p.copy()
    smallest = p[p > 0].min()
    p[p == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return p


def ref_psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = evidently_fill(p), evidently_fill(q)
    return float(np.sum((p - q) * np.log(p / q)))


def ref_frequencies(a: dict[str, float], b: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(set(a) | set(b))
    pa, pb = np.array([a.get(k, 0) for k in keys], float), np.array([b.get(k, 0) for k in keys], float)
    return pa / pa.sum(), pb / pb.sum()


NumericRef = Callable[[np.ndarray, np.ndarray], float]
NUMERIC_REFERENCE: dict[str, NumericRef] = {
    "linf_simple": lambda a, b: stats.ks_2samp(a, b).statistic,
    "linf_robust": lambda a, b: ref_robust(stats.ks_2samp(a, b).statistic, len(a), len(b)),
    "ks": lambda a, b: stats.ks_2samp(a, b).statistic,
    "wasserstein": lambda a, b: stats.wasserstein_distance(a, b) / max(np.std(a), 0.001),
    "psi": lambda a, b: ref_psi(*ref_decile_bins(a, b)),
    "jensen_shannon": lambda a, b: float(jensenshannon(*ref_decile_bins(a, b))),
}

CategoricalRef = Callable[[dict[str, float], dict[str, float]], float]


def ref_chi_squared_no_regrouping(base: dict[str, float], cur: dict[str, float]) -> float:
    keys = sorted(base)
    observed = np.array([cur.get(k, 0) for k in keys], float)
    expected = np.array([base[k] for k in keys], float)
    expected = expected / expected.sum() * observed.sum()
    assert (expected >= 5).all(), "reference case must not need regrouping"
    return float(stats.chisquare(observed, expected).pvalue)


CATEGORICAL_REFERENCE: dict[str, CategoricalRef] = {
    "linf_simple": lambda a, b: float(np.max(np.abs(np.subtract(*ref_frequencies(a, b))))),
    "linf_robust": lambda a, b: ref_robust(
        float(np.max(np.abs(np.subtract(*ref_frequencies(a, b))))), sum(a.values()), sum(b.values())
    ),
    "chi_squared": ref_chi_squared_no_regrouping,
    "psi": lambda a, b: ref_psi(*ref_frequencies(a, b)),
    "jensen_shannon": lambda a, b: float(jensenshannon(*ref_frequencies(a, b))),
}
