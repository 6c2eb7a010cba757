"""Editing data-quality constraints over REST: the PATCH body and how it maps onto the engine.

Edits go through the engine's edit helpers (`core.constraint_edits`), which check drift methods
and checks against their registries; this module only maps a REST patch onto those helpers and
names the offending field when one of them refuses a value.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.core.constraint_edits import (
    clear_feature_overrides,
    set_check_enabled,
    set_feature_drift,
    set_global_drift,
)
from monitor_service.core.constraints import Constraints
from monitor_service.deequ.checks import DeequChecks
from monitor_service.errors import ConfigError, FormatError, InvalidField
from monitor_service.security.text import RequestModel

ALL_CHECKS = "all"


class DriftPatch(BaseModel):
    """Global drift settings; methods are names or aliases from the drift-method registry."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = Field(default=None, description="numeric comparison_method, e.g. Robust, Simple, psi")
    threshold: float | None = Field(default=None, ge=0)
    categorical_method: str | None = Field(default=None, description="e.g. LInfinity, ChiSquared")
    categorical_threshold: float | None = Field(default=None, ge=0)


class FeaturePatch(BaseModel):
    """Changes to one feature; an explicit null removes that constraint."""

    model_config = ConfigDict(extra="forbid")

    completeness: float | None = Field(default=None, ge=0, le=1)
    is_non_negative: bool | None = None
    domains: list[str] | None = None
    drift_method: str | None = None
    drift_threshold: float | None = Field(default=None, ge=0)
    checks: dict[str, bool] = Field(default_factory=dict,
                                    description="check name (or 'all') -> enabled, for this feature only")
    clear_overrides: bool = Field(default=False, description="drop this feature's overrides first")


class ConstraintsPatch(RequestModel):
    """A validated edit of a baseline's constraints; applied in the order of the fields."""

    model_config = ConfigDict(extra="forbid")

    datatype_check_threshold: float | None = Field(default=None, ge=0, le=1)
    domain_content_threshold: float | None = Field(default=None, ge=0, le=1)
    drift: DriftPatch | None = None
    checks: dict[str, bool] = Field(default_factory=dict, description="check name (or 'all') -> enabled")
    features: dict[str, FeaturePatch] = Field(default_factory=dict)
    deequ_checks: list[dict[str, Any]] | None = Field(
        default=None, description="replaces the Deequ checks block (docs/deequ.md); null removes it")


@contextmanager
def _field(name: str) -> Iterator[None]:
    """Turn the engine's ConfigError into a 422 that names the request field."""
    try:
        yield
    except InvalidField:
        raise
    except (ConfigError, FormatError) as exc:
        raise InvalidField(name, str(exc)) from None


def _set_or_drop(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _plain_edits(document: dict[str, Any], patch: ConstraintsPatch) -> dict[str, Any]:
    """Values the engine has no helper for: thresholds and per-feature constraint values."""
    data = copy.deepcopy(document)
    config = data.setdefault("monitoring_config", {})
    for key in ("datatype_check_threshold", "domain_content_threshold"):
        if key in patch.model_fields_set:
            _set_or_drop(config, key, getattr(patch, key))
    if "deequ_checks" in patch.model_fields_set:
        with _field("deequ_checks"):
            DeequChecks.from_json(patch.deequ_checks, "deequ_checks")
        _set_or_drop(data, "deequ_checks", patch.deequ_checks)
    by_name = {f.get("name"): f for f in data.get("features", [])}
    unknown = sorted(set(patch.features) - set(by_name))
    if unknown:
        raise InvalidField("features", f"features {unknown} are not in this baseline's constraints",
                           hint=f"use one of {sorted(by_name)}")
    for name, edit in patch.features.items():
        feature, given = by_name[name], edit.model_fields_set
        if "completeness" in given:
            _set_or_drop(feature, "completeness", edit.completeness)
        for key, place in (("is_non_negative", "num_constraints"), ("domains", "string_constraints")):
            if key in given:
                _set_or_drop(feature.setdefault(place, {}), key, getattr(edit, key))
                if not feature[place]:
                    del feature[place]
    return data


def apply_patch(document: dict[str, Any], patch: ConstraintsPatch) -> dict[str, Any]:
    """Return the edited constraints document; the input is left untouched."""
    with _field("features"):
        constraints = Constraints.from_dict(_plain_edits(document, patch), "the edited constraints")
    if patch.drift is not None:
        with _field("drift"):
            drift = patch.drift
            constraints = set_global_drift(constraints, method=drift.method, threshold=drift.threshold,
                                           categorical_method=drift.categorical_method,
                                           categorical_threshold=drift.categorical_threshold)
    for check, enabled in patch.checks.items():
        with _field(f"checks.{check}"):
            constraints = set_check_enabled(constraints, enabled, check=None if check == ALL_CHECKS else check)
    for name, edit in patch.features.items():
        with _field(f"features.{name}"):
            if edit.clear_overrides:
                constraints = clear_feature_overrides(constraints, name)
            if edit.drift_method is not None or edit.drift_threshold is not None:
                constraints = set_feature_drift(constraints, name, method=edit.drift_method,
                                                threshold=edit.drift_threshold)
            for check, enabled in edit.checks.items():
                constraints = set_check_enabled(constraints, enabled, check=None if check == ALL_CHECKS else check,
                                                feature=name)
    return constraints.to_dict()
