"""The metric registry: every model-quality metric SageMaker reports, per problem type.

Each problem type has one registry whose registration order is the key order of SageMaker's
`statistics.json` block. A metric is a pure function of small, already aggregated inputs (a
confusion matrix, a score histogram, sums of errors), so the same definition serves the Spark
job, the CBPE estimate (fractional counts) and the 80 % subsamples behind `standard_deviation`.
Family modules (`binary`, `multiclass`, `regression`) register themselves when imported by the
package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from monitor_service.core.registry import Registry

# "higher": a drop is a regression (LessThanThreshold); "lower": a rise is (GreaterThanThreshold);
# None: not a property of the model (best-constant baselines) or not a scalar, so no constraint.
Direction = Literal["higher", "lower"] | None


@dataclass(frozen=True)
class MetricDef:
    """One entry of a statistics block: a scalar `{value, standard_deviation}` or a structure."""

    name: str
    compute: Callable[[Any], Any]
    scalar: bool = True
    direction: Direction = None


METRICS: dict[str, Registry[MetricDef]] = {
    "BinaryClassification": Registry("binary classification metric"),
    "MulticlassClassification": Registry("multiclass classification metric"),
    "Regression": Registry("regression metric"),
}


def register(problem_type: str, name: str, compute: Callable[[Any], Any], *, scalar: bool = True,
             direction: Direction = None) -> MetricDef:
    """Add a metric to `problem_type`'s registry (in SageMaker's key order)."""
    return METRICS[problem_type].register(name, MetricDef(name, compute, scalar, direction))


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0.0 when the denominator is 0 (scikit-learn's zero_division=0)."""
    return numerator / denominator if denominator else 0.0


def f_beta(tp: float, fp: float, fn: float, beta: float) -> float:
    """F-beta from counts, written as scikit-learn does so that results agree to the last bits."""
    b2 = beta * beta
    return ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)
