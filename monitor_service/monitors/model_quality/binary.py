"""Binary classification metrics (SageMaker's `binary_classification_metrics` block).

Inputs are the four confusion counts (integers for labelled data, expected values for CBPE)
and, when a probability attribute is given, the score histogram behind the curves and AUC.
The "best constant classifier" is the constant *positive* predictor (SageMaker's doc example:
recall 1.0, precision = accuracy = prevalence), the baseline any useful model must beat.
Divisions by zero give 0.0, as scikit-learn's default `zero_division` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor_service.monitors.model_quality import curves
from monitor_service.monitors.model_quality.curves import ScoreHistogram
from monitor_service.monitors.model_quality.metrics import f_beta, ratio, register
from monitor_service.monitors.model_quality.problem import NEGATIVE_LABEL, POSITIVE_LABEL

PROBLEM = "BinaryClassification"


@dataclass(frozen=True)
class BinaryCounts:
    tp: float
    fp: float
    fn: float
    tn: float

    @property
    def total(self) -> float:
        return self.tp + self.fp + self.fn + self.tn

    def constant_positive(self) -> BinaryCounts:
        """The counts of a classifier that always predicts the positive class."""
        return BinaryCounts(tp=self.tp + self.fn, fp=self.fp + self.tn, fn=0.0, tn=0.0)


@dataclass(frozen=True)
class BinaryInputs:
    counts: BinaryCounts
    scores: ScoreHistogram | None = None


def _count(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def confusion_matrix(x: BinaryInputs) -> dict[str, dict[str, float | int]]:
    """`confusion_matrix[actual][predicted]` keyed by the label strings "0" and "1"."""
    c = x.counts
    return {NEGATIVE_LABEL: {NEGATIVE_LABEL: _count(c.tn), POSITIVE_LABEL: _count(c.fp)},
            POSITIVE_LABEL: {NEGATIVE_LABEL: _count(c.fn), POSITIVE_LABEL: _count(c.tp)}}


def recall(c: BinaryCounts) -> float:
    return ratio(c.tp, c.tp + c.fn)


def precision(c: BinaryCounts) -> float:
    return ratio(c.tp, c.tp + c.fp)


def accuracy(c: BinaryCounts) -> float:
    return ratio(c.tp + c.tn, c.total)


def true_negative_rate(c: BinaryCounts) -> float:
    return ratio(c.tn, c.tn + c.fp)


def false_positive_rate(c: BinaryCounts) -> float:
    return ratio(c.fp, c.fp + c.tn)


def false_negative_rate(c: BinaryCounts) -> float:
    return ratio(c.fn, c.fn + c.tp)


def _curve(fn: Callable[[ScoreHistogram], Any]) -> Callable[[BinaryInputs], Any]:
    """A probability-based entry; None (left out of the block) without a probability attribute."""
    return lambda x: fn(x.scores) if x.scores is not None else None


def _fb(beta: float, best_constant: bool = False) -> Callable[[BinaryInputs], float]:
    def compute(x: BinaryInputs) -> float:
        c = x.counts.constant_positive() if best_constant else x.counts
        return f_beta(c.tp, c.fp, c.fn, beta)
    return compute


register(PROBLEM, "confusion_matrix", confusion_matrix, scalar=False)
register(PROBLEM, "recall", lambda x: recall(x.counts), direction="higher")
register(PROBLEM, "precision", lambda x: precision(x.counts), direction="higher")
register(PROBLEM, "accuracy", lambda x: accuracy(x.counts), direction="higher")
register(PROBLEM, "recall_best_constant_classifier", lambda x: recall(x.counts.constant_positive()))
register(PROBLEM, "precision_best_constant_classifier", lambda x: precision(x.counts.constant_positive()))
register(PROBLEM, "accuracy_best_constant_classifier", lambda x: accuracy(x.counts.constant_positive()))
register(PROBLEM, "true_positive_rate", lambda x: recall(x.counts), direction="higher")
register(PROBLEM, "true_negative_rate", lambda x: true_negative_rate(x.counts), direction="higher")
register(PROBLEM, "false_positive_rate", lambda x: false_positive_rate(x.counts), direction="lower")
register(PROBLEM, "false_negative_rate", lambda x: false_negative_rate(x.counts), direction="lower")
register(PROBLEM, "receiver_operating_characteristic_curve", _curve(curves.roc_curve), scalar=False)
register(PROBLEM, "precision_recall_curve", _curve(curves.pr_curve), scalar=False)
register(PROBLEM, "auc", _curve(curves.roc_auc), direction="higher")
register(PROBLEM, "f0_5", _fb(0.5), direction="higher")
register(PROBLEM, "f1", _fb(1.0), direction="higher")
register(PROBLEM, "f2", _fb(2.0), direction="higher")
register(PROBLEM, "f0_5_best_constant_classifier", _fb(0.5, best_constant=True))
register(PROBLEM, "f1_best_constant_classifier", _fb(1.0, best_constant=True))
register(PROBLEM, "f2_best_constant_classifier", _fb(2.0, best_constant=True))
