"""What the bias jobs are asked to do: JSON-serializable requests, validated at the edge and again by the worker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.monitors.model_bias.attributes import BiasAttributes
from monitor_service.monitors.model_bias.drift import DriftSettings
from monitor_service.specs import InputSpec

DEFAULT_FT_SAMPLE = 10_000


class _ModelBiasRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    output_dir: str
    # The Clarify analysis_config.json: its path, or the document itself (service baseline jobs).
    analysis_config: str | dict[str, Any]
    attributes: BiasAttributes = Field(default_factory=BiasAttributes)
    ground_truth: str | None = None  # SageMaker ground-truth JSONL folder; else labels are in the records
    flip_test_sample: int = Field(default=DEFAULT_FT_SAMPLE, ge=10, le=1_000_000)
    flip_test_seed: int = 0


class ModelBiasBaselineRequest(_ModelBiasRequest):
    """Compute Clarify's bias metrics of a dataset into `output_dir/analysis.json` (the baseline constraint)."""


class ModelBiasAnalyzeRequest(_ModelBiasRequest):
    """Compute one window's bias metrics and check them against a baseline analysis.json.

    `execution_time` bounds the ground truth used (default: the window end, else now), with the
    model-quality monitor's late-label rules.
    """

    baseline_constraints: str | None = None  # the baseline job's analysis.json
    execution_time: datetime | None = None
    drift: DriftSettings = Field(default_factory=DriftSettings)

    def effective_execution_time(self) -> datetime:
        when = self.execution_time or (self.input.window.end if self.input.window else datetime.now(UTC))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
