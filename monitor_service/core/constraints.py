"""Data-quality `constraints.json`: the model, tolerant reading, SageMaker-shaped writing, suggestion.

Reading accepts everything real files contain: per-feature overrides spelled
`monitoringConfigOverrides` (feature level, the documented schema) or `monitoring_config_overrides`
(inside `string_constraints` / `num_constraints`, as the SageMaker SDK writes them), the legacy
keys `enable_comparisons`, `min_domain_mass` and the misspelt `comparion_method`, integers where
floats are expected, and unknown keys (kept on write, otherwise ignored). A real shape error is a
`FormatError` saying where it is and how to fix it. Writing produces the container's shape with
floats, and puts overrides back where they were read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor_service import io
from monitor_service.core import drift
from monitor_service.core.drift import ColumnKind, column_kind
from monitor_service.core.drift.distributions import present_counts
from monitor_service.core.json_fields import (
    Fraction,
    Name,
    StrictNumber,
    Threshold,
    describe_validation_error,
    json_depth_error,
)
from monitor_service.core.profile import ColumnProfile, DatasetProfile
from monitor_service.core.types import InferredType
from monitor_service.errors import FormatError

Toggle = Literal["Enabled", "Disabled"]
# categorical_drift_method value meaning "L∞ with the Simple/Robust choice of comparison_method".
LINFINITY = "LInfinity"
OverridesAt = Literal["feature", "string_constraints", "num_constraints"]
# Deequ CategoricalRangeRule: suggest a domain when at most 10% of the categories occur once.
MAX_UNIQUE_VALUE_RATIO = 0.1
MAX_FEATURES = 100_000
MAX_DOMAIN_VALUES = 100_000


def _renamed(data: Any, legacy: dict[str, str]) -> Any:
    """Copy `data` with legacy keys moved to their current names (current names win)."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for old, new in legacy.items():
        if old in out:
            value = out.pop(old)
            out.setdefault(new, value)
    if isinstance(out.get("perform_comparison"), bool):  # legacy `enable_comparisons: true`
        out["perform_comparison"] = "Enabled" if out["perform_comparison"] else "Disabled"
    return out


