"""`linf_simple` (SageMaker "Simple"; "LInfinity" for categorical columns): the raw L∞ distance.

Why: this is SageMaker Model Monitor's own drift measure, so reproducing it keeps existing
baselines and alarm thresholds meaningful. Numeric columns compare the baseline and current CDFs
rebuilt from the KLL sketches at every item of either sketch (Deequ `Distance.numericalDistance`:
CDF = rank / total weight); categorical columns compare category frequencies over the union of
categories (Deequ `categoricalLInfinityDistance`). Range [0, 1]; larger means more drift.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from monitor_service.core.drift.distributions import frequency_vectors, union_cdfs
from monitor_service.core.drift.registry import DriftMethod, NumericPair, register
from monitor_service.core.kll import KllSketch


def sketch_linf(a: KllSketch, b: KllSketch) -> float:
    """sup_x |F_a(x) − F_b(x)| over the union of both sketches' items."""
    _, cdf_a, cdf_b = union_cdfs(a, b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def numeric_linf(pair: NumericPair) -> float:
    return sketch_linf(pair.baseline, pair.current)


def categorical_linf(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """max over categories of |p_a(v) − p_b(v)|."""
    pa, pb = frequency_vectors(a, b)
    return float(np.max(np.abs(pa - pb)))


METHOD = register(
    DriftMethod(
        name="linf_simple",
        label="Simple",
        larger_is_drift=True,
        numeric=numeric_linf,
        categorical=categorical_linf,
        sagemaker=True,
    ),
    aliases=("Simple", "LInfinity"),
)
