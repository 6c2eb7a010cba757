"""The gateway's configuration in SageMaker's vocabulary, validated once at the edge.

A document (JSON or YAML) holds `Models` (CreateModel), `Endpoints` (CreateEndpointConfig +
CreateEndpoint: production variants and `DataCaptureConfig`) and an optional `Gateway` block for
what SageMaker manages for you (the capture spool, fsync policy, budgets, cache sizes). Keys are
SageMaker's PascalCase; unknown keys are errors, so a typo never silently does nothing. Errors
name the key: `Endpoints[0].ProductionVariants[1].ModelName: 'churn-v3' is not a model (Models
are: churn-v1, churn-v2)`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor_service.core.json_fields import describe_validation_error
from monitor_service.errors import ConfigError

# SageMaker's name pattern for models, endpoints and variants.
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "onnx", "script", "container")
FrameworkName = Literal["sklearn", "xgboost", "lightgbm", "onnx", "script", "container"]


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{value!r} is not a valid name: 1-63 letters, digits and hyphens, "
                         "starting with a letter or digit")
    return value


Name = Annotated[str, AfterValidator(_check_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ContainerFields(_Strict):
    """Where a container's model is and how to call it (shared by inline models and pipelines)."""

    ModelDataUrl: str | None = None
    EntryPoint: str | None = None
    Url: str | None = None
    Mode: Literal["SingleModel", "MultiModel"] = "SingleModel"
    Trusted: bool = False
    TimeoutSeconds: float = Field(default=60.0, gt=0, le=3600)


class ContainerDefinition(_ContainerFields):
    """One model container: a framework and where its artifact (or upstream server) is.

    `ModelDataUrl` is a file, a folder, a `.tar.gz` (SageMaker's model.tar.gz, extracted once) or an
    fsspec URL; for `Mode: MultiModel` it is the prefix under which `X-Amzn-SageMaker-Target-Model`
    names the artifact. `EntryPoint` is the script of the `script` framework (SageMaker's
    SAGEMAKER_PROGRAM: a path, relative to the config file or, failing that, to the model folder).
    `Url` is the upstream base URL of the `container` framework (what SageMaker's `Image` is).
    `Trusted: true` allows pickle-based formats (joblib), which can run arbitrary code.
    """

    Framework: FrameworkName

    @model_validator(mode="after")
    def _framework_needs(self) -> ContainerDefinition:
        if self.Framework == "container":
            if not self.Url:
                raise ValueError("the container framework needs Url, the upstream server's base URL "
                                 "(it must answer POST /invocations and GET /ping)")
            if not re.match(r"^https?://", self.Url):
                raise ValueError(f"Url {self.Url!r} must start with http:// or https://")
        elif self.Url is not None:
            raise ValueError(f"Url is only for the container framework, not {self.Framework}")
        if self.Framework == "script" and not self.EntryPoint:
            raise ValueError("the script framework needs EntryPoint, the Python file with model_fn / "
                             "input_fn / predict_fn / output_fn")
        if self.Framework not in ("container", "script") and not self.ModelDataUrl:
            raise ValueError(f"the {self.Framework} framework needs ModelDataUrl, the model artifact")
        if self.Mode == "MultiModel" and self.Framework != "container" and not self.ModelDataUrl:
            raise ValueError("a MultiModel container needs ModelDataUrl, the prefix holding the models")
        return self


class ExecutionConfig(_Strict):
    Mode: Literal["Serial"] = "Serial"


class ModelDefinition(_ContainerFields):
    """A model (SageMaker CreateModel): one container given inline, or `Containers` run in series.

    Inline form: `{ModelName, Framework, ModelDataUrl, ...}`. Pipeline form: `{ModelName,
    Containers: [{Framework, ...}, ...], InferenceExecutionConfig: {Mode: Serial}}`: each
    container's response is the next one's request, as SageMaker's serial inference pipelines.
    """

    ModelName: Name
    Framework: FrameworkName | None = None
    Containers: list[ContainerDefinition] | None = Field(default=None, min_length=1, max_length=15)
    InferenceExecutionConfig: ExecutionConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_form(cls, data: Any) -> Any:
        if isinstance(data, dict):
            inline = [k for k in ("Framework", "ModelDataUrl", "EntryPoint", "Url", "Mode", "Trusted") if k in data]
            if data.get("Containers") is not None and inline:
                raise ValueError(f"give either Containers (a pipeline) or {', '.join(inline)} inline, not both")
            if data.get("Containers") is None and "Framework" not in data:
                raise ValueError(f"model needs Framework (one of {', '.join(FRAMEWORKS)}) or Containers")
        return data

    def containers(self) -> list[ContainerDefinition]:
        """The containers in call order (one for an inline model)."""
        if self.Containers is not None:
            return list(self.Containers)
        fields = {k: getattr(self, k) for k in ContainerDefinition.model_fields}
        return [ContainerDefinition(**fields)]

    @model_validator(mode="after")
    def _inline_valid(self) -> ModelDefinition:
        if self.Containers is None:
            self.containers()  # runs the container's own checks
        elif any(c.Mode == "MultiModel" for c in self.Containers) and len(self.Containers) > 1:
            raise ValueError("a serial pipeline cannot hold a MultiModel container")
        return self