_LEGACY_DISTRIBUTION = {"comparion_method": "comparison_method", "enable_comparisons": "perform_comparison"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _LegacyDistributionKeys(_Model):
    """Accepts `comparion_method` and `enable_comparisons: bool` wherever drift keys may appear."""

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        return _renamed(data, _LEGACY_DISTRIBUTION)


class MonitoringOverrides(_LegacyDistributionKeys):
    """Per-feature overrides of `monitoring_config` keys. `comparison_method` may name any
    registered drift method; `disabled_checks` (our extension) switches single checks off."""

    evaluate_constraints: Toggle | None = None
    emit_metrics: Toggle | None = None
    datatype_check_threshold: Fraction | None = None
    domain_content_threshold: Fraction | None = None
    perform_comparison: Toggle | None = None
    comparison_threshold: Threshold | None = None
    comparison_method: Name | None = None
    disabled_checks: Annotated[list[Name], Field(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _known_method(self) -> MonitoringOverrides:
        if self.comparison_method is not None:
            _require_method(self.comparison_method, None, "comparison_method")
        return self


class NumConstraints(_Model):
    is_non_negative: bool | None = None


class StringConstraints(_Model):
    domains: Annotated[list[str], Field(max_length=MAX_DOMAIN_VALUES)] | None = None


class FeatureConstraint(_Model):
    name: Name
    inferred_type: InferredType
    completeness: Fraction | None = None
    num_constraints: NumConstraints | None = None
    string_constraints: StringConstraints | None = None
    overrides: MonitoringOverrides | None = Field(default=None, alias="monitoringConfigOverrides")
    overrides_at: OverridesAt = Field(default="feature", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _collect_overrides(cls, data: Any) -> Any:
        """Move SDK-style `monitoring_config_overrides` out of the nested constraint objects."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for place in ("string_constraints", "num_constraints"):
            nested = data.get(place)
            if isinstance(nested, dict) and "monitoring_config_overrides" in nested:
                nested = dict(nested)
                found = nested.pop("monitoring_config_overrides")
                data[place] = nested
                if "monitoringConfigOverrides" not in data and "overrides" not in data:
                    data["monitoringConfigOverrides"], data["overrides_at"] = found, place
        if "monitoring_config_overrides" in data:
            data.setdefault("monitoringConfigOverrides", data.pop("monitoring_config_overrides"))
        return data

    @model_validator(mode="after")
    def _method_fits_type(self) -> FeatureConstraint:
        kind = column_kind(self.inferred_type)
        method = self.overrides.comparison_method if self.overrides else None
        if method is not None and kind is not None:
            _require_method(method, kind, "comparison_method")
        return self

    def to_dict(self) -> dict[str, Any]:
        out = self.model_dump(by_alias=True, exclude_none=True)
        target = out.get(self.overrides_at) if self.overrides_at != "feature" else None
        if isinstance(target, dict) and "monitoringConfigOverrides" in out:
            target["monitoring_config_overrides"] = out.pop("monitoringConfigOverrides")
        return out


class DistributionConstraints(_LegacyDistributionKeys):
    perform_comparison: Toggle = "Enabled"
    comparison_threshold: Threshold = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: Threshold | None = None
    categorical_drift_method: str | None = None

    @model_validator(mode="after")
    def _registered_methods(self) -> DistributionConstraints:
        _require_method(self.comparison_method, ColumnKind.NUMERIC, "comparison_method")
        if self.categorical_drift_method not in (None, LINFINITY):
            _require_method(self.categorical_drift_method, ColumnKind.CATEGORICAL, "categorical_drift_method")
        return self

    def categorical_method(self) -> str:
        """The method for String features: LInfinity (default) follows comparison_method's
        Simple/Robust choice (Robust unless comparison_method is Simple); any other registered
        categorical method (ChiSquared, ...) is used as is."""
        chosen = self.categorical_drift_method
        if chosen is not None and chosen != LINFINITY:
            return chosen
        simple = drift.DRIFT_METHODS.canonical(self.comparison_method) == "linf_simple"
        return "Simple" if simple else "Robust"


def _require_method(name: str | None, kind: ColumnKind | None, field: str) -> None:
    """A registered method (or alias) that can compare `kind` columns (any, if None); the error
    lists the registry's methods for that kind."""
    known = name is not None and name in drift.DRIFT_METHODS
    if not known or (kind is not None and not drift.get(str(name)).supports(kind)):
        choices = drift.names() if kind is None else drift.methods_for(kind)
        raise ValueError(
            f"{field} {name!r} is not a registered drift method{f' for {kind} features' if kind else ''}; "
            f"use one of {choices} or their aliases {sorted(drift.DRIFT_METHODS.aliases())}"
        )


class MonitoringConfig(_Model):
    evaluate_constraints: Toggle = "Enabled"
    emit_metrics: Toggle = "Enabled"
    datatype_check_threshold: Fraction = 1.0
    domain_content_threshold: Fraction = 1.0
    distribution_constraints: DistributionConstraints = Field(default_factory=DistributionConstraints)
    disabled_checks: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_domain_mass(cls, data: Any) -> Any:
        """Legacy files keep `min_domain_mass` inside distribution_constraints."""
        if isinstance(data, dict) and isinstance(data.get("distribution_constraints"), dict):
            data, nested = dict(data), dict(data["distribution_constraints"])
            if "min_domain_mass" in nested:
                data.setdefault("domain_content_threshold", nested.pop("min_domain_mass"))
            data["distribution_constraints"] = nested
        return data


@dataclass(frozen=True)
class FeatureSettings:
    """The monitoring settings in force for one feature: overrides applied over the global config."""

    evaluate: bool
    perform_comparison: bool
    datatype_check_threshold: float
    domain_content_threshold: float
    numeric_method: str
    numeric_threshold: float
    categorical_method: str
    categorical_threshold: float
    disabled_checks: frozenset[str]

    def check_enabled(self, check: str) -> bool:
        return self.evaluate and check not in self.disabled_checks

    def drift(self, kind: ColumnKind) -> tuple[str, float]:
        """(method name or alias, threshold) for a column of `kind`."""
        if kind is ColumnKind.NUMERIC:
            return self.numeric_method, self.numeric_threshold
        return self.categorical_method, self.categorical_threshold


class Constraints(_Model):
    version: StrictNumber = 0.0
    features: Annotated[list[FeatureConstraint], Field(max_length=MAX_FEATURES)] = Field(default_factory=list)
    monitoring_config: MonitoringConfig = Field(default_factory=MonitoringConfig)

    @classmethod
    def from_dict(cls, data: Any, source: str = "constraints.json") -> Constraints:
        problem = json_depth_error(data)
        if problem:
            raise FormatError(f"{source} {problem}; a constraints file nests 5 levels")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise FormatError(
                f"{source} is not a valid constraints file: {describe_validation_error(exc, data)}",
                hint="fix the named field (see SageMaker's constraints.json schema) and retry",
            ) from None

    def to_dict(self) -> dict[str, Any]:
        out = self.model_dump(by_alias=True, exclude_none=True)
        out["features"] = [f.to_dict() for f in self.features]
        return out

    def feature(self, name: str) -> FeatureConstraint | None:
        return next((f for f in self.features if f.name == name), None)

    def settings_for(self, name: str) -> FeatureSettings:
        """Effective settings of feature `name`: a per-feature override wins over the global value."""
        config, dist = self.monitoring_config, self.monitoring_config.distribution_constraints
        feature = self.feature(name)
        ov = (feature.overrides if feature else None) or MonitoringOverrides()
        disabled = ov.disabled_checks if ov.disabled_checks is not None else config.disabled_checks
        return FeatureSettings(
            evaluate=(ov.evaluate_constraints or config.evaluate_constraints) == "Enabled",
            perform_comparison=(ov.perform_comparison or dist.perform_comparison) == "Enabled",
            datatype_check_threshold=_first(ov.datatype_check_threshold, config.datatype_check_threshold),
            domain_content_threshold=_first(ov.domain_content_threshold, config.domain_content_threshold),
            numeric_method=ov.comparison_method or dist.comparison_method,
            numeric_threshold=_first(ov.comparison_threshold, dist.comparison_threshold),
            categorical_method=ov.comparison_method or dist.categorical_method(),
            categorical_threshold=_first(
                ov.comparison_threshold, dist.categorical_comparison_threshold, dist.comparison_threshold
            ),
            disabled_checks=frozenset(disabled or ()),
        )


def _first(*values: float | None) -> float:
    return next(v for v in values if v is not None)


def read_constraints(path: str) -> Constraints:
    return Constraints.from_dict(io.read_json(path, "constraints file"), source=path)


def write_constraints(path: str, constraints: Constraints) -> None:
    io.write_json_atomic(path, constraints.to_dict())


def suggest_constraints(profile: DatasetProfile) -> Constraints:
    """Deequ's DEFAULT suggestion rules as SageMaker renders them, with SageMaker's generated config.

    completeness is the observed completeness; numeric features get `is_non_negative` (true when
    the minimum is >= 0, NonNegativeNumbersRule); String features get `domains` when
    CategoricalRangeRule applies.
    """
    return Constraints(features=[_suggest_feature(column) for column in profile.columns])


def _suggest_feature(column: ColumnProfile) -> FeatureConstraint:
    numeric = column.numeric if column.inferred_type.is_numeric and column.num_present > 0 else None
    domains = suggest_domains(column)
    return FeatureConstraint(
        name=column.name,
        inferred_type=column.inferred_type,
        completeness=column.completeness,
        num_constraints=NumConstraints(is_non_negative=numeric.min >= 0.0) if numeric else None,
        string_constraints=StringConstraints(domains=domains) if domains else None,
    )


def suggest_domains(column: ColumnProfile) -> list[str] | None:
    """CategoricalRangeRule for String columns: a histogram exists and at most 10% of its keys
    ("NullValue" included) occur exactly once; values without "NullValue", most frequent first
    (equal counts by value, so the list does not depend on the order an engine met the values)."""
    if column.inferred_type is not InferredType.STRING or not column.histogram:
        return None
    singletons = sum(1 for count in column.histogram.values() if count == 1)
    if singletons / len(column.histogram) > MAX_UNIQUE_VALUE_RATIO:
        return None
    return domain_values(column)


def domain_values(column: ColumnProfile) -> list[str] | None:
    """The histogram's present values as `domains`: most frequent first, equal counts by value."""
    counts = present_counts(column.histogram) or {}
    return [value for value, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))] or None
