"""Clarify's arithmetic conventions, vectorised so one call computes a metric for many bootstrap replicates.

- `divide(a, b)`: 0/0 = 0, x/0 = +Infinity (or -Infinity for x < 0), else a / b.
- A difference of two ratios that are both +Infinity is 0 (Clarify sets it so explicitly).
- A metric that cannot be computed for a table (an empty facet group, no positive labels) has
  a `Checks` entry: the first failing condition's message is the metric's `"error"`, and the
  replicates it fails on get NaN (they are left out of the bootstrap spread).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def divide(a: Array, b: Array) -> Array:
    """Element-wise Clarify division (see the module docstring)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    out = np.zeros(a.shape, dtype=float)
    zero = b == 0
    np.divide(a, b, out=out, where=~zero)
    out[zero & (a > 0)] = np.inf
    out[zero & (a < 0)] = -np.inf
    return out


def difference(x: Array, y: Array) -> Array:
    """x - y, except that two +Infinity ratios differ by 0 (Clarify's rule for DCA, DCR, DAR, DRR, RD, SD, AD, TE)."""
    both = np.isposinf(x) & np.isposinf(y)
    with np.errstate(invalid="ignore"):
        out = np.asarray(x - y, dtype=float)
    return np.where(both, 0.0, out)


@dataclass
class Checks:
    """Conditions under which a metric is not computable, in Clarify's order of checking."""

    shape: tuple[int, ...]
    failed: NDArray[np.bool_] = field(init=False)
    messages: list[tuple[NDArray[np.bool_], str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.failed = np.zeros(self.shape, dtype=bool)

    def require(self, ok: NDArray[np.bool_], message: str) -> None:
        bad = ~np.broadcast_to(ok, self.shape)
        self.messages.append((bad & ~self.failed, message))
        self.failed = self.failed | bad

    def apply(self, values: Array) -> Array:
        """The values with failed replicates set to NaN."""
        return np.where(self.failed, np.nan, np.broadcast_to(values, self.shape))

    def error(self, index: int = 0) -> str | None:
        """The message of the first failing condition of replicate `index` (the point estimate is 0)."""
        for bad, message in self.messages:
            if bad.reshape(-1)[index]:
                return message
        return None


@dataclass
class MetricArrays:
    """A metric over a stack of count tables: values (NaN where not computable) and its Checks."""

    values: Array
    checks: Checks

    def point(self) -> tuple[float | None, str | None]:
        """Value and error of the first table (the point estimate); None value when it has an error."""
        error = self.checks.error(0)
        if error is not None:
            return None, error
        return float(self.values.reshape(-1)[0]), None