class ProductionVariant(_Strict):
    VariantName: Name
    ModelName: str
    InitialVariantWeight: float = Field(default=1.0, ge=0)
    InitialInstanceCount: int = Field(default=1, ge=1)


class CaptureOption(_Strict):
    CaptureMode: Literal["Input", "Output"]


class ContentTypeHeader(_Strict):
    CsvContentTypes: list[str] = Field(default_factory=list, max_length=10)
    JsonContentTypes: list[str] = Field(default_factory=list, max_length=10)


class CaptureConfig(_Strict):
    """SageMaker's DataCaptureConfig; `DestinationS3Uri` may be a local folder or any fsspec URL.

    Without `CaptureContentTypeHeader` every payload is captured BASE64, as SageMaker does.
    """

    EnableCapture: bool = True
    InitialSamplingPercentage: int = Field(ge=0, le=100)
    DestinationS3Uri: str = Field(min_length=1)
    CaptureOptions: list[CaptureOption] = Field(min_length=1, max_length=2)
    CaptureContentTypeHeader: ContentTypeHeader | None = None
    KmsKeyId: str | None = None

    @field_validator("KmsKeyId")
    @classmethod
    def _no_kms(cls, value: str | None) -> str | None:
        if value:
            raise ValueError("KmsKeyId is not supported: encrypt the destination bucket or folder instead")
        return value

    def modes(self) -> set[str]:
        return {o.CaptureMode for o in self.CaptureOptions}


class EndpointDefinition(_Strict):
    EndpointName: Name
    ProductionVariants: list[ProductionVariant] = Field(min_length=1, max_length=10)
    DataCaptureConfig: CaptureConfig | None = None

    @model_validator(mode="after")
    def _variants(self) -> EndpointDefinition:
        names = [v.VariantName for v in self.ProductionVariants]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicate VariantName {duplicated}")
        if sum(v.InitialVariantWeight for v in self.ProductionVariants) <= 0:
            raise ValueError("the InitialVariantWeight values add up to 0; at least one variant needs a weight > 0")
        return self

    def variant(self, name: str) -> ProductionVariant | None:
        return next((v for v in self.ProductionVariants if v.VariantName == name), None)


class GatewaySettings(_Strict):
    """What SageMaker manages for you: the capture spool, its durability and budgets, caches.

    `FsyncPolicy`: `interval` (the default) acknowledges a request once its capture line is written
    to the spool file (safe against a crash or `kill -9` of the gateway) and fsyncs every
    `FsyncIntervalMs` (bounding what a power loss can take); `always` acknowledges only after an
    fsync (group-committed; safe against power loss, slower); `never` leaves flushing to the OS.
    `WhenSpoolFull`: `reject` answers 429 before calling the model; `drop` serves the request and
    counts the capture line as dropped (metric and response header), never silently.
    `ModelThreads` run in-process models; one whose calls average under `InlineModelCallMaxMs` is
    called on the event loop instead (no thread hand-off; 0 turns that off).
    """

    SpoolDirectory: str = "monitor-data/gateway-spool"
    FsyncPolicy: Literal["always", "interval", "never"] = "interval"
    FsyncIntervalMs: int = Field(default=1000, ge=1, le=60_000)
    SegmentMaxAgeSeconds: float = Field(default=60.0, gt=0, le=3600)
    SegmentMaxBytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    SpoolMaxBytes: int = Field(default=1024 * 1024 * 1024, ge=1024)
    WhenSpoolFull: Literal["reject", "drop"] = "reject"
    UploadRetryInitialSeconds: float = Field(default=1.0, gt=0)
    UploadRetryMaxSeconds: float = Field(default=60.0, gt=0)
    ShutdownUploadTimeoutSeconds: float = Field(default=30.0, ge=0)
    MaxPayloadMB: float = Field(default=6.0, gt=0, le=100)
    ModelThreads: int = Field(default=4, ge=1, le=256)
    InlineModelCallMaxMs: float = Field(default=1.0, ge=0, le=100)
    MultiModelCacheBytes: int = Field(default=512 * 1024 * 1024, ge=1)
    ModelCacheDirectory: str = "monitor-data/gateway-models"
    PollSeconds: float = Field(default=2.0, gt=0, le=3600)


