"""Confidence-based performance estimation (CBPE) for binary classifiers without labels.

While ground truth is late, a calibrated probability p of the positive class is the expected
value of the unknown label, so a record predicted positive adds p to the expected true
positives and 1 - p to the expected false positives (predicted negative: p to false negatives,
1 - p to true negatives). Every binary metric is then computed from these expected counts,
and the expected ROC curve / AUC from expected positive and negative mass per score, as
NannyML's CBPE does. It is only as good as the calibration: the baseline (which has labels)
fits an isotonic regression of label on score, like NannyML's default, and the estimate
applies it; without one the raw probabilities are taken as calibrated. It also assumes no
concept drift (P(y | score) unchanged), so results are reported apart from the realized
metrics, in `estimated_statistics.json` with `"estimated": true`.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from typing import Any

from monitor_service.errors import FormatError
from monitor_service.monitors.model_quality.binary import BinaryCounts, BinaryInputs
from monitor_service.monitors.model_quality.curves import ScoreHistogram
from monitor_service.monitors.model_quality.statistics import VERSION


@dataclass(frozen=True)
class Calibration:
    """A monotone piecewise-linear map score -> probability (clipped outside the knots)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, score: float) -> float:
        if not self.x:
            return min(max(score, 0.0), 1.0)
        if score <= self.x[0]:
            return self.y[0]
        if score >= self.x[-1]:
            return self.y[-1]
        i = bisect.bisect_right(self.x, score)
        x0, x1, y0, y1 = self.x[i - 1], self.x[i], self.y[i - 1], self.y[i]
        return y0 + (y1 - y0) * (score - x0) / (x1 - x0)

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "method": "isotonic", "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, doc: Any, where: str = "calibration") -> Calibration:
        try:
            x = tuple(float(v) for v in doc["x"])
            y = tuple(float(v) for v in doc["y"])
        except (TypeError, KeyError, ValueError, OverflowError) as exc:
            raise FormatError(f"{where} must hold numeric lists 'x' and 'y'") from exc
        if len(x) != len(y) or any(b < a for a, b in itertools.pairwise(x)):
            raise FormatError(f"{where}: 'x' must be sorted and as long as 'y'")
        return cls(x, y)


IDENTITY = Calibration((), ())


def fit_isotonic(hist: ScoreHistogram) -> Calibration:
    """Weighted pool-adjacent-violators fit of P(positive | score) on a labelled histogram.

    Equal to scikit-learn's `IsotonicRegression(out_of_bounds="clip")` fitted on the records
    (which first averages equal scores); each constant block is kept as its first and last
    score, so interpolation between blocks is unchanged.
    """
    points = sorted((s, p, n) for s, p, n in zip(hist.scores, hist.pos, hist.neg, strict=True) if p + n > 0)
    blocks: list[list[float]] = []  # [weighted mean, weight, first score, last score]
    for score, pos, neg in points:
        blocks.append([pos / (pos + neg), pos + neg, score, score])
        while len(blocks) > 1 and blocks[-2][0] >= blocks[-1][0]:
            mean2, w2, _, last = blocks.pop()
            mean1, w1, first, _ = blocks[-1]
            blocks[-1] = [(mean1 * w1 + mean2 * w2) / (w1 + w2), w1 + w2, first, last]
    xs: list[float] = []
    ys: list[float] = []
    for mean, _, first, last in blocks:
        for s in (first, last) if last != first else (first,):
            xs.append(s)
            ys.append(mean)
    return Calibration(tuple(xs), tuple(ys))


def estimate_inputs(rows: list[tuple[float, bool, float]], calibration: Calibration) -> BinaryInputs:
    """Expected confusion counts and score histogram from `(score, predicted_positive, count)`."""
    tp = fp = fn = tn = 0.0
    hist_rows = []
    for score, predicted_positive, count in rows:
        p = calibration(score)
        if predicted_positive:
            tp += count * p
            fp += count * (1.0 - p)
        else:
            fn += count * p
            tn += count * (1.0 - p)
        hist_rows.append((score, count * p, count * (1.0 - p)))
    return BinaryInputs(BinaryCounts(tp=tp, fp=fp, fn=fn, tn=tn), ScoreHistogram.from_rows(hist_rows))


def estimated_document(item_count: int, block: dict[str, Any] | None, calibrated: bool) -> dict[str, Any]:
    """`estimated_statistics.json`: SageMaker's layout plus markers that nothing here is measured."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "estimated": True,
        "method": "CBPE",
        "calibration": "isotonic" if calibrated else "none",
        "dataset": {"item_count": item_count},
    }
    if block is not None:
        doc["binary_classification_metrics"] = block
    return doc
