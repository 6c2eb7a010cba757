"""`linf_robust` (SageMaker "Robust", its generated default): L∞ minus the KS critical value.

Why: a raw L∞ on small windows is mostly sampling noise. SageMaker (Deequ `selectMetrics`)
subtracts the two-sample Kolmogorov–Smirnov critical value c_α·sqrt((n+m)/(n·m)) with
c_α = 1.8 (α ≈ 0.003, Knuth TAOCP vol. 2), clamped at 0, so only drift beyond what chance
explains is reported. n and m are the baseline and current counts (sketch weights for numeric
columns, histogram totals for categorical ones). With n = m = 100 the correction is 0.25.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from monitor_service.core.drift.linf_simple import categorical_linf, numeric_linf
from monitor_service.core.drift.registry import DriftMethod, NumericPair, register

C_ALPHA = 1.8


def robust(linf: float, n: float, m: float) -> float:
    """max(0, linf − c_α·sqrt((n+m)/(n·m)))."""
    return max(0.0, linf - C_ALPHA * math.sqrt((n + m) / (n * m)))


def numeric_robust(pair: NumericPair) -> float:
    return robust(numeric_linf(pair), pair.baseline.n, pair.current.n)


def categorical_robust(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    return robust(categorical_linf(a, b), sum(a.values()), sum(b.values()))


METHOD = register(
    DriftMethod(
        name="linf_robust",
        label="Robust",
        larger_is_drift=True,
        numeric=numeric_robust,
        categorical=categorical_robust,
        sagemaker=True,
    ),
    aliases=("Robust",),
)
