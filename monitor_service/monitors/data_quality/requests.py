"""What a job is asked to do: validated once at the edge, then passed down as plain values."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from monitor_service.specs import InputSpec


class BaselineRequest(BaseModel):
    """Profile a dataset and suggest constraints into `output_dir`."""

    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    output_dir: str


class AnalyzeRequest(BaseModel):
    """Profile one window and check it against a baseline, writing into `output_dir`."""

    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    baseline_statistics: str
    baseline_constraints: str
    output_dir: str
