"""The explainability analysis config: Clarify's keys, validated once, plus a few of our own.

Clarify keys used: `headers` (column names of the dataset, positionally), `label` and
`predicted_label` (columns that are not features), `excluded_columns`, `features` (the JSON key
holding a record's feature list), `methods.shap` and `predictor`. Keys of other Clarify
analyses (`methods.pre_training_bias`, `facet`, `methods.report`, ...) are accepted and ignored,
so one config file can drive several monitors.

Our additions (ignored by Clarify): in `methods.shap`, `explainer` (`auto` | `tree` | `kernel`),
`max_records` (rows explained per run, a seeded uniform sample; default 10,000, null for all),
`num_background` (rows in a sampled background, default 100) and `keep_missing` (explain rows
with missing feature values instead of skipping them, for models that handle NaN); at the top
level `attribution_drift_check` `{"threshold": 0.9, "label_thresholds": {"label1": 0.8}}`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor_service import io
from monitor_service.core.json_fields import describe_validation_error
from monitor_service.errors import ConfigError, FormatError, InputError
from monitor_service.predictor import PredictorConfig, parse_predictor

AggMethod = Literal["mean_abs", "median", "mean_sq"]
ExplainerChoice = Literal["auto", "tree", "kernel"]
DEFAULT_THRESHOLD = 0.9
DEFAULT_MAX_RECORDS = 10_000
DEFAULT_NUM_CLUSTERS = 10
DEFAULT_NUM_BACKGROUND = 100
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]{1,128}")


class ShapConfig(BaseModel):
    """`methods.shap`: Clarify's keys (see module docstring for ours)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline: str | list[Any] | None = None
    num_clusters: int | None = Field(default=None, ge=1, le=1000)
    num_samples: int | None = Field(default=None, ge=1)
    agg_method: AggMethod = "mean_abs"
    use_logit: bool = False
    save_local_shap_values: bool = False
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    features_to_explain: list[str | int] | None = None
    explainer: ExplainerChoice = "auto"
    max_records: int | None = Field(default=DEFAULT_MAX_RECORDS, ge=1)
    num_background: int = Field(default=DEFAULT_NUM_BACKGROUND, ge=1, le=10_000)
    keep_missing: bool = False

    @model_validator(mode="before")
    @classmethod
    def _unsupported(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("text_config", "image_config"):
                if key in data:
                    raise ValueError(f"{key}: text and image explanations are not supported; explain tabular features")
            if data.get("seed") is None and "seed" in data:
                data = {k: v for k, v in data.items() if k != "seed"}
        return data

    @model_validator(mode="after")
    def _exclusive(self) -> ShapConfig:
        if self.baseline is not None and self.num_clusters is not None:
            raise ValueError("baseline and num_clusters are mutually exclusive (as in Clarify); keep one")
        if isinstance(self.baseline, list) and not self.baseline:
            raise ValueError("baseline must hold at least one row")
        return self


class DriftCheckConfig(BaseModel):
    """`attribution_drift_check`: the nDCG threshold, globally and per label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.0, le=1.0)
    label_thresholds: dict[str, float] = Field(default_factory=dict)

    @field_validator("label_thresholds")
    @classmethod
    def _in_range(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"thresholds must be between 0 and 1, got {bad}")
        return value

    def for_label(self, label: str) -> float:
        return self.label_thresholds.get(label, self.threshold)


class ExplainabilityConfig(BaseModel):
    """The analysis config of a ModelExplainability baseline or analysis job."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: str = "1.0"
    headers: list[str] | None = None
    label: str | int | None = None
    predicted_label: str | int | None = None
    excluded_columns: list[str | int] = Field(default_factory=list)
    features: str | None = None
    shap: ShapConfig
    predictor: PredictorConfig
    attribution_drift_check: DriftCheckConfig = Field(default_factory=DriftCheckConfig)

    @field_validator("headers")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            repeated = sorted({h for h in value if value.count(h) > 1})
            if repeated:
                raise ValueError(f"headers repeat {repeated}; every column needs its own name")
        return value

    @field_validator("features")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        if value is not None and not _PLAIN_KEY.fullmatch(value):
            raise ValueError(f"features {value!r}: only a plain JSON key is supported (e.g. \"features\")")
        return value

    def _column(self, ref: str | int, what: str) -> str:
        if isinstance(ref, int):
            if self.headers is None or not 0 <= ref < len(self.headers):
                raise ConfigError(f"analysis config {what} index {ref} needs headers with that many columns")
            return self.headers[ref]
        return ref

    def label_columns(self) -> set[str]:
        """The label and predicted-label columns (not in endpoint input, not features)."""
        refs = [(self.label, "label"), (self.predicted_label, "predicted_label")]
        return {self._column(ref, what) for ref, what in refs if ref is not None}

    def non_features(self) -> set[str]:
        return self.label_columns() | {self._column(c, "excluded_columns") for c in self.excluded_columns}

    def feature_names(self, model_features: list[str] | None, input_names: list[str] | None) -> list[str]:
        """The model's features: headers less label/excluded columns, else what the model or data name."""
        dropped = self.non_features()
        for source in (self.headers, input_names, model_features):
            if source:
                names = [h for h in source if h not in dropped]
                if names:
                    return names
        raise ConfigError(
            "the analysis config does not name the model's features",
            hint="add headers (the dataset's column names) to the analysis config, or --dataset-config input.names",
        )

    def explained_features(self, features: list[str]) -> list[str]:
        """`features_to_explain` resolved against the features (names or indexes)."""
        wanted = self.shap.features_to_explain
        if wanted is None:
            return features
        chosen = []
        for ref in wanted:
            if isinstance(ref, int):
                if not 0 <= ref < len(features):
                    raise ConfigError(f"features_to_explain index {ref} is outside the {len(features)} features")
                chosen.append(features[ref])
            elif ref not in features:
                raise ConfigError(
                    f"features_to_explain names {ref!r}, which is not a feature", hint=f"features: {features}"
                )
            else:
                chosen.append(ref)
        return list(dict.fromkeys(chosen))


def parse_analysis_config(doc: Any, where: str = "analysis config") -> ExplainabilityConfig:
    """Validate a parsed analysis config; every problem is a ConfigError naming the key."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{where} must be a JSON object")
    methods = doc.get("methods")
    if not isinstance(methods, dict) or not isinstance(methods.get("shap"), dict):
        raise ConfigError(f"{where} has no methods.shap section", hint='add "methods": {"shap": {}} for the defaults')
    if "predictor" not in doc:
        raise ConfigError(
            f"{where} has no predictor: the monitor must call the model to explain it",
            hint='add "predictor": {"model_uri": ..., "framework": ...} or {"endpoint_url": ...}',
        )
    predictor = parse_predictor(doc["predictor"], where=f"{where}: predictor")
    data = {k: v for k, v in doc.items() if k not in ("methods", "predictor")}
    try:
        return ExplainabilityConfig.model_validate({**data, "shap": methods["shap"], "predictor": predictor})
    except ValidationError as exc:
        text = describe_validation_error(exc, data).replace("shap.", "methods.shap.")
        raise ConfigError(f"{where} is invalid: {text}") from None


def load_analysis_config(path: str | dict[str, Any]) -> ExplainabilityConfig:
    """Read and validate the file (or a document given inline); an unreadable file is a usage error too."""
    if isinstance(path, dict):
        return parse_analysis_config(path)
    try:
        doc = io.read_json(path, "analysis config")
    except (InputError, FormatError) as exc:
        raise ConfigError(str(exc), hint="pass the analysis config JSON with --analysis-config") from None
    return parse_analysis_config(doc, where=f"analysis config {path}")
