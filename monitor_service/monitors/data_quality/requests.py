"""What a job is asked to do: validated once at the edge, then passed down as plain values."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.deequ.history import MetricHistory
from monitor_service.specs import InputSpec

Engine = Literal["spark", "duckdb", "deequ"]
ENGINE_HELP = ("spark (the default: local or any cluster), duckdb (one machine, no JVM) or deequ (Spark reads, "
               "Amazon Deequ profiles; docs/deequ.md); none: the service's MONITOR_ENGINE")


class BaselineRequest(BaseModel):
    """Profile a dataset and suggest constraints into `output_dir`."""

    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    output_dir: str
    engine: Engine | None = Field(default=None, description=ENGINE_HELP)


class AnalyzeRequest(BaseModel):
    """Profile one window and check it against a baseline, writing into `output_dir`."""

    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    baseline_statistics: str
    baseline_constraints: str
    output_dir: str
    engine: Engine | None = Field(default=None, description=ENGINE_HELP)
    metric_history: MetricHistory | None = Field(
        default=None, description="earlier windows' metrics for the deequ_checks anomaly checks (docs/deequ.md)")


class DataQualitySettings(BaseModel):
    """Optional settings of a DataQuality schedule or baseline job."""

    model_config = ConfigDict(extra="forbid")

    engine: Engine | None = Field(default=None, description=ENGINE_HELP)