class GatewayConfig(_Strict):
    """The whole document: `Models`, `Endpoints` and the optional `Gateway` block."""

    Models: list[ModelDefinition] = Field(default_factory=list)
    Endpoints: list[EndpointDefinition] = Field(default_factory=list)
    Gateway: GatewaySettings = Field(default_factory=GatewaySettings)

    @model_validator(mode="after")
    def _references(self) -> GatewayConfig:
        models = [m.ModelName for m in self.Models]
        for name in sorted({n for n in models if models.count(n) > 1}):
            raise ValueError(f"Models: duplicate ModelName {name!r}")
        endpoints = [e.EndpointName for e in self.Endpoints]
        for name in sorted({n for n in endpoints if endpoints.count(n) > 1}):
            raise ValueError(f"Endpoints: duplicate EndpointName {name!r}")
        for i, endpoint in enumerate(self.Endpoints):
            for j, variant in enumerate(endpoint.ProductionVariants):
                if variant.ModelName not in models:
                    raise ValueError(f"Endpoints[{i}].ProductionVariants[{j}].ModelName: {variant.ModelName!r} is not "
                                     f"a model (Models are: {', '.join(models) or 'none'})")
        return self

    def model(self, name: str) -> ModelDefinition:
        return next(m for m in self.Models if m.ModelName == name)

    def endpoint(self, name: str) -> EndpointDefinition | None:
        return next((e for e in self.Endpoints if e.EndpointName == name), None)

    def document(self) -> dict[str, Any]:
        """The JSON form (defaults left out), as stored in the database and returned over REST."""
        return self.model_dump(mode="json", exclude_defaults=True)


def parse_config(data: Any, source: str = "gateway config", base_dir: Path | None = None) -> GatewayConfig:
    """Validate a parsed document; relative local paths are resolved against `base_dir`."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be an object with Models and Endpoints, not {type(data).__name__}")
    try:
        config = GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source} is invalid: {describe_validation_error(exc, None)}",
                          hint="see docs/gateway.md for the keys") from exc
    return config if base_dir is None else _resolved(config, base_dir)


def load_config(path: str | Path) -> GatewayConfig:
    """Read a JSON or YAML file (by content: YAML is a superset of JSON) and validate it."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read gateway config {path}: {exc.strerror}", hint="pass an existing file") from exc
    return parse_config(parse_text(text, str(path)), f"gateway config {path}", file.resolve().parent)


def parse_text(text: str, source: str) -> Any:
    """JSON first (exact error positions), then YAML."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            if text.lstrip().startswith(("{", "[")):
                raise ConfigError(f"{source} is not valid JSON: {json_error.msg} at line {json_error.lineno} "
                                  f"column {json_error.colno}") from json_error
            raise ConfigError(f"{source} is not valid YAML: {exc}") from exc


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def _absolute(path: str | None, base: Path) -> str | None:
    if path is None or not _is_local(path) or path.startswith("file://") or Path(path).is_absolute():
        return path
    return str(base / path)


def _resolved(config: GatewayConfig, base: Path) -> GatewayConfig:
    """Make relative local paths (artifacts, scripts, capture folders, spool) absolute."""

    def container(c: Any) -> Any:
        return c.model_copy(update={"ModelDataUrl": _absolute(c.ModelDataUrl, base),
                                    "EntryPoint": _absolute(c.EntryPoint, base)})

    models = []
    for m in config.Models:
        m = container(m)
        if m.Containers is not None:
            m = m.model_copy(update={"Containers": [container(c) for c in m.Containers]})
        models.append(m)
    endpoints = []
    for e in config.Endpoints:
        if e.DataCaptureConfig is not None:
            capture = e.DataCaptureConfig.model_copy(
                update={"DestinationS3Uri": _absolute(e.DataCaptureConfig.DestinationS3Uri, base)})
            e = e.model_copy(update={"DataCaptureConfig": capture})
        endpoints.append(e)
    # Folders given in the file are relative to it; the defaults stay relative to the working folder.
    given = config.Gateway.model_fields_set
    gateway = config.Gateway.model_copy(update={
        key: _absolute(getattr(config.Gateway, key), base) for key in ("SpoolDirectory", "ModelCacheDirectory")
        if key in given})
    return config.model_copy(update={"Models": models, "Endpoints": endpoints, "Gateway": gateway})
