"""Pre-training bias metrics (observed labels only) as functions of count tables, with Clarify's definitions.

Each takes cells of shape (..., 2 sides, 2 labels, 2 predictions, G + 1 groups) (see `counts`)
and returns `MetricArrays`. Notation: a = the rest, d = the facet group; n_x its size; q_x its
share of positive labels. As in smclarify 0.5 (the reference; where its code and the AWS
documentation differ we follow the code):
- KL, JS, LP, TVD and KS compare the two groups' distributions of the label collapsed to
  positive / not positive, over the label values present (non-zero) in BOTH groups, without
  renormalising: KL stays finite when d has no positives, and KS equals |DPL| only when both
  groups have both label values.
- CDDL: per group-variable value i, DD_i = (share of d among the negative labels of i) -
  (share of d among the positive labels of i), a share with no records being 0; weighted by the
  records of i; an error when the data set has no positive or no negative label.
"""

from __future__ import annotations

import numpy as np

from monitor_service.monitors.model_bias.conventions import Array, Checks, MetricArrays, divide
from monitor_service.monitors.model_bias.counts import NEG, POS, A, D

GROUP_MISSING = "Group variable is empty or not provided"
NO_COMMON = "No instance of common facet found, dataset may be too small"


def _sides(cells: Array) -> Array:
    return cells.sum(axis=(-3, -2, -1))  # (..., 2)


def _labels(cells: Array) -> Array:
    return cells.sum(axis=(-2, -1))  # (..., 2 sides, 2 labels)


def ci(cells: Array) -> MetricArrays:
    n = _sides(cells)
    checks = Checks(n.shape[:-1])
    checks.require(n[..., A] != 0, "CI: negated facet set is empty. Check that x[~facet] has non-zero length.")
    checks.require(n[..., D] != 0, "CI: facet set is empty. Check that x[facet] has non-zero length.")
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (n[..., A] - n[..., D]) / (n[..., A] + n[..., D])
    return MetricArrays(checks.apply(values), checks)


def positive_proportion_difference(positives: Array, sizes: Array, messages: tuple[str, str]) -> MetricArrays:
    """q_a - q_d over a (..., 2 sides) array of positives; shared by DPL (labels) and DPPL (predictions)."""
    checks = Checks(sizes.shape[:-1])
    checks.require(sizes[..., A] != 0, messages[0])
    checks.require(sizes[..., D] != 0, messages[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        values = positives[..., A] / sizes[..., A] - positives[..., D] / sizes[..., D]
    return MetricArrays(checks.apply(values), checks)


def dpl(cells: Array) -> MetricArrays:
    return positive_proportion_difference(
        _labels(cells)[..., POS], _sides(cells), ("Negative facet set is empty.", "Facet set is empty.")
    )


def _aligned(cells: Array) -> tuple[Array, Array, Array, Checks]:
    """Label distributions of a and d, and which label values are non-zero in both."""
    labels = _labels(cells)
    n = labels.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = labels / n  # (..., 2 sides, 2 labels)
    pa, pd_ = p[..., A, :], p[..., D, :]
    keep = (labels[..., A, :] > 0) & (labels[..., D, :] > 0)
    checks = Checks(labels.shape[:-2])
    checks.require(keep.any(axis=-1), NO_COMMON)
    return np.where(keep, pa, 1.0), np.where(keep, pd_, 1.0), keep, checks


def kl(cells: Array) -> MetricArrays:
    pa, pd_, keep, checks = _aligned(cells)
    values = np.where(keep, pa * np.log(pa / pd_), 0.0).sum(axis=-1)
    return MetricArrays(checks.apply(values), checks)


def js(cells: Array) -> MetricArrays:
    pa, pd_, keep, checks = _aligned(cells)
    mid = 0.5 * (pa + pd_)
    left = np.where(keep, pa * np.log(pa / mid), 0.0).sum(axis=-1)
    right = np.where(keep, pd_ * np.log(pd_ / mid), 0.0).sum(axis=-1)
    return MetricArrays(checks.apply(0.5 * (left + right)), checks)


def lp(cells: Array) -> MetricArrays:
    pa, pd_, keep, checks = _aligned(cells)
    values = np.sqrt(np.where(keep, (pa - pd_) ** 2, 0.0).sum(axis=-1))
    return MetricArrays(checks.apply(values), checks)


def tvd(cells: Array) -> MetricArrays:
    pa, pd_, keep, checks = _aligned(cells)
    values = 0.5 * np.where(keep, np.abs(pa - pd_), 0.0).sum(axis=-1)
    return MetricArrays(checks.apply(values), checks)


def ks(cells: Array) -> MetricArrays:
    pa, pd_, keep, checks = _aligned(cells)
    values = np.where(keep, np.abs(pa - pd_), 0.0).max(axis=-1)
    return MetricArrays(checks.apply(values), checks)


def conditional_demographic_disparity(outcome: Array, has_groups: bool) -> MetricArrays:
    """CDD over (..., 2 sides, 2 outcomes, G + 1 groups) counts: CDDL with labels, CDDPL with predictions."""
    checks = Checks(outcome.shape[:-3])
    checks.require(np.asarray(has_groups), GROUP_MISSING)
    grouped = outcome[..., :-1]  # the last slot holds records without a group value
    positives = grouped[..., POS, :].sum(axis=-2)  # (..., G)
    negatives = grouped[..., NEG, :].sum(axis=-2)
    # The data set as a whole (records without a group value included) needs both outcomes.
    checks.require(outcome[..., POS, :].sum(axis=(-2, -1)) != 0, "No positive labels in set")
    checks.require(outcome[..., NEG, :].sum(axis=(-2, -1)) != 0, "No negative labels in set")
    with np.errstate(invalid="ignore", divide="ignore"):
        accepted = np.where(positives != 0, grouped[..., D, POS, :] / positives, 0.0)
        rejected = np.where(negatives != 0, grouped[..., D, NEG, :] / negatives, 0.0)
    sizes = grouped.sum(axis=(-3, -2))
    values = divide((sizes * (rejected - accepted)).sum(axis=-1), sizes.sum(axis=-1))
    return MetricArrays(checks.apply(values), checks)


def cddl(cells: Array, has_groups: bool) -> MetricArrays:
    return conditional_demographic_disparity(cells.sum(axis=-2), has_groups)
