"""Clarify's `analysis_config.json` for bias, read as users already have it.

The same file drives a Clarify processing job and SageMaker's bias-drift monitor, so every key
Clarify defines is accepted; the ones the bias monitor uses are validated (`label`,
`label_values_or_threshold`, `facet`, `group_variable`, `probability_threshold`, `headers`,
`predicted_label`, `excluded_columns`, `methods`), the rest (`predictor`, `report`, `shap`,
`dataset_type`, ...) are kept unread. A bad file raises `ConfigError` naming the key.

Where the monitor variant of the file has no `methods` (SageMaker's `BiasAnalysisConfig`
writes only the bias config, `headers` and `label`), every pre- and post-training metric is
computed, as the bias-drift monitor does.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor_service import io
from monitor_service.core.json_fields import describe_validation_error
from monitor_service.errors import ConfigError
from monitor_service.monitors.model_bias.catalog import POST_TRAINING, PRE_TRAINING, Stage

Scalar = int | float | str | bool
Locator = int | str


def _as_list(value: Any) -> Any:
    """Clarify accepts a single threshold where a list is expected (`"label_values_or_threshold": 0.5`)."""
    return [value] if isinstance(value, int | float | str | bool) else value


# Values or one threshold: a non-empty list, a lone value read as a list of one.
Values = Annotated[list[Scalar], BeforeValidator(_as_list), Field(min_length=1)]


class Facet(BaseModel):
    """One sensitive attribute: a column, and optionally the values (or one threshold) that select group d."""

    model_config = ConfigDict(extra="allow")

    name_or_index: Locator
    value_or_threshold: Values | None = None  # left out: one group per value


class MethodList(BaseModel):
    """`{"methods": "all"}` or `{"methods": ["DPPL", "DI"]}` for one stage."""

    model_config = ConfigDict(extra="allow")

    methods: Literal["all"] | list[str] = "all"


class Methods(BaseModel):
    model_config = ConfigDict(extra="allow")

    pre_training_bias: MethodList | None = None
    post_training_bias: MethodList | None = None

    @model_validator(mode="after")
    def _known(self) -> Methods:
        for key, known in (("pre_training_bias", PRE_TRAINING), ("post_training_bias", POST_TRAINING)):
            stage = getattr(self, key)
            if stage is None or stage.methods == "all":
                continue
            unknown = [m for m in stage.methods if m not in known]
            if unknown:
                raise ValueError(
                    f"{key}.methods: unknown metrics {unknown}; use \"all\" or some of {sorted(known)}"
                )
            if not stage.methods:
                raise ValueError(f"{key}.methods: the list is empty; use \"all\" or name some metrics")
        return self


class AnalysisConfig(BaseModel):
    """The keys of a Clarify `analysis_config.json` the bias monitor reads; other keys are kept as they are."""

    model_config = ConfigDict(extra="allow")

    version: str | None = None
    headers: list[str] | None = None
    label: Locator
    label_values_or_threshold: Values
    predicted_label: Locator | None = None
    facet: list[Facet] = Field(min_length=1)
    group_variable: Locator | None = None
    probability_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    excluded_columns: list[Locator] | None = None
    methods: Methods | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and value != "1.0":
            raise ValueError('only version "1.0" exists')
        return value

    @model_validator(mode="after")
    def _indices_in_headers(self) -> AnalysisConfig:
        """A column index is resolved through `headers` when given: it must fall inside them."""
        if self.headers is None:
            return self
        locators = [("label", self.label), ("group_variable", self.group_variable),
                    ("predicted_label", self.predicted_label)]
        locators += [(f"facet[{i}].name_or_index", f.name_or_index) for i, f in enumerate(self.facet)]
        for key, value in locators:
            if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value < len(self.headers):
                raise ValueError(f"{key}: index {value} is outside headers (0..{len(self.headers) - 1})")
        return self

    def column(self, locator: Locator) -> str:
        """The column a name or index refers to: `headers[i]` for an index when headers are given, else `_c{i}`."""
        if isinstance(locator, int) and not isinstance(locator, bool):
            return self.headers[locator] if self.headers else f"_c{locator}"
        return locator

    @property
    def label_name(self) -> str:
        return self.column(self.label)

    def stage_methods(self, stage: Stage) -> list[str]:
        """The metrics asked for in a stage, sorted by name (Clarify's order); [] when the stage is not asked for."""
        known = PRE_TRAINING if stage == "pre_training" else POST_TRAINING
        if self.methods is None:
            return sorted(known)
        chosen = self.methods.pre_training_bias if stage == "pre_training" else self.methods.post_training_bias
        if chosen is None:
            return []
        return sorted(known) if chosen.methods == "all" else sorted(set(chosen.methods))


def parse_config(doc: Any, where: str = "analysis_config") -> AnalysisConfig:
    """Validate a parsed `analysis_config.json`; raises `ConfigError` naming the offending key."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{where} must be a JSON object, not {type(doc).__name__}")
    try:
        config = AnalysisConfig.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(
            f"{where} is not a usable Clarify bias analysis config: {describe_validation_error(exc, doc)}",
            hint="see docs/model_bias.md for the keys the bias monitor reads",
        ) from exc
    if not config.stage_methods("pre_training") and not config.stage_methods("post_training"):
        raise ConfigError(
            f"{where}: methods names neither pre_training_bias nor post_training_bias",
            hint='add e.g. "methods": {"post_training_bias": {"methods": "all"}}',
        )
    return config


def load_config(path: str) -> AnalysisConfig:
    """Read and validate an `analysis_config.json` from a local path or fsspec URL."""
    text = io.read_text(path, "analysis config")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"analysis config {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    return parse_config(doc, where=f"analysis config {path}")
