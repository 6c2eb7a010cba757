"""Checking a window's evaluation against a baseline analysis.json with the drift rule (pure numpy).

Each window entry is matched to the baseline entry of the same stage, facet and value (an
interval by its threshold, see `analysis_document.entry_key`). Its count table is resampled once
(`DriftSettings.bootstrap_samples` multinomial draws, seeded by the settings' seed and the
entry's position, so a re-run gives the same intervals) and every metric is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitor_service.monitors.model_bias.analysis_document import BaselineMetrics
from monitor_service.monitors.model_bias.counts import bootstrap_tables
from monitor_service.monitors.model_bias.drift import Check, DriftSettings, check_metric
from monitor_service.monitors.model_bias.evaluate import Evaluation
from monitor_service.monitors.model_bias.flip_test import bootstrap_flip_values
from monitor_service.monitors.model_bias.metrics import replicate_values
from monitor_service.monitors.model_bias.violations import Violation


@dataclass
class CheckedEntry:
    """The checks of one window entry, for the report; `baseline` is None when the baseline has no such entry."""

    stage: str
    facet: str
    value_or_threshold: str
    baseline: dict[str, float | None] | None
    checks: dict[str, Check] = field(default_factory=dict)


@dataclass
class CheckOutcome:
    violations: list[Violation]
    entries: list[CheckedEntry]
    unmatched: list[str]  # "facet value" of window entries with no baseline entry


def check_evaluation(evaluation: Evaluation, baseline: BaselineMetrics, settings: DriftSettings) -> CheckOutcome:
    violations: list[Violation] = []
    checked: list[CheckedEntry] = []
    unmatched: list[str] = []
    tables = {}
    for position, entry in enumerate(evaluation.entries):
        tables[(entry.facet, entry.value_or_threshold)] = (position, entry)
    for stage, block in evaluation.stages.items():
        for facet, facet_entries in block.facets.items():
            for facet_entry in facet_entries:
                position, data = tables[(facet, facet_entry.value_or_threshold)]
                reference = baseline.lookup(stage, facet, facet_entry.value_or_threshold)
                report = CheckedEntry(stage, facet, facet_entry.value_or_threshold, reference)
                checked.append(report)
                if reference is None:
                    unmatched.append(f"{facet} {facet_entry.value_or_threshold}")
                    continue
                rng = np.random.default_rng([settings.seed, position, 0 if stage == "pre_training" else 1])
                replicates = bootstrap_tables(data.table, settings.bootstrap_samples, rng)
                for metric in facet_entry.metrics:
                    if metric.value is None or metric.name not in reference:
                        continue
                    if metric.name == "FT":
                        values = (bootstrap_flip_values(data.flip, settings.bootstrap_samples, rng)
                                  if data.flip is not None else np.array([]))
                    else:
                        values = replicate_values(replicates, metric.name, data.table.groups is not None)
                    check = check_metric(metric.name, metric.value, reference[metric.name], values, settings)
                    if check is None:
                        continue
                    report.checks[metric.name] = check
                    if check.violated:
                        violations.append(Violation(facet, facet_entry.value_or_threshold, check))
    return CheckOutcome(violations, checked, sorted(set(unmatched)))
