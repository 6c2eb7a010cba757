"""The service side of the ModelExplainability monitor: schedule / baseline-job settings.

A ModelExplainability baseline keeps two documents: `analysis` (Clarify's analysis.json, the
global SHAP values the windows are compared with; a SageMaker-produced one works as it is) and
`analysis_config` (the explainability analysis config: headers, methods.shap, predictor). A
schedule explains each window with its own `analysis_config` setting if given, else with the
baseline's document; a baseline job needs the config in its settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MONITOR_TYPE = "ModelExplainability"
SETTINGS_FIELD = "model_explainability"


class ModelExplainabilitySettings(BaseModel):
    """What a ModelExplainability schedule or baseline job carries besides its input."""

    model_config = ConfigDict(extra="forbid")

    analysis_config: dict[str, Any] | None = Field(
        default=None,
        description="The explainability analysis config (Clarify's keys: headers, label, methods.shap, "
                    "predictor with model_uri+framework or endpoint_url). Baseline jobs: required. Schedules: "
                    "default the baseline's analysis_config document.")
    max_records: int | None = Field(
        default=None, ge=1, description="Explain at most this many records per window (a seeded uniform "
                                        "sample); default methods.shap.max_records (10,000)")
