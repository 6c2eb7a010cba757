"""From the first (profile) pass to the plan of the count pass: how every facet, the label and the prediction split.

Clarify types columns from the data it analyses, so the split of a column into d and a is
known only after a look at its values (`column_types`). The Spark adapter profiles the columns
in one aggregate, this module decides (pure Python), and the count aggregation follows the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from monitor_service.errors import InputError
from monitor_service.monitors.model_bias.attributes import BiasAttributes
from monitor_service.monitors.model_bias.column_types import ColumnProfile, DataType, data_type
from monitor_service.monitors.model_bias.config import AnalysisConfig
from monitor_service.monitors.model_bias.facets import Split, interval, plan_split

PredictionSource = Literal["inference", "probability", "predicted_label", "model", "none"]
MAX_FACET_VALUES = 1000  # one entry per value (no value_or_threshold) beyond this is refused
MAX_GROUPS = 10_000  # group-variable values for CDDL / CDDPL

DTYPE_MISMATCH = "Predicted Label Column series datatype is not the same as Label Column series"
NO_POSITIVE_PREDICTION = (
    "No Label values are present in the predicted Label Column,"
    "Positive Predicted Index Series contains all False values"
)


@dataclass(frozen=True)
class Profiles:
    """The profile pass's results: per facet, the label, the text prediction (if any), and distinct counts."""

    facets: list[ColumnProfile]
    facet_distinct_text: list[int]
    label: ColumnProfile
    prediction: ColumnProfile | None
    group_distinct: int | None


@dataclass(frozen=True)
class Plan:
    facets: list[Split]
    label: Split
    prediction_source: PredictionSource
    prediction: Split | None  # for a text prediction: how it splits (like the label)
    probability_threshold: float
    post_training_error: str | None  # fails every post-training metric (Clarify fails the whole report)
    group_error: str | None  # fails CDDL / CDDPL


def prediction_source(config: AnalysisConfig, attrs: BiasAttributes) -> PredictionSource:
    if attrs.inference_attribute is not None:
        return "inference"
    if attrs.probability_attribute is not None:
        return "probability"
    if config.predicted_label is not None:
        return "predicted_label"
    from monitor_service.monitors.model_bias.model_scores import usable_predictor

    return "model" if usable_predictor(config)[0] else "none"


def make_plan(config: AnalysisConfig, attrs: BiasAttributes, profiles: Profiles) -> Plan:
    """Decide every split from the profiles; raises `InputError` when the label cannot be split at all."""
    facets = []
    for facet, profile, distinct in zip(config.facet, profiles.facets, profiles.facet_distinct_text, strict=True):
        split = plan_split(profile, facet.value_or_threshold)
        if split.kind == "per_value" and distinct > MAX_FACET_VALUES:
            split = Split(
                "error",
                split.data_type,
                error=f"facet {config.column(facet.name_or_index)} has {distinct} distinct values (more than "
                f"{MAX_FACET_VALUES}); give value_or_threshold to name the sensitive group",
            )
        facets.append(split)
    values = config.label_values_or_threshold
    label = plan_split(profiles.label, values)
    if label.kind == "error":
        raise InputError(
            f"the label column {config.label_name} cannot be split into positive and negative: {label.error}",
            hint="label_values_or_threshold must list the positive values, or hold one number for a numeric label",
        )
    source = prediction_source(config, attrs)
    threshold = attrs.probability_threshold if attrs.probability_threshold is not None else config.probability_threshold
    prediction, error = None, None
    if source in ("inference", "predicted_label") and profiles.prediction is not None:
        kind = data_type(profiles.prediction, values)
        if kind != label.data_type:
            error = DTYPE_MISMATCH
        elif kind == DataType.CONTINUOUS:
            found = interval(values[0], profiles.label.combined(profiles.prediction))
            prediction = Split("interval", kind, values=list(values), interval=found, text=found.text if found else "")
        else:
            prediction = Split("values", kind, values=list(values), text=label.text)
    group_error = None
    if config.group_variable is None:
        group_error = "Group variable is empty or not provided"
    elif profiles.group_distinct is not None and profiles.group_distinct > MAX_GROUPS:
        group_error = (
            f"group variable {config.column(config.group_variable)} has {profiles.group_distinct} distinct values "
            f"(more than {MAX_GROUPS})"
        )
    return Plan(facets, label, source, prediction, threshold, error, group_error)
