"""The service side of the model-quality monitor: schedule settings and baseline documents.

A ModelQuality schedule carries `ModelQualitySettings` (the attributes of the library's
`ModelQualityAttributes` plus where the labels are); its baseline holds the model-quality
`constraints.json` (optional `statistics.json` and the CBPE `calibration.json`). Labels posted
over REST are stored under `{artifact_root}/ground-truth/` (`monitor_service.ground_truth`), the
folder every ModelQuality schedule reads unless its settings name another one.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from monitor_service.errors import FormatError, InvalidField
from monitor_service.monitors.model_quality.cbpe import Calibration
from monitor_service.monitors.model_quality.constraints import parse_constraints
from monitor_service.monitors.model_quality.problem import BLOCKS, ModelQualityAttributes
from monitor_service.monitors.model_quality.statistics import find_block, scalar_metrics
from monitor_service.security.paths import InputPath

MONITOR_TYPE = "ModelQuality"
# The summary.feature_metrics groups a model-quality run writes (stored as metric rows).
REALIZED, ESTIMATED = "model_quality", "model_quality_estimated"


class ModelQualitySettings(ModelQualityAttributes):
    """Where a ModelQuality monitor finds the prediction, probability and label, and the labels' folder."""

    ground_truth: InputPath | None = Field(
        default=None, min_length=1, max_length=2000,
        description="Folder or URL of SageMaker ground-truth JSONL files. Schedules: default "
                    "`{artifact_root}/ground-truth`, where POST /api/v1/ground-truth stores labels. "
                    "Baseline jobs: default none, the labels are the dataset's `ground_truth_attribute`.")

    def attributes(self) -> ModelQualityAttributes:
        return ModelQualityAttributes.model_validate(self.model_dump(exclude={"ground_truth"}))


def constraints_problem_type(document: dict[str, Any]) -> str:
    """The problem type whose constraints block a model-quality constraints.json holds."""
    if not isinstance(document, dict):
        raise FormatError(f"a model-quality constraints.json is a JSON object, not {type(document).__name__}")
    found = [problem for problem, blocks in BLOCKS.items() if blocks.constraints in document]
    if len(found) != 1:
        names = [b.constraints for b in BLOCKS.values()]
        raise FormatError(f"a model-quality constraints.json holds exactly one of {names}; found {found or 'none'}")
    return found[0]


def check_files(*, statistics: dict[str, Any] | None, constraints: dict[str, Any],
                calibration: dict[str, Any] | None) -> None:
    """Raise InvalidField naming the file the model-quality job could not use."""
    try:
        problem = constraints_problem_type(constraints)
        parse_constraints(constraints, problem, where="constraints")
    except FormatError as exc:
        raise InvalidField("constraints", str(exc)) from None
    if statistics is not None:
        try:
            found, block = find_block(statistics)
            scalar_metrics(block)
        except FormatError as exc:
            raise InvalidField("statistics", str(exc)) from None
        if found != problem:
            raise InvalidField("statistics", f"statistics hold {found} metrics but the constraints are {problem}")
    if calibration is not None:
        if problem != "BinaryClassification":
            raise InvalidField("calibration", f"a calibration is only used for BinaryClassification, not {problem}")
        try:
            Calibration.from_dict(calibration)
        except FormatError as exc:
            raise InvalidField("calibration", str(exc)) from None


def check_pairing(settings: dict[str, Any], baseline_id: str, constraints: dict[str, Any]) -> None:
    """The schedule's problem type must be the one its baseline constraints were made for."""
    problem = ModelQualitySettings.model_validate(settings).problem_type
    baseline_problem = constraints_problem_type(constraints)
    if problem != baseline_problem:
        raise InvalidField("model_quality", f"problem_type {problem} does not match baseline {baseline_id}, "
                                            f"whose constraints are {baseline_problem}",
                           hint="use a baseline made for the same problem type")
