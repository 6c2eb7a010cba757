"""`psi`: population stability index, Σ (p_b − p_c)·ln(p_b / p_c).

Why: PSI is the industry standard for score and feature stability (credit risk, Evidently),
with familiar rules of thumb (0.1 minor, 0.25 major shift). Numeric columns use 10 bins cut at
the baseline deciles read from the KLL sketch, with each side's bin fractions from rank
differences of its own sketch; categorical columns use the union of categories. Empty bins are
smoothed like Evidently (1e-4) so the logarithm stays finite. Symmetric; larger = more drift.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from monitor_service.core.drift.distributions import binned_fractions, frequency_vectors, smooth
from monitor_service.core.drift.registry import DriftMethod, NumericPair, register


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    p, q = smooth(expected), smooth(actual)
    return float(np.sum((p - q) * np.log(p / q)))


def numeric_psi(pair: NumericPair) -> float:
    return psi(*binned_fractions(pair.baseline, pair.current))


def categorical_psi(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    return psi(*frequency_vectors(a, b))


METHOD = register(
    DriftMethod(name="psi", label="PSI", larger_is_drift=True, numeric=numeric_psi, categorical=categorical_psi)
)
