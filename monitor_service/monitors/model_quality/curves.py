"""ROC and precision-recall curves and AUC from a score histogram.

The histogram holds, for each distinct score (or grid cell, see `spark/model_metrics.py`), the
positive and negative weight at that score. Counting positives above each threshold gives
SageMaker's curves, which follow Spark MLlib's `BinaryClassificationMetrics` (the analyzer is a
Spark job; the doc example's 6 ROC / 5 PR points for 4 thresholds match it): the ROC curve
runs from (0, 0) through one point per threshold (scores descending) to (1, 1); the PR curve
starts at (recall 0, precision of the first threshold). AUC is the trapezoidal area under
the full ROC curve, which equals the Mann-Whitney statistic with ties counted one half, that
is, scikit-learn's `roc_auc_score` exactly when every distinct score has its own entry.
Curves written to statistics.json are thinned to at most `MAX_CURVE_POINTS` thresholds (as
MLlib's `numBins` does) so that the file stays small; AUC always uses the whole histogram.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor_service.monitors.model_quality.metrics import ratio

MAX_CURVE_POINTS = 1000


@dataclass(frozen=True)
class ScoreHistogram:
    """Positive / negative weight per threshold, thresholds in descending score order.

    Weights are counts for labelled data and expected counts (sums of calibrated
    probabilities) for the CBPE estimate.
    """

    scores: tuple[float, ...]
    pos: tuple[float, ...]
    neg: tuple[float, ...]

    @classmethod
    def from_rows(cls, rows: list[tuple[float, float, float]]) -> ScoreHistogram:
        """Build from `(score, pos, neg)` rows in any order; equal scores are added up."""
        merged: dict[float, list[float]] = {}
        for score, pos, neg in rows:
            entry = merged.setdefault(score, [0.0, 0.0])
            entry[0] += pos
            entry[1] += neg
        ordered = sorted(merged.items(), key=lambda item: -item[0])
        return cls(tuple(s for s, _ in ordered), tuple(v[0] for _, v in ordered),
                   tuple(v[1] for _, v in ordered))

    @property
    def positives(self) -> float:
        return math.fsum(self.pos)

    @property
    def negatives(self) -> float:
        return math.fsum(self.neg)

    def cumulative(self) -> list[tuple[float, float]]:
        """(true positives, false positives) when predicting positive at score >= each threshold."""
        out, tp, fp = [], 0.0, 0.0
        for pos, neg in zip(self.pos, self.neg, strict=True):
            tp += pos
            fp += neg
            out.append((tp, fp))
        return out

    def thinned(self, max_points: int = MAX_CURVE_POINTS) -> ScoreHistogram:
        """Merge runs of consecutive thresholds so that at most `max_points` remain."""
        size = len(self.scores)
        if size <= max_points:
            return self
        step = math.ceil(size / max_points)
        scores, pos, neg = [], [], []
        for start in range(0, size, step):
            stop = min(start + step, size)
            scores.append(self.scores[stop - 1])
            pos.append(math.fsum(self.pos[start:stop]))
            neg.append(math.fsum(self.neg[start:stop]))
        return ScoreHistogram(tuple(scores), tuple(pos), tuple(neg))


def roc_curve(hist: ScoreHistogram) -> dict[str, list[float]]:
    """`receiver_operating_characteristic_curve`: MLlib's points, (0, 0) first and (1, 1) last."""
    p, n = hist.positives, hist.negatives
    inner = [(ratio(fp, n), ratio(tp, p)) for tp, fp in hist.thinned().cumulative()]
    points = [(0.0, 0.0), *inner, (1.0, 1.0)]
    return {"false_positive_rates": [x for x, _ in points], "true_positive_rates": [y for _, y in points]}


def pr_curve(hist: ScoreHistogram) -> dict[str, list[float]]:
    """`precision_recall_curve`: MLlib's points, starting at recall 0 with the first precision."""
    p = hist.positives
    points = [(ratio(tp, p), ratio(tp, tp + fp)) for tp, fp in hist.thinned().cumulative()]
    if points:
        points.insert(0, (0.0, points[0][1]))
    return {"precisions": [y for _, y in points], "recalls": [x for x, _ in points]}


def roc_auc(hist: ScoreHistogram) -> float:
    """Area under the ROC curve; NaN when one class is absent (AUC is undefined then)."""
    p, n = hist.positives, hist.negatives
    if p <= 0 or n <= 0:
        return math.nan
    area, prev_tp, prev_fp = 0.0, 0.0, 0.0
    for tp, fp in hist.cumulative():
        area += (fp - prev_fp) * (tp + prev_tp) / 2.0
        prev_tp, prev_fp = tp, fp
    return area / (p * n)


def tie_error_bound(hist: ScoreHistogram) -> float:
    """Largest possible |AUC error| when each entry lumps several distinct scores together.

    Inside one grid cell the order of positives and negatives is unknown; the trapezoid counts
    those pairs as ties (one half), so the error is at most half of the in-cell pairs.
    """
    p, n = hist.positives, hist.negatives
    if p <= 0 or n <= 0:
        return 0.0
    return math.fsum(a * b for a, b in zip(hist.pos, hist.neg, strict=True)) / (2.0 * p * n)
