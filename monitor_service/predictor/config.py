"""The analysis config's `predictor` block, validated once: a local model file or an HTTP endpoint.

Clarify's own `predictor` names a SageMaker model or endpoint (`model_name`, `endpoint_name`,
`instance_type`, ...), which only SageMaker can start. Here a predictor is either

- a model file: `{"model_uri": PATH_OR_URL, "framework": "sklearn" | "xgboost" | "lightgbm" | "onnx",
  "trusted": false}`, loaded in-process (see `monitor_service.predictor.loading`), or
- an HTTP model server: `{"endpoint_url": ..., "content_type": ..., "accept_type": ...,
  "content_template": ..., "label": ..., "probability": ..., "label_headers": [...]}` with Clarify's
  meanings, plus batching, timeout and retry settings.

SageMaker's deployment keys (`instance_type`, `initial_instance_count`, ...) are accepted and
ignored, so a Clarify config only needs `model_uri` or `endpoint_url` added; `model_name` /
`endpoint_name` alone get an error that says what to add.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor_service.core.json_fields import describe_validation_error
from monitor_service.errors import ConfigError

Framework = Literal["sklearn", "xgboost", "lightgbm", "onnx"]
FRAMEWORKS: tuple[str, ...] = ("sklearn", "xgboost", "lightgbm", "onnx")
ContentType = Literal["text/csv", "application/jsonlines", "application/json"]

# SageMaker-only keys: they describe how SageMaker would deploy the model, meaningless here.
SAGEMAKER_DEPLOYMENT_KEYS = frozenset(
    {"model_name", "endpoint_name", "endpoint_name_prefix", "instance_type", "initial_instance_count",
     "accelerator_type", "target_model", "custom_attributes"}
)


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Names of the model's outputs in analysis.json (`label0`, `label1`, ... when absent).
    label_headers: list[str] | None = None

    @field_validator("label_headers")
    @classmethod
    def _headers(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value or any(not isinstance(v, str) or not v for v in value):
                raise ValueError("label_headers must be a non-empty list of non-empty strings")
            if len(set(value)) != len(value):
                raise ValueError(f"label_headers {value} repeat a name; every output needs its own")
        return value


class ModelFileConfig(_Common):
    """A model file loaded in this process. `trusted` allows formats whose loading runs code."""

    model_uri: str = Field(min_length=1)
    framework: Framework
    trusted: bool = False


class EndpointConfig(_Common):
    """An HTTP model server called with Clarify's request/response conventions.

    `content_template` builds the request body: for `text/csv` it is not used (one CSV line per
    record); for `application/jsonlines` it is one line per record with `$features` (the record's
    values as a JSON list) or `$record` (a JSON object by feature name); for `application/json` it
    holds `$records` (the batch, each record built by `record_template`) or, without `$records`,
    one record per request. `label` / `probability` locate the prediction in the response: a
    column index for CSV, a JMESPath expression for JSON (applied per line for JSON Lines, to the
    whole body for `application/json`).
    """

    endpoint_url: str
    content_type: ContentType = "text/csv"
    accept_type: ContentType | None = None
    content_template: str | None = None
    record_template: str = "$features"
    label: int | str | None = None
    probability: int | str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    max_batch_size: int = Field(default=100, ge=1, le=100_000)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)

    @field_validator("endpoint_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"endpoint_url {value!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _templates(self) -> EndpointConfig:
        template = self.effective_content_template()
        if self.content_type == "application/jsonlines" and "$features" not in template and "$record" not in template:
            raise ValueError("content_template for application/jsonlines must contain $features or $record")
        if self.content_type == "application/json" and not any(
            t in template for t in ("$records", "$features", "$record")
        ):
            raise ValueError("content_template for application/json must contain $records, $features or $record")
        if "$records" in template and not any(t in self.record_template for t in ("$features", "$record")):
            raise ValueError("record_template must contain $features or $record")
        for key in ("label", "probability"):
            value = getattr(self, key)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{key} index {value} must be >= 0")
            if isinstance(value, str) and self.response_type() == "text/csv":
                raise ValueError(f"{key} must be a column index for text/csv responses, not {value!r}")
            if isinstance(value, str):
                _check_jmespath(key, value)
        return self

    def response_type(self) -> str:
        return self.accept_type or self.content_type

    def effective_content_template(self) -> str:
        if self.content_template is not None:
            return self.content_template
        return "$records" if self.content_type == "application/json" else "$features"


def _check_jmespath(key: str, expression: str) -> None:
    import jmespath

    try:
        jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(f"{key} {expression!r} is not a valid JMESPath expression: {exc}") from None


PredictorConfig = ModelFileConfig | EndpointConfig


def parse_predictor(block: Any, where: str = "predictor") -> PredictorConfig:
    """Validate a `predictor` block; every problem becomes a ConfigError naming the key."""
    if not isinstance(block, dict):
        raise ConfigError(f"{where} must be a JSON object, not {type(block).__name__}")
    data = {k: v for k, v in block.items() if k not in SAGEMAKER_DEPLOYMENT_KEYS}
    if "model_uri" in data or "framework" in data or "trusted" in data:
        for key in ("content_type", "accept_type", "content_template", "label", "probability"):
            if key in data:
                raise ConfigError(
                    f"{where}.{key} only applies to an endpoint_url predictor; a model file is called directly",
                    hint=f"remove {key} or use endpoint_url instead of model_uri",
                )
        if "endpoint_url" in data:
            raise ConfigError(f"{where} has both model_uri and endpoint_url", hint="keep one of them")
        model: type[BaseModel] = ModelFileConfig
    elif "endpoint_url" in data:
        model = EndpointConfig
    else:
        named = [k for k in ("model_name", "endpoint_name") if k in block]
        said = f" ({', '.join(f'{k}={block[k]!r}' for k in named)} names a SageMaker resource)" if named else ""
        raise ConfigError(
            f"{where} says neither which model file to load nor which endpoint to call{said}",
            hint='add "model_uri" and "framework" (sklearn, xgboost, lightgbm, onnx) or "endpoint_url"',
        )
    try:
        return model.model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        raise ConfigError(f"{where} is invalid: {describe_validation_error(exc, data)}") from None
