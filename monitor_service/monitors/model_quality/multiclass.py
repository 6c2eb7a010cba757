"""Multiclass classification metrics (SageMaker's `multiclass_classification_metrics` block).

Weighted metrics average the per-class metric with the class support (its number of true
labels) as weight, exactly as scikit-learn's `average="weighted"`: classes that are only ever
predicted get weight 0, and a class never predicted has precision 0. SageMaker's container was
reported to write `0.0 +/- 0.0` for all of these (sdk #2953); computing them from the
confusion matrix fixes that by construction.

The best constant classifier here always predicts the *least frequent* true class (ties: the
last label in label order). That is the rule that reproduces SageMaker's documented example
(accuracy 0.1937 = share of the rarer class, weighted precision = its square) and agrees with
the binary monitor's constant-positive baseline when the positive class is the rarer one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor_service.monitors.model_quality.metrics import f_beta, ratio, register

PROBLEM = "MulticlassClassification"

Confusion = dict[str, dict[str, float]]


def label_order(labels: set[str] | list[str]) -> list[str]:
    """Numeric labels sort by value ("2" before "10"), other labels as text."""
    def key(label: str) -> tuple[int, float, str]:
        try:
            return (0, float(label), label)
        except ValueError:
            return (1, 0.0, label)
    return sorted(set(labels), key=key)


@dataclass(frozen=True)
class MulticlassInputs:
    """`confusion[actual][predicted]` counts; labels are canonical strings."""

    confusion: Confusion

    @property
    def labels(self) -> list[str]:
        seen = set(self.confusion)
        for row in self.confusion.values():
            seen.update(row)
        return label_order(seen)

    def cell(self, actual: str, predicted: str) -> float:
        return self.confusion.get(actual, {}).get(predicted, 0.0)

    @property
    def total(self) -> float:
        return sum(sum(row.values()) for row in self.confusion.values())

    def support(self, label: str) -> float:
        return sum(self.confusion.get(label, {}).values())

    def predicted(self, label: str) -> float:
        return sum(row.get(label, 0.0) for row in self.confusion.values())

    def constant(self) -> MulticlassInputs:
        """The confusion matrix of always predicting the least frequent true class."""
        present = [label for label in self.labels if self.support(label) > 0]
        if not present:
            return self
        rare = min(reversed(present), key=self.support)
        return MulticlassInputs({a: {rare: self.support(a)} for a in present})


def confusion_matrix(x: MulticlassInputs) -> dict[str, dict[str, float | int]]:
    """Every label as a row and a column, counts as integers (SageMaker's layout)."""
    labels = x.labels
    return {a: {p: int(x.cell(a, p)) if float(x.cell(a, p)).is_integer() else x.cell(a, p) for p in labels}
            for a in labels}


def accuracy(x: MulticlassInputs) -> float:
    return ratio(sum(x.cell(label, label) for label in x.labels), x.total)


def _weighted(per_class: Callable[[MulticlassInputs, str], float]) -> Callable[[MulticlassInputs], float]:
    def compute(x: MulticlassInputs) -> float:
        return ratio(sum(x.support(label) * per_class(x, label) for label in x.labels), x.total)
    return compute


def _recall(x: MulticlassInputs, label: str) -> float:
    return ratio(x.cell(label, label), x.support(label))


def _precision(x: MulticlassInputs, label: str) -> float:
    return ratio(x.cell(label, label), x.predicted(label))


def _fb(beta: float) -> Callable[[MulticlassInputs, str], float]:
    def compute(x: MulticlassInputs, label: str) -> float:
        tp = x.cell(label, label)
        return f_beta(tp, x.predicted(label) - tp, x.support(label) - tp, beta)
    return compute


_SCALARS: list[tuple[str, Callable[[MulticlassInputs], float]]] = [
    ("accuracy", accuracy),
    ("weighted_recall", _weighted(_recall)),
    ("weighted_precision", _weighted(_precision)),
    ("weighted_f0_5", _weighted(_fb(0.5))),
    ("weighted_f1", _weighted(_fb(1.0))),
    ("weighted_f2", _weighted(_fb(2.0))),
]

register(PROBLEM, "confusion_matrix", confusion_matrix, scalar=False)
for _name, _fn in _SCALARS:
    register(PROBLEM, _name, _fn, direction="higher")
for _name, _fn in _SCALARS:
    register(PROBLEM, f"{_name}_best_constant_classifier", lambda x, fn=_fn: fn(x.constant()))
