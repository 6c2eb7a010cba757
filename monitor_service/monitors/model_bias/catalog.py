"""Every Clarify bias metric: its name, the exact `description` string Clarify writes, its ideal value.

The descriptions are Clarify's own (including its "Kullback-Liebler" spelling), because tools
that read `analysis.json` match on them. Clarify sorts metrics by name; so do we.
"""

from __future__ import annotations

from typing import Literal

Stage = Literal["pre_training", "post_training"]

PRE_TRAINING: dict[str, str] = {
    "CDDL": "Conditional Demographic Disparity in Labels (CDDL)",
    "CI": "Class Imbalance (CI)",
    "DPL": "Difference in Positive Proportions in Labels (DPL)",
    "JS": "Jensen-Shannon Divergence (JS)",
    "KL": "Kullback-Liebler Divergence (KL)",
    "KS": "Kolmogorov-Smirnov Distance (KS)",
    "LP": "L-p Norm (LP)",
    "TVD": "Total Variation Distance (TVD)",
}

POST_TRAINING: dict[str, str] = {
    "AD": "Accuracy Difference (AD)",
    "CDDPL": "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
    "DAR": "Difference in Acceptance Rates (DAR)",
    "DCA": "Difference in Conditional Acceptance (DCA)",
    "DCR": "Difference in Conditional Rejection (DCR)",
    "DI": "Disparate Impact (DI)",
    "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)",
    "DRR": "Difference in Rejection Rates (DRR)",
    "FT": "Flip Test (FT)",
    "GE": "Generalized Entropy (GE)",
    "RD": "Recall Difference (RD)",
    "SD": "Specificity Difference (SD)",
    "TE": "Treatment Equality (TE)",
}

STAGE_METRICS: dict[Stage, dict[str, str]] = {"pre_training": PRE_TRAINING, "post_training": POST_TRAINING}
DESCRIPTIONS: dict[str, str] = {**PRE_TRAINING, **POST_TRAINING}
# The analysis.json key of each stage.
STAGE_KEYS: dict[Stage, str] = {
    "pre_training": "pre_training_bias_metrics",
    "post_training": "post_training_bias_metrics",
}


def ideal(metric: str) -> float:
    """The value of a perfectly fair outcome: 1 for Disparate Impact (a ratio), 0 for every other metric."""
    return 1.0 if metric == "DI" else 0.0
