"""Editing model-quality constraints in place: per metric its threshold and comparison operator, or
no constraint at all. The PATCH body of `/api/v1/baselines/{id}/constraints` for ModelQuality
baselines and the dashboard's constraints form both end here, so both get the same validation
(the engine's own `parse_constraints`) and the same errors, naming the metric."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor_service.errors import FormatError, InvalidField
from monitor_service.monitors.model_quality.constraints import OPERATORS, parse_constraints
from monitor_service.monitors.model_quality.metrics import METRICS
from monitor_service.monitors.model_quality.problem import BLOCKS
from monitor_service.monitors.model_quality.settings import constraints_problem_type
from monitor_service.monitors.panels import FormField, FormValues

NONE = "none"  # the form's operator choice meaning "no constraint on this metric"


class MetricConstraintPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float | None = Field(default=None, description="the constraint's threshold")
    comparison_operator: str | None = Field(default=None, description="when the metric violates it, e.g. "
                                                                      "LessThanThreshold")
    enabled: bool | None = Field(default=None, description="false removes the metric's constraint")


class ModelQualityConstraintsPatch(BaseModel):
    """Model-quality constraint edits by metric (auc, f2, mae, ...); a new baseline version."""

    model_config = ConfigDict(extra="forbid")

    metrics: dict[str, MetricConstraintPatch] = Field(description="metric -> its edit")


def _block(document: Mapping[str, Any]) -> tuple[str, str]:
    try:
        problem = constraints_problem_type(dict(document))
    except FormatError as exc:
        raise InvalidField("constraints", str(exc)) from None
    return problem, BLOCKS[problem].constraints


def apply_patch(document: Mapping[str, Any], patch: ModelQualityConstraintsPatch) -> dict[str, Any]:
    """The edited constraints document (the input is left untouched)."""
    problem, key = _block(document)
    edited = copy.deepcopy(dict(document))
    block: dict[str, Any] = edited.setdefault(key, {})
    for metric, change in patch.metrics.items():
        if change.enabled is False:
            block.pop(metric, None)
            continue
        entry = dict(block.get(metric) or {})
        if change.threshold is not None:
            if not math.isfinite(change.threshold):
                raise InvalidField(f"metrics.{metric}.threshold", "the threshold must be a finite number")
            entry["threshold"] = change.threshold
        if change.comparison_operator is not None:
            entry["comparison_operator"] = change.comparison_operator
        if "threshold" not in entry or "comparison_operator" not in entry:
            raise InvalidField(f"metrics.{metric}", f"{metric} has no constraint yet: give both threshold and "
                                                    "comparison_operator")
        block[metric] = entry
    try:
        parse_constraints(edited, problem, where="constraints")
    except FormatError as exc:
        raise InvalidField("metrics", str(exc)) from None
    return edited


def form(documents: Mapping[str, dict[str, Any]]) -> list[FormField]:
    """Per metric of the problem type: its operator (or none) and threshold."""
    document = documents.get("constraints") or {}
    problem, key = _block(document)
    block = document.get(key) or {}
    names = list(dict.fromkeys([*block, *(m.name for m in METRICS[problem] if m.scalar and m.direction)]))
    fields = []
    for metric in names:
        entry = block.get(metric) or {}
        operator = str(entry.get("comparison_operator", NONE))
        threshold = entry.get("threshold")
        fields += [FormField(f"metrics.{metric}.comparison_operator", "violated when", "select", operator,
                             (NONE, *OPERATORS.names()), section=metric),
                   FormField(f"metrics.{metric}.threshold", "threshold", "number",
                             "" if threshold is None else f"{threshold:g}", section=metric)]
    return fields


def patch_from_form(documents: Mapping[str, dict[str, Any]], values: FormValues) -> ModelQualityConstraintsPatch:
    document = documents.get("constraints") or {}
    _, key = _block(document)
    block = document.get(key) or {}
    changes: dict[str, dict[str, Any]] = {}
    for field in form(documents):
        if not field.name.endswith(".comparison_operator"):
            continue
        metric = field.section
        operator = (values.get(field.name) or [str(field.value)])[-1]
        raw = (values.get(f"metrics.{metric}.threshold") or [""])[-1].strip()
        current = block.get(metric)
        if operator == NONE:
            if current is not None:
                changes[metric] = {"enabled": False}
            continue
        if raw == "":
            raise InvalidField(f"metrics.{metric}.threshold", f"give {metric} a threshold (or choose {NONE!r})",
                               location="form")
        try:
            threshold = float(raw)
        except ValueError:
            raise InvalidField(f"metrics.{metric}.threshold", f"{raw!r} is not a number", location="form") from None
        if current is None or current.get("comparison_operator") != operator or current.get("threshold") != threshold:
            changes[metric] = {"threshold": threshold, "comparison_operator": operator}
    try:
        return ModelQualityConstraintsPatch.model_validate({"metrics": changes})
    except ValidationError as exc:  # pragma: no cover - the values above are typed already
        raise InvalidField("metrics", str(exc.errors()[0]["msg"]), location="form") from None
