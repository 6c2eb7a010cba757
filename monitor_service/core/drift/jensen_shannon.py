"""`jensen_shannon`: the Jensen–Shannon distance sqrt(JSD) with natural logarithms.

Why: unlike PSI or KL it is bounded (0 to sqrt(ln 2) ≈ 0.833), symmetric and finite when a bin
is empty, which makes one threshold meaningful across features; NannyML and Evidently use it as
a default. Same bins as `psi` (baseline deciles for numeric columns, union of categories for
categorical ones), no smoothing, natural log like `scipy.spatial.distance.jensenshannon`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from monitor_service.core.drift.distributions import binned_fractions, frequency_vectors
from monitor_service.core.drift.registry import DriftMethod, NumericPair, register


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """Σ p·ln(p/q) with 0·ln 0 = 0 (q > 0 wherever p > 0 because q is a mixture containing p)."""
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    p, q = p / p.sum(), q / q.sum()
    mixture = (p + q) / 2
    return float(np.sqrt(max(0.0, (_kl(p, mixture) + _kl(q, mixture)) / 2)))


def numeric_js(pair: NumericPair) -> float:
    return js_distance(*binned_fractions(pair.baseline, pair.current))


def categorical_js(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    return js_distance(*frequency_vectors(a, b))


METHOD = register(
    DriftMethod(
        name="jensen_shannon",
        label="Jensen-Shannon",
        larger_is_drift=True,
        numeric=numeric_js,
        categorical=categorical_js,
    )
)
