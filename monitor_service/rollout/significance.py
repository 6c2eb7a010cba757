"""Significance tests of an A/B test and the sample size it needs, from first principles.

Accuracy (a proportion per variant): the pooled two-proportion z-test, two-sided, and the sample
size per variant needed to detect `MinimumDetectableEffect` (absolute) at `Alpha` with `Power`
(the normal-approximation formula with the pooled variance under H0 and the unpooled one under
H1). Errors (mae, mse: a mean per variant): Welch's t-test with the Welch-Satterthwaite degrees of
freedom, and the per-variant sample size from the normal approximation with the observed
standard deviations. The t distribution's tail comes from scipy (installed with river).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


@dataclass(frozen=True)
class TestResult:
    test: str
    statistic: float | None
    p_value: float | None
    significant: bool
    effect: float | None
    sample_size_needed: int | None
    detail: str


def two_proportion(successes_a: int, n_a: int, successes_b: int, n_b: int, *, alpha: float, power: float,
                   mde: float) -> TestResult:
    """B against A: z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b)), p pooled."""
    needed = proportion_sample_size(successes_a / n_a if n_a else 0.5, mde, alpha=alpha, power=power)
    if n_a == 0 or n_b == 0:
        return TestResult("two-proportion z-test", None, None, False, None, needed, "a variant has no labelled answer")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return TestResult("two-proportion z-test", None, None, False, p_b - p_a, needed,
                          "both variants have the same constant outcome")
    z = (p_b - p_a) / se
    p = 2 * (1 - _NORMAL.cdf(abs(z)))
    return TestResult("two-proportion z-test", z, p, p < alpha, p_b - p_a, needed,
                      f"accuracy {p_a:.4f} (n={n_a}) vs {p_b:.4f} (n={n_b})")


def proportion_sample_size(p_a: float, mde: float, *, alpha: float, power: float) -> int:
    """Per-variant n to detect p_a -> p_a + mde (two-sided)."""
    p_b = min(max(p_a + mde, 1e-9), 1 - 1e-9)
    p_a = min(max(p_a, 1e-9), 1 - 1e-9)
    z_a, z_b = _NORMAL.inv_cdf(1 - alpha / 2), _NORMAL.inv_cdf(power)
    p_bar = (p_a + p_b) / 2
    top = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return math.ceil(top ** 2 / (p_b - p_a) ** 2)


def welch(mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int, *, alpha: float,
          power: float, mde: float) -> TestResult:
    """B against A on a mean (sample variances, ddof 1)."""
    from scipy.stats import t as student_t

    needed = mean_sample_size(var_a, var_b, mde, alpha=alpha, power=power)
    if n_a < 2 or n_b < 2:
        return TestResult("Welch t-test", None, None, False, None, needed,
                          "a variant has fewer than 2 labelled answers")
    va, vb = var_a / n_a, var_b / n_b
    if va + vb == 0:
        return TestResult("Welch t-test", None, None, False, mean_b - mean_a, needed, "both variants have no spread")
    t = (mean_b - mean_a) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    p = float(2 * student_t.sf(abs(t), df))
    return TestResult("Welch t-test", t, p, p < alpha, mean_b - mean_a, needed,
                      f"mean {mean_a:.6g} (n={n_a}) vs {mean_b:.6g} (n={n_b}), {df:.1f} degrees of freedom")


def mean_sample_size(var_a: float, var_b: float, mde: float, *, alpha: float, power: float) -> int | None:
    if var_a + var_b <= 0:
        return None
    z_a, z_b = _NORMAL.inv_cdf(1 - alpha / 2), _NORMAL.inv_cdf(power)
    return math.ceil((z_a + z_b) ** 2 * (var_a + var_b) / mde ** 2)
