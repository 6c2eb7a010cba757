"""Every bias metric of one facet entry, by name, from its count table (and the flip-test outcome).

`compute_metrics` gives Clarify's result entries (name, description, value or error), sorted by
name; `replicate_values` gives the same metrics over a stack of bootstrap tables, for the
drift rule. Both are pure numpy over counts, so tests check them without Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monitor_service.monitors.model_bias import posttraining as post
from monitor_service.monitors.model_bias import pretraining as pre
from monitor_service.monitors.model_bias.catalog import DESCRIPTIONS, PRE_TRAINING, Stage
from monitor_service.monitors.model_bias.conventions import Array, MetricArrays
from monitor_service.monitors.model_bias.counts import CountTable
from monitor_service.monitors.model_bias.flip_test import FlipOutcome

CountMetric = Callable[[Array, bool], MetricArrays]

# Every count metric: (name, function of the count cells, whether it also takes `has_groups`);
# only the conditional demographic disparities (CDDL, CDDPL) depend on the group variable.
_COUNT_METRIC_TABLE: tuple[tuple[str, Callable[..., MetricArrays], bool], ...] = (
    ("CI", pre.ci, False),
    ("DPL", pre.dpl, False),
    ("KL", pre.kl, False),
    ("JS", pre.js, False),
    ("LP", pre.lp, False),
    ("TVD", pre.tvd, False),
    ("KS", pre.ks, False),
    ("CDDL", pre.cddl, True),
    ("DPPL", post.dppl, False),
    ("DI", post.di, False),
    ("DCA", post.dca, False),
    ("DCR", post.dcr, False),
    ("RD", post.rd, False),
    ("SD", post.sd, False),
    ("DAR", post.dar, False),
    ("DRR", post.drr, False),
    ("AD", post.ad, False),
    ("TE", post.te, False),
    ("CDDPL", post.cddpl, True),
    ("GE", post.ge, False),
)


def _count_metric(function: Callable[..., MetricArrays], takes_groups: bool) -> CountMetric:
    if takes_groups:
        return function
    return lambda cells, has_groups: function(cells)


COUNT_METRICS: dict[str, CountMetric] = {
    name: _count_metric(function, takes_groups) for name, function, takes_groups in _COUNT_METRIC_TABLE
}


@dataclass(frozen=True)
class MetricResult:
    """One entry of a facet's `metrics` list in analysis.json."""

    name: str
    value: float | None
    error: str | None = None

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.name]

    def to_json(self) -> dict[str, object]:
        entry: dict[str, object] = {"name": self.name, "description": self.description, "value": self.value}
        if self.error is not None:
            entry["error"] = self.error
        return entry


def compute_metrics(
    table: CountTable,
    names: list[str],
    flip: FlipOutcome | None = None,
    stage_error: str | None = None,
    group_error: str | None = None,
) -> list[MetricResult]:
    """The named metrics of one facet entry, sorted by name.

    `stage_error` (e.g. no positive prediction at all) fails every metric, as Clarify fails the
    whole post-training report; `group_error` fails CDDL / CDDPL (no or too many group values);
    FT comes from `flip` (None: not computed, reported as an error).
    """
    results = []
    for name in sorted(names):
        if stage_error is not None:
            results.append(MetricResult(name, None, stage_error))
        elif name in ("CDDL", "CDDPL") and group_error is not None:
            results.append(MetricResult(name, None, group_error))
        elif name == "FT":
            outcome = flip or FlipOutcome(None, "FlipTest was not run")
            results.append(MetricResult(name, outcome.value, outcome.error))
        else:
            value, error = COUNT_METRICS[name](table.cells, table.groups is not None).point()
            results.append(MetricResult(name, value, error))
    return results


def replicate_values(replicates: Array, name: str, has_groups: bool) -> Array:
    """A count metric over a stack of tables (NaN where a replicate cannot be computed)."""
    values: Array = COUNT_METRICS[name](replicates, has_groups).values
    return np.asarray(values, dtype=float)


def stage_of(name: str) -> Stage:
    return "pre_training" if name in PRE_TRAINING else "post_training"
