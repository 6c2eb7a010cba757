"""The drift-method registry: one small module per method, resolved by name or SageMaker alias.

A method is a pair of pure functions, one per column kind it supports: numeric methods read the
KLL sketches (`ColumnProfile.numeric.kll`) and moments, categorical methods read the exact value
histograms (`ColumnProfile.histogram`). `DriftMethod.compute` extracts that state from two
profiles and returns None when either side lacks it, so callers skip instead of crashing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from monitor_service.core.drift.distributions import present_counts
from monitor_service.core.kll import KllSketch
from monitor_service.core.profile import ColumnProfile
from monitor_service.core.registry import Registry
from monitor_service.core.types import InferredType
from monitor_service.errors import ConfigError


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


def column_kind(inferred_type: InferredType) -> ColumnKind | None:
    """Integral/Fractional compare sketches; String/Boolean compare histograms; Unknown nothing."""
    if inferred_type.is_numeric:
        return ColumnKind.NUMERIC
    if inferred_type in (InferredType.STRING, InferredType.BOOLEAN):
        return ColumnKind.CATEGORICAL
    return None


@dataclass(frozen=True)
class NumericPair:
    """What numeric methods read: both KLL sketches and the exact baseline std dev."""

    baseline: KllSketch
    current: KllSketch
    baseline_std: float


NumericFn = Callable[[NumericPair], float]
CategoricalFn = Callable[[Mapping[str, float], Mapping[str, float]], float]


@dataclass(frozen=True)
class DriftMethod:
    """A registered drift measure; `larger_is_drift=False` marks p-values (drift when small).

    `sagemaker=True` marks SageMaker's own methods, whose violation text keeps SageMaker's exact
    wording; `label` names the method in violation descriptions of the others.
    """

    name: str
    label: str
    larger_is_drift: bool
    numeric: NumericFn | None = None
    categorical: CategoricalFn | None = None
    sagemaker: bool = False

    @property
    def kinds(self) -> frozenset[ColumnKind]:
        kinds = {ColumnKind.NUMERIC} if self.numeric else set()
        return frozenset(kinds | ({ColumnKind.CATEGORICAL} if self.categorical else set()))

    def supports(self, kind: ColumnKind) -> bool:
        return kind in self.kinds

    def compute(self, baseline: ColumnProfile, current: ColumnProfile, kind: ColumnKind) -> float | None:
        """The measure between two profiles, or None when a sketch / histogram is missing or empty."""
        if kind is ColumnKind.NUMERIC and self.numeric is not None:
            a, b = baseline.numeric, current.numeric
            if a is None or b is None or a.kll is None or b.kll is None or a.kll.is_empty() or b.kll.is_empty():
                return None
            return float(self.numeric(NumericPair(a.kll, b.kll, a.std_dev)))
        if kind is ColumnKind.CATEGORICAL and self.categorical is not None:
            hist_a, hist_b = present_counts(baseline.histogram), present_counts(current.histogram)
            if not hist_a or not hist_b or sum(hist_a.values()) <= 0 or sum(hist_b.values()) <= 0:
                return None
            return float(self.categorical(hist_a, hist_b))
        raise ConfigError(
            f"drift method {self.name!r} does not support {kind} columns",
            hint=f"use one of {methods_for(kind)}",
        )

    def is_drift(self, value: float, threshold: float) -> bool:
        """Distances drift when above the threshold, p-values when below (NaN never drifts)."""
        return value > threshold if self.larger_is_drift else value < threshold


DRIFT_METHODS: Registry[DriftMethod] = Registry("drift method")


def register(method: DriftMethod, aliases: tuple[str, ...] = ()) -> DriftMethod:
    return DRIFT_METHODS.register(method.name, method, aliases)


def get(name: str) -> DriftMethod:
    """Look a method up by name or alias; the error lists the registry's keys."""
    return DRIFT_METHODS.get(name)


def names() -> list[str]:
    return DRIFT_METHODS.names()


def methods_for(kind: ColumnKind) -> list[str]:
    """Registered methods that can compare columns of `kind`, in registration order."""
    return [m.name for m in DRIFT_METHODS if m.supports(kind)]
