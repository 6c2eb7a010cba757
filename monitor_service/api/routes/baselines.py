"""Baselines: upload SageMaker files, start a baseline job, read them, edit the constraints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from monitor_service.api.deps import AdminAccess, ReadAccess, ResourcesDep, SessionDep
from monitor_service.api.routes.inputs import InputIn, MonitorSettingsIn
from monitor_service.service import baselines as service
from monitor_service.service.baseline_files import ConstraintsPatch
from monitor_service.store.models import Baseline

router = APIRouter(prefix="/api/v1", tags=["baselines"], dependencies=[ReadAccess])
NAME = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class BaselineCreate(BaseModel):
    """SageMaker's files, as they are, checked by the monitor type's own readers."""

    model_config = ConfigDict(extra="forbid")

    name: str = NAME
    monitor_type: str = Field(default="DataQuality", description="DataQuality or ModelQuality")
    statistics: dict[str, Any] | None = Field(
        default=None, description="statistics.json; required for DataQuality, optional for ModelQuality")
    constraints: dict[str, Any] = Field(description="constraints.json (ModelQuality: the model-quality format)")
    calibration: dict[str, Any] | None = Field(
        default=None, description="ModelQuality (BinaryClassification) only: the calibration.json of the "
                                  "baseline job, used by the CBPE estimate of records without a label")


class BaselineJobCreate(MonitorSettingsIn):
    model_config = ConfigDict(extra="forbid")

    name: str = NAME
    monitor_type: str = "DataQuality"
    input: InputIn


class BaselineOut(BaseModel):
    id: str
    name: str
    monitor_type: str
    status: str = Field(description="Pending (baseline job running) | Ready | Failed")
    version: int
    source: str
    features: int
    failure_reason: str | None
    statistics_path: str | None
    constraints_path: str | None
    calibration_path: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, baseline: Baseline) -> BaselineOut:
        return cls(id=baseline.id, name=baseline.name, monitor_type=baseline.monitor_type, status=baseline.status,
                   version=baseline.version, source=baseline.source, features=baseline.feature_count,
                   failure_reason=baseline.failure_reason, statistics_path=baseline.statistics_path,
                   constraints_path=baseline.constraints_path, calibration_path=baseline.calibration_path,
                   created_at=baseline.created_at, updated_at=baseline.updated_at)


class BaselineDetail(BaselineOut):
    statistics: dict[str, Any] | None
    constraints: dict[str, Any] | None
    calibration: dict[str, Any] | None


class BaselineJobOut(BaseModel):
    id: str = Field(description="The baseline's id")
    execution_id: str
    status: str


@router.post("/baselines", status_code=status.HTTP_201_CREATED, dependencies=[AdminAccess])
def create_baseline(body: BaselineCreate, session: SessionDep, resources: ResourcesDep) -> BaselineOut:
    baseline = service.create_baseline(session, resources.artifacts, resources.monitors, name=body.name,
                                       monitor_type=body.monitor_type, statistics=body.statistics,
                                       constraints=body.constraints, calibration=body.calibration,
                                       now=resources.clock.now())
    return BaselineOut.of(baseline)


@router.post("/baseline-jobs", status_code=status.HTTP_202_ACCEPTED, dependencies=[AdminAccess],
             summary="Profile a dataset into a new baseline (runs on the scheduler's Spark session)")
def start_baseline_job(body: BaselineJobCreate, session: SessionDep, resources: ResourcesDep) -> BaselineJobOut:
    baseline, execution = service.start_baseline_job(
        session, resources.artifacts, resources.monitors, name=body.name, input_spec=body.input.spec(),
        monitor_type=body.monitor_type, settings=body.settings_given(), now=resources.clock.now())
    return BaselineJobOut(id=baseline.id, execution_id=execution.id, status=baseline.status)


@router.get("/baselines")
def list_baselines(session: SessionDep) -> list[BaselineOut]:
    return [BaselineOut.of(b) for b in service.list_baselines(session)]


@router.get("/baselines/{baseline_id}")
def get_baseline(baseline_id: str, session: SessionDep) -> BaselineDetail:
    baseline = service.get_baseline(session, baseline_id)
    return BaselineDetail(**BaselineOut.of(baseline).model_dump(), statistics=baseline.statistics,
                          constraints=baseline.constraints, calibration=baseline.calibration)


@router.get("/baselines/{baseline_id}/constraints", summary="The current constraints.json")
def get_constraints(baseline_id: str, session: SessionDep) -> dict[str, Any]:
    return service.get_baseline(session, baseline_id).constraints or {}


@router.get("/baselines/{baseline_id}/statistics", summary="The baseline statistics.json")
def get_statistics(baseline_id: str, session: SessionDep) -> dict[str, Any]:
    return service.get_baseline(session, baseline_id).statistics or {}


@router.put("/baselines/{baseline_id}/constraints", dependencies=[AdminAccess],
            summary="Replace the whole constraints.json (a new baseline version)")
def replace_constraints(baseline_id: str, body: dict[str, Any], session: SessionDep,
                        resources: ResourcesDep) -> BaselineOut:
    baseline = service.replace_constraints(session, resources.artifacts, resources.monitors,
                                           baseline_id=baseline_id, constraints=body, now=resources.clock.now())
    return BaselineOut.of(baseline)


@router.patch("/baselines/{baseline_id}/constraints", dependencies=[AdminAccess],
              summary="Edit thresholds, methods, per-feature overrides; enable or disable checks")
def patch_constraints(baseline_id: str, body: ConstraintsPatch, session: SessionDep,
                      resources: ResourcesDep) -> BaselineOut:
    """Each edit creates a new baseline version (executions record the version they used):

    - `datatype_check_threshold`, `domain_content_threshold`: global thresholds (0..1);
    - `drift`: global `method` / `threshold` (numeric) and `categorical_method` / `categorical_threshold`,
      any method of the drift registry (SageMaker's Robust, Simple, LInfinity, ChiSquared or psi, ...);
    - `checks`: `{check name or "all": true|false}` switches checks on or off everywhere;
    - `features.{name}`: `completeness`, `is_non_negative`, `domains` (null removes the constraint),
      `drift_method` / `drift_threshold` (per-feature override), `checks` (for this feature only) and
      `clear_overrides`.
    """
    baseline = service.patch_constraints(session, resources.artifacts, resources.monitors, baseline_id=baseline_id,
                                         patch=body, now=resources.clock.now())
    return BaselineOut.of(baseline)


@router.delete("/baselines/{baseline_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminAccess])
def delete_baseline(baseline_id: str, session: SessionDep) -> Response:
    service.delete_baseline(session, baseline_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
