"""What the model-quality jobs are asked to do: validated once at the edge, then passed down as values."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor_service.errors import ConfigError
from monitor_service.monitors.model_quality.problem import ModelQualityAttributes
from monitor_service.security.paths import InputPath
from monitor_service.specs import InputSpec


class _ModelQualityRequest(BaseModel):
    """What both jobs read: the records, where their values are, and where the labels come from."""

    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    attributes: ModelQualityAttributes
    output_dir: str
    ground_truth: InputPath | None = None

    @model_validator(mode="after")
    def _labels_located(self) -> _ModelQualityRequest:
        """Without both, the "label" would be each record's first value, often the prediction itself.

        Raised as a ConfigError (pydantic passes it through unwrapped), so the CLI exits with a
        usage error and the service answers 422, wherever the request is built.
        """
        if self.ground_truth is None and self.attributes.ground_truth_attribute is None:
            raise ConfigError(
                "a model-quality job needs the labels: attributes.ground_truth_attribute (a field of the "
                "records) or ground_truth (SageMaker ground-truth files)",
                hint="pass --ground-truth-attribute or --ground-truth",
            )
        return self


class ModelQualityBaselineRequest(_ModelQualityRequest):
    """Compute baseline metrics and suggest constraints into `output_dir`.

    Labels normally sit in the dataset (`attributes.ground_truth_attribute`); with
    `ground_truth` they are merged in from ground-truth files instead (where
    `ground_truth_attribute`, if given, names a field of the ground-truth records, else their
    first value is the label).
    """

    suggest_margin_std: float = Field(default=0.0, ge=0.0)


class ModelQualityAnalyzeRequest(_ModelQualityRequest):
    """Check one window's model quality against baseline constraints, writing into `output_dir`.

    `execution_time` bounds the labels used (default: the window end, else now).
    `calibration` defaults to `calibration.json` beside the baseline constraints, if present.
    """

    baseline_constraints: str | None = None
    calibration: str | None = None
    execution_time: datetime | None = None

    def effective_execution_time(self) -> datetime:
        when = self.execution_time or (self.input.window.end if self.input.window else datetime.now(UTC))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
