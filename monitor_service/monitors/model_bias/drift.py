"""The bias-drift rule: when a window's metric counts as worse than the baseline's.

Clarify's documented rule is that a metric violates when it is farther from its ideal value
than the baseline's AND a normal-bootstrap confidence interval of the window's value does not
overlap the allowed range, so that small, noisy windows do not alarm. The allowed range is not
documented; ours:

- ideal 0 (every metric but DI): A = [-|b|, |b|], b the baseline value;
- DI (ideal 1, a ratio): A = [min(b, 1/b), max(b, 1/b)], symmetric in the ratio sense
  (DI 0.8 and 1.25 are equally far from parity); 1/0 = Infinity.
- A per-metric threshold t (`DriftSettings.thresholds`) replaces b in these formulas, to
  loosen or tighten one metric; the violation message then names t as the requirement.

The window's value v violates when v lies outside A and the whole interval C lies outside A.
C = v +- z * sd, sd being the standard deviation of the metric over `bootstrap_samples`
resamples of the window's records (multinomial draws over the count table; for FT at most 30
resamples of the flip-test sample, the kNN refitted on each), z the normal quantile of
`confidence_level`.
When some resamples are infinite (TE with no false positives, ...) C is their percentile
interval instead; when fewer than `confidence_level` of the resamples are computable (the group
nearly vanishes) C is unbounded and nothing is flagged. A baseline value that is null or
infinite, or a window value that is null, is not checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor_service.monitors.model_bias.catalog import DESCRIPTIONS, ideal

CHECK_TYPE = "bias_drift_check"


class DriftSettings(BaseModel):
    """The knobs of the rule (`--bootstrap-samples`, `--confidence-level`, `--bootstrap-seed`, `--threshold`)."""

    model_config = ConfigDict(extra="forbid")

    bootstrap_samples: int = Field(default=200, ge=0, le=100_000)
    confidence_level: float = Field(default=0.95, gt=0.0, lt=1.0)
    seed: int = 0
    thresholds: dict[str, float] = Field(default_factory=dict)

    @field_validator("thresholds")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DESCRIPTIONS))
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; known: {sorted(DESCRIPTIONS)}")
        for name, t in value.items():
            if not math.isfinite(t) or (t <= 0 if name == "DI" else t < 0):
                raise ValueError(f"{name}: threshold {t} must be a finite number >= 0 (> 0 for DI)")
        return value


@dataclass(frozen=True)
class Check:
    """The outcome of the rule for one metric of one facet entry."""

    metric: str
    value: float
    requirement: float  # the baseline value, or the configured threshold
    allowed: tuple[float, float]
    interval: tuple[float, float]
    violated: bool

    def description(self) -> str:
        return (
            f"Metric value {format_value(self.value)} doesn't meet the baseline constraint requirement "
            f"{format_value(self.requirement)}"
        )


def format_value(value: float) -> str:
    """Numbers as Clarify prints them in violation messages: Python's repr, infinities as "Infinity"."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def allowed_range(metric: str, bound: float) -> tuple[float, float]:
    """A for a baseline value (or threshold) `bound` (see the module docstring)."""
    if ideal(metric) == 1.0:
        inverse = math.inf if bound == 0 else 1.0 / bound
        return (min(bound, inverse), max(bound, inverse))
    return (-abs(bound), abs(bound))


def confidence_interval(value: float, replicates: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    """C for a window value from its bootstrap replicates (NaN = not computable for that resample)."""
    finite_or_inf = replicates[~np.isnan(replicates)]
    if len(replicates) == 0 or len(finite_or_inf) < max(2, confidence * len(replicates)):
        return (-math.inf, math.inf)
    alpha = 1.0 - confidence
    if np.isinf(finite_or_inf).any() or math.isinf(value):
        lo = float(np.quantile(finite_or_inf, alpha / 2, method="lower"))
        hi = float(np.quantile(finite_or_inf, 1 - alpha / 2, method="higher"))
        return (lo, hi)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    spread = z * float(np.std(finite_or_inf, ddof=1))
    return (value - spread, value + spread)


def check_metric(
    metric: str,
    value: float | None,
    baseline: float | None,
    replicates: NDArray[np.float64],
    settings: DriftSettings,
) -> Check | None:
    """The rule for one metric; None when it is not checked (see the module docstring)."""
    if value is None or math.isnan(value):
        return None
    threshold = settings.thresholds.get(metric)
    requirement = threshold if threshold is not None else baseline
    if requirement is None or math.isnan(requirement) or math.isinf(requirement):
        return None
    lo, hi = allowed_range(metric, requirement)
    interval = confidence_interval(value, replicates, settings.confidence_level)
    outside = value < lo or value > hi
    disjoint = interval[0] > hi or interval[1] < lo
    return Check(metric, value, requirement, (lo, hi), interval, outside and disjoint)
