"""nDCG between a baseline's and a window's global attributions (Clarify's drift score).

For each label: F = features sorted by baseline attribution, F' = sorted by the window's,
a(f) = the baseline attribution; DCG = Σ a(F'_i)/log2(i+1), iDCG = Σ a(F_i)/log2(i+1),
nDCG = DCG/iDCG. The AWS guide links scikit-learn's `ndcg_score`, so ties in the window's
ranking are handled as it does: tied features share the average of their baseline gains
(an order between equal attributions is not a ranking change). A baseline feature missing
from the window counts as attribution 0 there. With every baseline attribution 0 the ranking
carries no information and the score is undefined (None).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _dcg(gains: np.ndarray, scores: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    ranked_scores, ranked_gains = scores[order], gains[order]
    discounts = 1.0 / np.log2(np.arange(2, len(gains) + 2))
    total, i = 0.0, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and ranked_scores[j + 1] == ranked_scores[i]:
            j += 1
        total += float(ranked_gains[i : j + 1].mean() * discounts[i : j + 1].sum())
        i = j + 1
    return total


def ndcg(baseline: Mapping[str, float], current: Mapping[str, float]) -> float | None:
    """nDCG of the window's ranking against the baseline's, over the baseline's features."""
    features = list(baseline)
    if not features:
        return None
    gains = np.asarray([float(baseline[f]) for f in features])
    scores = np.asarray([float(current.get(f, 0.0)) for f in features])
    ideal = _dcg(gains, gains)
    if ideal == 0.0:
        return None
    return _dcg(gains, scores) / ideal
