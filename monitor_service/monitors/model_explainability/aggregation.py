"""Global SHAP values from local ones, with Clarify's `agg_method`.

`mean_abs` (default) = mean |φ|, `median` = median φ, `mean_sq` = mean φ² (as Clarify defines
them). The Spark job computes the same with SQL aggregates; these are the in-process reference.
"""

from __future__ import annotations

import numpy as np

AGG_METHODS = ("mean_abs", "median", "mean_sq")


def aggregate(local: np.ndarray, method: str) -> np.ndarray:
    """(rows, features) local values -> (features,) global values."""
    values = np.asarray(local, dtype=float)
    if method == "mean_abs":
        return np.mean(np.abs(values), axis=0)
    if method == "median":
        return np.median(values, axis=0)
    if method == "mean_sq":
        return np.mean(values**2, axis=0)
    raise ValueError(f"unknown agg_method {method!r}; use one of {AGG_METHODS}")
