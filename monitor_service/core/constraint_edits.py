"""Edits to a `Constraints` document, as the REST API exposes them.

Each helper returns a new, validated `Constraints` and leaves its input untouched. Bad input is
a `ConfigError` that names the valid choices, taken from the registries themselves (drift
methods, checks) or from SageMaker's schema. SageMaker-native keys are used wherever they exist
(`evaluate_constraints`, `perform_comparison`, `comparison_method`, `comparison_threshold`);
switching off one single check other than drift uses our `disabled_checks` extension key.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from monitor_service.core import checks
from monitor_service.core.checks.baseline_drift_check import NAME as DRIFT_CHECK
from monitor_service.core.constraints import (
    Constraints,
    DistributionConstraints,
    FeatureConstraint,
    MonitoringConfig,
    MonitoringOverrides,
)
from monitor_service.core.json_fields import describe_validation_error
from monitor_service.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], data: dict[str, Any], what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid {what}: {describe_validation_error(exc, data)}") from None


def _feature(constraints: Constraints, name: str) -> FeatureConstraint:
    found = constraints.feature(name)
    if found is None:
        raise ConfigError(
            f"feature {name!r} is not in the constraints",
            hint=f"use one of {[f.name for f in constraints.features]}",
        )
    return found


def _with_overrides(constraints: Constraints, name: str, changes: dict[str, Any]) -> Constraints:
    """Copy with feature `name`'s overrides updated by `changes` (a None value removes a key)."""
    feature = _feature(constraints, name)
    current = feature.overrides.model_dump(exclude_none=True) if feature.overrides else {}
    merged = {k: v for k, v in {**current, **changes}.items() if v is not None}
    overrides = _validated(MonitoringOverrides, merged, f"overrides for feature {name!r}") if merged else None
    updated = feature.model_copy(update={"overrides": overrides})
    _validated(FeatureConstraint, updated.model_dump(by_alias=True), f"feature {name!r}")  # method fits the type
    return constraints.model_copy(update={"features": [updated if f.name == name else f for f in constraints.features]})


def _with_config(constraints: Constraints, changes: dict[str, Any], distribution: dict[str, Any]) -> Constraints:
    """Copy with global monitoring_config keys (`changes`) and distribution_constraints keys updated."""
    config = constraints.monitoring_config
    dist = _validated(
        DistributionConstraints,
        {**config.distribution_constraints.model_dump(exclude_none=True), **distribution},
        "distribution_constraints",
    )
    data = {**config.model_dump(exclude_none=True), **changes, "distribution_constraints": dist}
    config = _validated(MonitoringConfig, data, "monitoring_config")
    return constraints.model_copy(update={"monitoring_config": config})


def set_feature_drift(
    constraints: Constraints, feature: str, *, method: str | None = None, threshold: float | None = None
) -> Constraints:
    """Pin feature `feature`'s drift method (any registered name or alias that can compare the
    feature's type) and/or threshold."""
    changes = {"comparison_method": method, "comparison_threshold": threshold}
    return _with_overrides(constraints, feature, {k: v for k, v in changes.items() if v is not None})


def clear_feature_overrides(constraints: Constraints, feature: str) -> Constraints:
    """Drop every override of `feature`, so the global monitoring_config applies again."""
    feature_model = _feature(constraints, feature)
    keys = feature_model.overrides.model_dump() if feature_model.overrides else {}
    return _with_overrides(constraints, feature, dict.fromkeys(keys))


def set_global_drift(
    constraints: Constraints,
    *,
    method: str | None = None,
    threshold: float | None = None,
    categorical_method: str | None = None,
    categorical_threshold: float | None = None,
) -> Constraints:
    """Change the global drift settings (SageMaker's methods: Simple/Robust, LInfinity/ChiSquared)."""
    changes = {
        "comparison_method": method,
        "comparison_threshold": threshold,
        "categorical_drift_method": categorical_method,
        "categorical_comparison_threshold": categorical_threshold,
    }
    return _with_config(constraints, {}, {k: v for k, v in changes.items() if v is not None})


def set_check_enabled(
    constraints: Constraints, enabled: bool, *, check: str | None = None, feature: str | None = None
) -> Constraints:
    """Switch all checks (`check=None`) or one registered check on or off, globally or for a feature.

    All checks map to `evaluate_constraints`, drift to `perform_comparison`; any other single
    check is added to / removed from `disabled_checks`.
    """
    toggle = "Enabled" if enabled else "Disabled"
    if check is None:
        return _apply(constraints, feature, {"evaluate_constraints": toggle})
    check = checks.CHECKS.canonical(check)
    if feature is not None:
        disabled = set(constraints.settings_for(_feature(constraints, feature).name).disabled_checks)
    else:
        disabled = set(constraints.monitoring_config.disabled_checks or ())
    changes: dict[str, Any] = {}
    if check == DRIFT_CHECK:
        changes["perform_comparison"] = toggle
    if check != DRIFT_CHECK or (enabled and check in disabled):
        changes["disabled_checks"] = sorted(disabled - {check} if enabled else disabled | {check})
    return _apply(constraints, feature, changes)


def _apply(constraints: Constraints, feature: str | None, changes: dict[str, Any]) -> Constraints:
    """Write `changes` as overrides of `feature`, or into the global monitoring_config."""
    if feature is not None:
        return _with_overrides(constraints, feature, changes)
    distribution = {k: changes.pop(k) for k in list(changes) if k == "perform_comparison"}
    return _with_config(constraints, changes, distribution)
