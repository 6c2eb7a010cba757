"""Problem types, their SageMaker block names, and the attribute locators that find values.

SageMaker names a value in a record by column index (CSV) or JSONPath (JSON); our records are
flattened to `name -> value` fields (`_c0`, `_c1`, ... for positional values, dotted keys for
JSON), so a locator is normalised once here to the field names it may match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProblemType = Literal["BinaryClassification", "MulticlassClassification", "Regression"]
PROBLEM_TYPES: tuple[str, ...] = ("BinaryClassification", "MulticlassClassification", "Regression")


@dataclass(frozen=True)
class Blocks:
    """Top-level keys of statistics.json and constraints.json for one problem type."""

    statistics: str
    constraints: str


BLOCKS: dict[str, Blocks] = {
    "BinaryClassification": Blocks("binary_classification_metrics", "binary_classification_constraints"),
    "MulticlassClassification": Blocks("multiclass_classification_metrics",
                                       "multiclass_classification_constraints"),
    "Regression": Blocks("regression_metrics", "regression_constraints"),
}

# Binary labels follow SageMaker: 0 is negative, 1 is positive (true/false are read as 1/0).
POSITIVE_LABEL = "1"
NEGATIVE_LABEL = "0"

_BRACKET = re.compile(r"\[\s*(?:'([^']*)'|\"([^\"]*)\"|(\d+))\s*\]")


def normalize_locator(locator: str) -> list[str]:
    """Field names a SageMaker locator may refer to, most specific first.

    `"0"` (a CSV column index) may be a field literally named `0` or the positional `_c0`;
    JSONPath forms `$.a.b`, `$['a']['b']` and `a[0]` become the dotted names `a.b` / `a.0`
    used by the flattened records.
    """
    text = locator.strip()
    if not text:
        return []
    if text.isdigit():
        return [text, f"_c{int(text)}"]
    if text.startswith("$"):
        text = text[1:]
    text = _BRACKET.sub(lambda m: "." + next(g for g in m.groups() if g is not None), text)
    text = text.lstrip(".")
    return [text] if text else []


class ModelQualityAttributes(BaseModel):
    """Where the prediction, the probability and the label are, and how to binarise a probability.

    For binary problems a missing `inference_attribute` means the predicted label is
    `probability >= probability_threshold`; with both given, the inference attribute is the
    prediction and the probability only feeds the curves, AUC and the CBPE estimate.
    """

    model_config = ConfigDict(extra="forbid")

    problem_type: ProblemType
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    ground_truth_attribute: str | None = None
    probability_threshold: float = Field(default=0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _locators(self) -> ModelQualityAttributes:
        for name in ("inference_attribute", "probability_attribute", "ground_truth_attribute"):
            value = getattr(self, name)
            if value is not None and not normalize_locator(value):
                raise ValueError(f"{name} {value!r} does not name a field")
        if self.problem_type == "BinaryClassification":
            if self.inference_attribute is None and self.probability_attribute is None:
                raise ValueError("BinaryClassification needs inference_attribute or probability_attribute")
        elif self.inference_attribute is None:
            raise ValueError(f"{self.problem_type} needs inference_attribute")
        return self

    @property
    def blocks(self) -> Blocks:
        return BLOCKS[self.problem_type]
