"""What the ModelExplainability jobs are asked to do (JSON-serializable; stored as the execution's request)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.specs import InputSpec


class ModelExplainabilityBaselineRequest(BaseModel):
    """Explain a dataset and write Clarify's analysis.json into `output_dir`.

    `analysis_config` is the explainability analysis config (headers, methods.shap, predictor):
    the path of its JSON file, or the document itself (as a schedule's settings carry it);
    `max_records`, when set, overrides its `methods.shap.max_records`.
    """

    model_config = ConfigDict(extra="forbid")

    input: InputSpec
    output_dir: str
    analysis_config: str | dict[str, Any]
    max_records: int | None = Field(default=None, ge=1)


class ModelExplainabilityAnalyzeRequest(ModelExplainabilityBaselineRequest):
    """Explain one window and compare it with a baseline's analysis.json (`baseline_constraints`).

    Without a baseline the window is explained and reported, and no drift is checked.
    `execution_time` is recorded only (attributions do not depend on it).
    """

    baseline_constraints: str | None = None
    execution_time: datetime | None = None
