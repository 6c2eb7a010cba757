"""`chi_squared` (SageMaker "ChiSquared"): Pearson goodness-of-fit p-value of current vs baseline.

Why: SageMaker offers it as `categorical_drift_method=ChiSquared`; it is a real significance test,
so large windows flag even small, consistent shifts that L∞ would call noise. It follows Deequ
`Distance.categoricalChiSquareTest`: current counts are tested against the baseline frequencies
scaled to the current total over the baseline's categories (current-only categories are not part
of the test); categories with small expected counts are merged into the next-smallest one until
at most 20% are below 5 (Yates; for two categories: none below 10, Cochran); with fewer than two
categories left the result is NaN. Returns the p-value, so drift means *small* values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from monitor_service.core.drift.registry import DriftMethod, register

MIN_CATEGORIES = 2
YATES_MIN_EXPECTED = 5.0
YATES_MAX_FRACTION_BELOW = 0.2
COCHRAN_MIN_EXPECTED = 10.0
_TINY = 1e-300


def regroup(observed: dict[str, float], expected: dict[str, float]) -> None:
    """Merge the smallest expected category into the next smallest while too many are small.

    In place, like Deequ's `regroupCategories`; ties are broken by category name so the result
    does not depend on hash order.
    """
    while len(expected) >= MIN_CATEGORIES:
        if len(expected) > MIN_CATEGORIES:
            minimum, allowed = YATES_MIN_EXPECTED, int(YATES_MAX_FRACTION_BELOW * len(expected))
        else:
            minimum, allowed = COCHRAN_MIN_EXPECTED, 0
        if sum(1 for v in expected.values() if v < minimum) <= allowed:
            return
        smallest = min(expected, key=lambda k: (expected[k], k))
        moved_expected, moved_observed = expected.pop(smallest), observed.pop(smallest, 0.0)
        target = min(expected, key=lambda k: (expected[k], k))
        expected[target] += moved_expected
        observed[target] = observed.get(target, 0.0) + moved_observed


def chi2_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X ~ χ²(dof): the regularized upper incomplete gamma Q(dof/2, statistic/2).

    Series for x < a+1, Lentz continued fraction otherwise (Numerical Recipes `gammq`); keeps the
    core free of scipy.
    """
    a, x = dof / 2.0, statistic / 2.0
    if x <= 0:
        return 1.0
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        denominator = a
        while abs(term) > abs(total) * 1e-17:
            denominator += 1
            term *= x / denominator
            total += term
        return max(0.0, 1.0 - total * math.exp(log_prefactor))
    b = x + 1 - a
    c, d = 1 / _TINY, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return math.exp(log_prefactor) * h


def chi_squared_pvalue(baseline: Mapping[str, float], current: Mapping[str, float]) -> float:
    expected_counts = {k: float(v) for k, v in baseline.items() if v > 0}
    observed = {k: float(current.get(k, 0.0)) for k in expected_counts}
    observed_total, expected_total = sum(observed.values()), sum(expected_counts.values())
    if observed_total <= 0:
        return math.nan
    expected = {k: v / expected_total * observed_total for k, v in expected_counts.items()}
    regroup(observed, expected)
    if len(expected) < MIN_CATEGORIES:
        return math.nan
    statistic = sum((observed.get(k, 0.0) - e) ** 2 / e for k, e in expected.items())
    return chi2_sf(statistic, len(expected) - 1)


METHOD = register(
    DriftMethod(
        name="chi_squared",
        label="ChiSquared",
        larger_is_drift=False,
        categorical=chi_squared_pvalue,
        sagemaker=True,
    ),
    aliases=("ChiSquared",),
)
