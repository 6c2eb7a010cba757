"""Regression metrics (SageMaker's `regression_metrics` block) from four sums.

The Spark job reduces a window to n, the sum of absolute errors, the sum of squared errors and
the total sum of squares of the labels (from a numerically stable variance), so every metric
is exact without bringing rows to the driver. r2 follows scikit-learn for constant labels:
1.0 for a perfect fit, else 0.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor_service.monitors.model_quality.metrics import ratio, register

PROBLEM = "Regression"


@dataclass(frozen=True)
class RegressionInputs:
    n: float
    sum_abs_error: float
    sum_squared_error: float
    total_sum_squares: float


def mse(x: RegressionInputs) -> float:
    return ratio(x.sum_squared_error, x.n)


def r2(x: RegressionInputs) -> float:
    if x.n == 0:
        return math.nan
    if x.total_sum_squares == 0:
        return 1.0 if x.sum_squared_error == 0 else 0.0
    return 1.0 - x.sum_squared_error / x.total_sum_squares


register(PROBLEM, "mae", lambda x: ratio(x.sum_abs_error, x.n), direction="lower")
register(PROBLEM, "mse", mse, direction="lower")
register(PROBLEM, "rmse", lambda x: math.sqrt(mse(x)), direction="lower")
register(PROBLEM, "r2", r2, direction="higher")
