"""Where a bias job finds the predicted label and the observed label in a record (SageMaker's job-input locators).

SageMaker's bias monitor takes `FeaturesAttribute`, `InferenceAttribute`, `ProbabilityAttribute`
and `ProbabilityThresholdAttribute` on the job input; here they are the command-line flags
shared with the model-quality monitor (`--inference-attribute`, `--probability-attribute`,
`--probability-threshold`, `--ground-truth-attribute`; `--features-attribute` and
`--dataset-config` shape how payloads become named columns). Locators are those of model
quality: a column name, a CSV index (`0` = `_c0`) or a JSONPath.

The predicted label is, in this order: the inference attribute's value; else positive when the
probability attribute's value is above the threshold (Clarify uses `>`; the threshold defaults
to the analysis config's `probability_threshold`, 0.5); else the analysis config's
`predicted_label` column. The observed label is the ground-truth record's value (its first
value, or the ground-truth attribute) when labels are merged in, else the config's `label` column.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor_service.monitors.model_quality.problem import normalize_locator


class BiasAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    ground_truth_attribute: str | None = None

    @model_validator(mode="after")
    def _locators(self) -> BiasAttributes:
        for name in ("inference_attribute", "probability_attribute", "ground_truth_attribute"):
            value = getattr(self, name)
            if value is not None and not normalize_locator(value):
                raise ValueError(f"{name} {value!r} does not name a field")
        return self
