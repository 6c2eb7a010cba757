"""From the count rows (and the flip-test sample) to Clarify's result blocks, in pure Python.

Each facet gives one entry per group d (see `facets`); each entry has its own count table, and
for post-training metrics its flip-test outcome. `Evaluation` keeps the tables and flips, because
the drift rule resamples them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from monitor_service.monitors.model_bias.analysis_document import FacetEntry, StageResult
from monitor_service.monitors.model_bias.attributes import BiasAttributes
from monitor_service.monitors.model_bias.catalog import Stage
from monitor_service.monitors.model_bias.config import AnalysisConfig
from monitor_service.monitors.model_bias.counts import CountTable
from monitor_service.monitors.model_bias.facets import Split, value_text
from monitor_service.monitors.model_bias.flip_test import NON_NUMERIC, FlipOutcome, FlipSample, flip_test
from monitor_service.monitors.model_bias.metrics import compute_metrics
from monitor_service.monitors.model_bias.plan import NO_POSITIVE_PREDICTION, Plan
from monitor_service.monitors.model_quality.problem import normalize_locator

CountRow = tuple[int, str | None, bool, bool, str | None, int]


@dataclass
class EntryData:
    """One facet entry: its name in analysis.json, a stable name for history, its table and FT outcome."""

    facet: str
    value_or_threshold: str
    history_name: str
    table: CountTable
    facet_index: int
    key: str  # the facet key of group d in the count rows ("d", or the value itself)
    split: Split
    flip: FlipOutcome | None = None


@dataclass
class Evaluation:
    stages: dict[Stage, StageResult]
    entries: list[EntryData] = field(default_factory=list)
    flip_sample_rows: int | None = None


def _groups(rows: list[CountRow], config: AnalysisConfig, plan: Plan) -> list[str] | None:
    if config.group_variable is None or plan.group_error is not None:
        return None
    return sorted({r[4] for r in rows if r[4] is not None})


def _entry_keys(rows: list[CountRow], index: int, integer_keys: bool) -> list[str]:
    keys = {r[1] for r in rows if r[0] == index and r[1] is not None}
    return sorted(keys, key=lambda k: (float(k), k) if integer_keys else (0.0, k))


def facet_entries(rows: list[CountRow], config: AnalysisConfig, plan: Plan) -> list[EntryData]:
    """Every (facet, group d) entry with its count table, in config order."""
    groups = _groups(rows, config, plan)
    entries = []
    for index, (facet, split) in enumerate(zip(config.facet, plan.facets, strict=True)):
        name = config.column(facet.name_or_index)
        mine = [r for r in rows if r[0] == index]
        if split.kind == "per_value":
            for key in _entry_keys(rows, index, split.integer_keys):
                table = CountTable.from_rows(((r[1] == key, r[2], r[3], r[4], r[5]) for r in mine), groups)
                entries.append(EntryData(name, key, f"{name}={key}", table, index, key, split))
            continue
        table = CountTable.from_rows(((r[1] == "d", r[2], r[3], r[4], r[5]) for r in mine), groups)
        if split.kind == "interval":
            history = f"{name}>{value_text(split.values[0])}"
        else:
            history = f"{name}={','.join(value_text(v) for v in facet.value_or_threshold or [])}"
        text = split.text if split.kind != "error" else ",".join(value_text(v) for v in facet.value_or_threshold or [])
        entries.append(EntryData(name, text, history, table, index, "d", split))
    return entries


def _feature_exclusions(config: AnalysisConfig, attrs: BiasAttributes, output_names: list[str]) -> set[str]:
    excluded = {config.label_name, *output_names}
    for locator in (attrs.inference_attribute, attrs.probability_attribute):
        if locator is not None:
            excluded.update(normalize_locator(locator))
    for column in [config.predicted_label, *(config.excluded_columns or [])]:
        if column is not None:
            excluded.add(config.column(column))
    return excluded


def _feature_matrix(sample: FlipSample, names: list[str]) -> tuple[NDArray[np.float64] | None, str | None]:
    """The sample's features as numbers; (None, error) when a column is not numeric or has gaps."""
    matrix = np.empty((len(sample.fields), len(names)))
    for j, name in enumerate(names):
        for i, record in enumerate(sample.fields):
            text = record.get(name)
            if text is None or not text.strip():
                return None, f"FlipTest does not support missing feature values (column {name})"
            lowered = text.strip().lower()
            if lowered in ("true", "false"):
                matrix[i, j] = 1.0 if lowered == "true" else 0.0
                continue
            try:
                matrix[i, j] = float(text)
            except ValueError:
                return None, NON_NUMERIC
            if not math.isfinite(matrix[i, j]):
                return None, NON_NUMERIC
    return matrix, None


def flip_outcome(
    sample: FlipSample,
    entry: EntryData,
    config: AnalysisConfig,
    attrs: BiasAttributes,
    output_names: list[str],
) -> FlipOutcome:
    """FT of one entry on the sample: features are the headers (or every field) but the facet, label and outputs."""
    excluded = _feature_exclusions(config, attrs, output_names) | {entry.facet}
    seen = set(config.headers) if config.headers else {n for rec in sample.fields for n in rec}
    names = sorted(n for n in seen if n not in excluded and not n.startswith("output."))
    in_d = np.array([keys[entry.facet_index] == entry.key for keys in sample.keys], dtype=bool)
    predicted = np.array(sample.predicted, dtype=bool)
    features, error = _feature_matrix(sample, names)
    if features is None:
        if not in_d.any() or in_d.all():
            return flip_test(None, in_d, predicted)
        return FlipOutcome(None, error)
    return flip_test(features, in_d, predicted)


def evaluate(
    rows: list[CountRow],
    config: AnalysisConfig,
    attrs: BiasAttributes,
    plan: Plan,
    sample: FlipSample | None,
    output_names: list[str] | None = None,
) -> Evaluation:
    """Clarify's pre- and post-training blocks for the asked-for stages."""
    entries = facet_entries(rows, config, plan)
    post_error = plan.post_training_error
    if post_error is None and not any(r[3] for r in rows):
        post_error = NO_POSITIVE_PREDICTION
    post_names = config.stage_methods("post_training")
    if "FT" in post_names and post_error is None and sample is not None:
        for entry in entries:
            entry.flip = flip_outcome(sample, entry, config, attrs, output_names or [])
    stages: dict[Stage, StageResult] = {}
    for stage in ("pre_training", "post_training"):
        names = config.stage_methods(stage)
        if not names:
            continue
        block = StageResult(config.label_name, plan.label.text)
        for entry in entries:
            split_error = entry.split.error if entry.split.kind == "error" else None
            error = split_error or (post_error if stage == "post_training" else None)
            metrics = compute_metrics(entry.table, names, entry.flip, stage_error=error, group_error=plan.group_error)
            block.facets.setdefault(entry.facet, []).append(FacetEntry(entry.value_or_threshold, metrics))
        stages[stage] = block
    return Evaluation(stages, entries, len(sample.fields) if sample is not None else None)

