"""Post-training bias metrics (labels and predictions) as functions of count tables, as smclarify 0.5 defines them.

Cells are (..., 2 sides, 2 labels, 2 predictions, G + 1 groups) (see `counts`). Per side x:
n_x(1) observed positives, n̂_x(1) predicted positives, TP/FP/FN/TN its confusion matrix.

- DPPL = q̂_a - q̂_d;  DI = q̂_d / q̂_a (ideal 1).
- DCA = n_a(1)/n̂_a(1) - n_d(1)/n̂_d(1);  DCR = n_d(0)/n̂_d(0) - n_a(0)/n̂_a(0).
- DAR = TP_a/n̂_a(1) - TP_d/n̂_d(1);  DRR = TN_d/n̂_d(0) - TN_a/n̂_a(0).
- RD = TPR_a - TPR_d;  SD = TNR_d - TNR_a;  AD = ACC_a - ACC_d;  TE = FN_d/FP_d - FN_a/FP_a.
- CDDPL: CDDL with the predicted label.
- GE (alpha = 2) over the whole data set, not per facet: benefit b = ŷ - y + 1,
  GE = sum((b / mean b)^2 - 1) / (2 N).
Ratios use `divide` (0/0 = 0, x/0 = Infinity); two infinite ratios differ by 0. FT is in `flip_test`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from monitor_service.monitors.model_bias.conventions import Array, Checks, MetricArrays, difference, divide
from monitor_service.monitors.model_bias.counts import NEG, POS, A, D
from monitor_service.monitors.model_bias.pretraining import (
    conditional_demographic_disparity,
    positive_proportion_difference,
)


def _confusion(cells: Array) -> Array:
    return cells.sum(axis=-1)  # (..., 2 sides, 2 labels, 2 predictions)


def _side_checks(cells: Array, prefix: str, d_first: bool = True) -> Checks:
    n = cells.sum(axis=(-3, -2, -1))
    checks = Checks(n.shape[:-1])
    order = [(D, "Facet set is empty"), (A, "Negated Facet set is empty")]
    for side, message in order if d_first else order[::-1]:
        checks.require(n[..., side] != 0, f"{prefix}{message}")
    return checks


def dppl(cells: Array) -> MetricArrays:
    predicted = cells.sum(axis=(-3, -1))  # (..., 2 sides, 2 predictions)
    return positive_proportion_difference(
        predicted[..., POS], predicted.sum(axis=-1), ("Negative facet set is empty.", "Facet set is empty.")
    )


def di(cells: Array) -> MetricArrays:
    predicted = cells.sum(axis=(-3, -1))
    n = predicted.sum(axis=-1)
    checks = _side_checks(cells, "", d_first=False)
    checks.messages[0] = (checks.messages[0][0], "Negated facet set is empty")
    with np.errstate(invalid="ignore", divide="ignore"):
        qa = predicted[..., A, POS] / n[..., A]
        qd = predicted[..., D, POS] / n[..., D]
    return MetricArrays(checks.apply(divide(qd, qa)), checks)


def _ratio_difference(
    cells: Array, prefix: str, ratio: Callable[[Array, int], Array], reverse: bool = False
) -> MetricArrays:
    """ratio(a) - ratio(d) (or d - a), with Clarify's rule for two infinite ratios."""
    checks = _side_checks(cells, prefix)
    ra, rd = ratio(_confusion(cells), A), ratio(_confusion(cells), D)
    values = difference(rd, ra) if reverse else difference(ra, rd)
    return MetricArrays(checks.apply(values), checks)


def dca(cells: Array) -> MetricArrays:
    return _ratio_difference(
        cells, "DCO: ", lambda c, s: divide(c[..., s, POS, :].sum(-1), c[..., s, :, POS].sum(-1))
    )


def dcr(cells: Array) -> MetricArrays:
    return _ratio_difference(
        cells, "DCO: ", lambda c, s: divide(c[..., s, NEG, :].sum(-1), c[..., s, :, NEG].sum(-1)), reverse=True
    )


def dar(cells: Array) -> MetricArrays:
    return _ratio_difference(cells, "DLR: ", lambda c, s: divide(c[..., s, POS, POS], c[..., s, :, POS].sum(-1)))


def drr(cells: Array) -> MetricArrays:
    return _ratio_difference(
        cells, "DLR: ", lambda c, s: divide(c[..., s, NEG, NEG], c[..., s, :, NEG].sum(-1)), reverse=True
    )


def rd(cells: Array) -> MetricArrays:
    return _ratio_difference(cells, "DLA: ", lambda c, s: divide(c[..., s, POS, POS], c[..., s, POS, :].sum(-1)))


def sd(cells: Array) -> MetricArrays:
    return _ratio_difference(
        cells, "DLA: ", lambda c, s: divide(c[..., s, NEG, NEG], c[..., s, NEG, :].sum(-1)), reverse=True
    )


def ad(cells: Array) -> MetricArrays:
    return _ratio_difference(
        cells, "", lambda c, s: divide(c[..., s, POS, POS] + c[..., s, NEG, NEG], c[..., s, :, :].sum((-2, -1)))
    )


def te(cells: Array) -> MetricArrays:
    return _ratio_difference(cells, "", lambda c, s: divide(c[..., s, POS, NEG], c[..., s, NEG, POS]), reverse=True)


def cddpl(cells: Array, has_groups: bool) -> MetricArrays:
    return conditional_demographic_disparity(cells.sum(axis=-3), has_groups)


def ge(cells: Array) -> MetricArrays:
    """Generalized entropy (alpha 2) of the benefits b = ŷ - y + 1 over every record of the table."""
    c = cells.sum(axis=(-4, -1))  # (..., 2 labels, 2 predictions)
    n0 = c[..., POS, NEG]  # false negatives: b = 0
    n1 = c[..., POS, POS] + c[..., NEG, NEG]  # b = 1
    n2 = c[..., NEG, POS]  # false positives: b = 2
    n = n0 + n1 + n2
    checks = Checks(n.shape)
    checks.require(n > 0, "dataset must be non-empty")
    mean = np.where(n > 0, (n1 + 2.0 * n2) / np.where(n > 0, n, 1.0), 0.0)
    checks.require(
        mean != 0,
        "All predicted labels are false negatives. There should be at least one prediction that is not false "
        "negative.",
    )
    safe = np.where(mean != 0, mean, 1.0)
    total = -n0 + n1 * ((1.0 / safe) ** 2 - 1.0) + n2 * ((2.0 / safe) ** 2 - 1.0)
    values = total / (np.where(n > 0, n, 1.0) * 2.0)
    return MetricArrays(checks.apply(values), checks)
