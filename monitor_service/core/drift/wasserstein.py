"""`wasserstein`: normalized Wasserstein-1 (earth mover's) distance for numeric columns.

Why: L∞ and KS only see the largest CDF gap and saturate; W1 = ∫|F_b − F_c| dx grows with how
far the mass moved, in the column's units. Dividing by the baseline standard deviation makes it
unit-free, like Evidently's `wasserstein_distance_norm` (default threshold 0.1), including its
floor of 0.001 on the divisor. The integral is exact between the union of sketch items, so it
equals `scipy.stats.wasserstein_distance(a, b) / np.std(a)` while sketches hold raw values.
"""

from __future__ import annotations

import numpy as np

from monitor_service.core.drift.distributions import union_cdfs
from monitor_service.core.drift.registry import DriftMethod, NumericPair, register

MIN_NORM = 0.001


def numeric_wasserstein(pair: NumericPair) -> float:
    grid, cdf_a, cdf_b = union_cdfs(pair.baseline, pair.current)
    distance = float(np.sum(np.abs(cdf_a - cdf_b)[:-1] * np.diff(grid)))
    return distance / max(pair.baseline_std, MIN_NORM)


METHOD = register(
    DriftMethod(name="wasserstein", label="normalized Wasserstein", larger_is_drift=True, numeric=numeric_wasserstein)
)
