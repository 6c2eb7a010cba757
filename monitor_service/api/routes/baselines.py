"""Baselines: upload SageMaker files, start a baseline job, read them, edit the constraints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor_service.api.deps import AdminAccess, ReadAccess, ResourcesDep, SessionDep
from monitor_service.api.routes.inputs import InputIn
from monitor_service.service import baselines as service
from monitor_service.service.baseline_files import ConstraintsPatch, validate_constraints, validate_statistics
from monitor_service.service.common import InvalidField
from monitor_service.store.models import Baseline

router = APIRouter(prefix="/api/v1", tags=["baselines"], dependencies=[ReadAccess])
NAME = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class BaselineCreate(BaseModel):
    """SageMaker's statistics.json and constraints.json, as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str = NAME
    statistics: dict[str, Any]
    constraints: dict[str, Any]

    @field_validator("statistics")
    @classmethod
    def _statistics(cls, value: dict[str, Any]) -> dict[str, Any]:
        return validate_statistics(value)

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, value: dict[str, Any]) -> dict[str, Any]:
        return validate_constraints(value)


class BaselineJobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = NAME
    monitor_type: str = "DataQuality"
    input: InputIn


class BaselineOut(BaseModel):
    id: str
    name: str
    status: str = Field(description="Pending (baseline job running) | Ready | Failed")
    version: int
    source: str
    features: int
    failure_reason: str | None
    statistics_path: str | None
    constraints_path: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, baseline: Baseline) -> BaselineOut:
        return cls(id=baseline.id, name=baseline.name, status=baseline.status, version=baseline.version,
                   source=baseline.source, features=service.feature_count(baseline),
                   failure_reason=baseline.failure_reason, statistics_path=baseline.statistics_path,
                   constraints_path=baseline.constraints_path, created_at=baseline.created_at,
                   updated_at=baseline.updated_at)


class BaselineDetail(BaselineOut):
    statistics: dict[str, Any] | None
    constraints: dict[str, Any] | None


class BaselineJobOut(BaseModel):
    id: str = Field(description="The baseline's id")
    execution_id: str
    status: str


@router.post("/baselines", status_code=status.HTTP_201_CREATED, dependencies=[AdminAccess])
def create_baseline(body: BaselineCreate, session: SessionDep, resources: ResourcesDep) -> BaselineOut:
    baseline = service.create_baseline(session, resources.artifacts, name=body.name, statistics=body.statistics,
                                       constraints=body.constraints, now=resources.clock.now())
    return BaselineOut.of(baseline)


@router.post("/baseline-jobs", status_code=status.HTTP_202_ACCEPTED, dependencies=[AdminAccess],
             summary="Profile a dataset into a new baseline (runs on the scheduler's Spark session)")
def start_baseline_job(body: BaselineJobCreate, session: SessionDep, resources: ResourcesDep) -> BaselineJobOut:
    if body.monitor_type not in resources.monitors:
        raise InvalidField("monitor_type", f"unknown monitor type {body.monitor_type!r}",
                           hint=f"use one of {resources.monitors.names()}")
    baseline, execution = service.start_baseline_job(
        session, resources.artifacts, name=body.name, input_spec=body.input.spec(),
        monitor_type=resources.monitors.canonical(body.monitor_type), now=resources.clock.now())
    return BaselineJobOut(id=baseline.id, execution_id=execution.id, status=baseline.status)


@router.get("/baselines")
def list_baselines(session: SessionDep) -> list[BaselineOut]:
    return [BaselineOut.of(b) for b in service.list_baselines(session)]


@router.get("/baselines/{baseline_id}")
def get_baseline(baseline_id: str, session: SessionDep) -> BaselineDetail:
    baseline = service.get_baseline(session, baseline_id)
    return BaselineDetail(**BaselineOut.of(baseline).model_dump(), statistics=baseline.statistics,
                          constraints=baseline.constraints)


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
    try:
        constraints = validate_constraints(body)
    except ValueError as exc:
        raise InvalidField("constraints", str(exc)) from None
    baseline = service.replace_constraints(session, resources.artifacts, baseline_id=baseline_id,
                                           constraints=constraints, now=resources.clock.now())
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
    baseline = service.patch_constraints(session, resources.artifacts, baseline_id=baseline_id, patch=body,
                                         now=resources.clock.now())
    return BaselineOut.of(baseline)


@router.delete("/baselines/{baseline_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminAccess])
def delete_baseline(baseline_id: str, session: SessionDep) -> Response:
    service.delete_baseline(session, baseline_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
