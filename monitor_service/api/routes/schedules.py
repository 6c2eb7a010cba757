"""Schedules: create, read, pause / resume / edit, delete; run a window now; backfill; metric history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from monitor_service.api.deps import AdminAccess, ReadAccess, ResourcesDep, SessionDep
from monitor_service.api.monitor_models import request_union
from monitor_service.api.params import QueryTime, utc
from monitor_service.api.routes.executions import ExecutionOut
from monitor_service.api.routes.inputs import SETTINGS_FIELDS, InputIn, MonitorSettingsIn, settings_given
from monitor_service.monitors import MONITORS
from monitor_service.scheduler.expressions import check_offsets, parse_offset, parse_schedule_expression
from monitor_service.security.text import RequestModel
from monitor_service.service import executions as executions_service
from monitor_service.service import schedules as service
from monitor_service.service.feature_metrics import (
    feature_history,
    feature_names,
    model_metric_history,
    model_metric_names,
)
from monitor_service.service.schedules import ScheduleStatus
from monitor_service.store.models import Schedule

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"], dependencies=[ReadAccess])


class _Timing(RequestModel):
    """Validation shared by create and update: each field alone, then the offsets together."""

    schedule_expression: str | None = None
    start_offset: str | None = Field(default=None, examples=["-PT1H"])
    end_offset: str | None = Field(default=None, examples=["PT0S"])

    @field_validator("schedule_expression")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule_expression(value)
        return value

    @field_validator("start_offset", "end_offset")
    @classmethod
    def _offset(cls, value: str | None) -> str | None:
        if value is not None:
            parse_offset(value)
        return value

    @model_validator(mode="after")
    def _offsets(self) -> _Timing:
        check_offsets(None if self.start_offset is None else parse_offset(self.start_offset),
                      None if self.end_offset is None else parse_offset(self.end_offset))
        return self


class _ScheduleCreateBase(_Timing):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9_])*$",
                      description="Also the report folder name: letters, digits, '-' and '_'")
    input: InputIn
    baseline_id: str = Field(description="A Ready baseline of the same monitor type")
    schedule_expression: str = Field(examples=["cron(0 * ? * * *)", "*/15 * * * *", "rate(15 minutes)"])


# One variant per monitor type (with its settings field), keyed by `monitor_type`.
ScheduleCreate = request_union(MONITORS, _ScheduleCreateBase, "ScheduleCreate", settings=True)


class ScheduleUpdate(_Timing, MonitorSettingsIn):
    """Fields left out stay as they are; `input` and the settings object are replaced as a whole."""

    model_config = ConfigDict(extra="forbid")

    status: ScheduleStatus | None = Field(default=None, description="Stopped pauses, Scheduled resumes")
    input: InputIn | None = None
    baseline_id: str | None = None


class Run(BaseModel):
    scheduled_time: datetime
    window_start: datetime
    window_end: datetime


class _ScheduleOutBase(BaseModel):
    id: str
    name: str
    monitor_type: str
    status: str
    input: dict[str, Any]
    baseline_id: str
    schedule_expression: str
    start_offset: str | None
    end_offset: str | None
    planned_until: datetime
    skipped_windows: int = Field(description="Missed windows not caught up (older than the catch-up bound)")
    planning_error: str | None = Field(description="Why the scheduler could not plan this schedule's windows on "
                                                   "its last try; null when planning works")
    next_runs: list[Run]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, schedule: Schedule, now: datetime) -> ScheduleOut:
        runs = [Run(scheduled_time=f, window_start=s, window_end=e) for f, s, e in service.upcoming(schedule, now)]
        own = MONITORS.get(schedule.monitor_type).settings_field if schedule.monitor_type in MONITORS else None
        settings = {name: schedule.monitor_settings if name == own else None for name in SETTINGS_FIELDS}
        return ScheduleOut(id=schedule.id, name=schedule.name, monitor_type=schedule.monitor_type,
                           status=schedule.status, input=schedule.input_spec, baseline_id=schedule.baseline_id,
                           schedule_expression=schedule.schedule_expression, start_offset=schedule.start_offset,
                           end_offset=schedule.end_offset, planned_until=schedule.planned_until,
                           skipped_windows=schedule.skipped_windows, planning_error=schedule.planning_error,
                           next_runs=runs, created_at=schedule.created_at, updated_at=schedule.updated_at,
                           **settings)


# Plus one field per monitor type with settings (e.g. `model_quality`), set for schedules of that type.
ScheduleOut = create_model(  # type: ignore[call-overload]
    "ScheduleOut", __base__=_ScheduleOutBase,
    **{name: (dict[str, Any] | None, Field(description=f"The schedule's settings when its type keeps them in "
                                                        f"`{name}`; null otherwise"))
       for name in SETTINGS_FIELDS})


class WindowIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        """In UTC, so the report folder names the UTC hour whatever offset the caller wrote."""
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2024-05-01T13:00:00Z")
        return utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> WindowIn:
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} must be after start {self.start.isoformat()}")
        return self


class BackfillOut(BaseModel):
    created: list[str] = Field(description="Ids of the new executions, oldest window first")
    existing: int = Field(description="Windows in the range that already had an execution")


class MetricPoint(BaseModel):
    execution_id: str
    window_start: datetime
    window_end: datetime
    metrics: dict[str, float | None]


class FeatureHistoryOut(BaseModel):
    schedule_id: str
    feature: str
    points: list[MetricPoint]


class ModelMetricPoint(BaseModel):
    execution_id: str
    window_start: datetime
    window_end: datetime
    value: float | None = Field(description="Measured on the records labelled by the execution time")
    estimated: float | None = Field(description="CBPE estimate for the records still without a label (an "
                                                "estimate, not a measurement; BinaryClassification with a "
                                                "probability only)")


class ModelMetricHistoryOut(BaseModel):
    schedule_id: str
    metric: str
    points: list[ModelMetricPoint]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[AdminAccess])
def create_schedule(body: ScheduleCreate, session: SessionDep, resources: ResourcesDep) -> ScheduleOut:
    resources.settings.path_policy().check_model(body)
    now = resources.clock.now()
    schedule = service.create_schedule(
        session, resources.monitors, name=body.name, monitor_type=body.monitor_type,
        input_spec=body.input.model_dump(mode="json"), settings=settings_given(body), baseline_id=body.baseline_id,
        schedule_expression=body.schedule_expression, start_offset=body.start_offset, end_offset=body.end_offset,
        now=now)
    return ScheduleOut.of(schedule, now)


@router.get("")
def list_schedules(session: SessionDep, resources: ResourcesDep,
                   status: ScheduleStatus | None = None) -> list[ScheduleOut]:
    now = resources.clock.now()
    return [ScheduleOut.of(s, now) for s in service.list_schedules(session, status=status)]


@router.get("/{schedule_id}")
def get_schedule(schedule_id: str, session: SessionDep, resources: ResourcesDep) -> ScheduleOut:
    return ScheduleOut.of(service.get_schedule(session, schedule_id), resources.clock.now())


@router.patch("/{schedule_id}", dependencies=[AdminAccess], summary="Pause, resume or edit a schedule")
def update_schedule(schedule_id: str, body: ScheduleUpdate, session: SessionDep,
                    resources: ResourcesDep) -> ScheduleOut:
    resources.settings.path_policy().check_model(body)
    changes = body.model_dump(mode="json", exclude_unset=True, exclude=set(MonitorSettingsIn.model_fields))
    if "input" in changes:
        changes["input_spec"] = changes.pop("input")
    if body.settings_changed():
        changes["settings"] = body.settings_given()
    now = resources.clock.now()
    return ScheduleOut.of(service.update_schedule(session, resources.monitors, schedule_id=schedule_id,
                                                  changes=changes, now=now), now)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminAccess],
               summary="Delete a schedule with its executions, violations and metrics (report files stay)")
def delete_schedule(schedule_id: str, session: SessionDep) -> Response:
    service.delete_schedule(session, schedule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{schedule_id}/executions", status_code=status.HTTP_202_ACCEPTED, dependencies=[AdminAccess],
             summary="Run one window now (always a new execution, also for a window already run)")
def run_window(schedule_id: str, body: WindowIn, session: SessionDep, resources: ResourcesDep) -> ExecutionOut:
    schedule = service.get_schedule(session, schedule_id)
    execution = executions_service.run_window_now(session, resources.artifacts, resources.monitors, schedule,
                                                  start=body.start, end=body.end, now=resources.clock.now())
    return ExecutionOut.of(execution)


@router.post("/{schedule_id}/backfill", status_code=status.HTTP_202_ACCEPTED, dependencies=[AdminAccess],
             summary="Create the schedule's windows inside [start, end] that have not run yet")
def backfill(schedule_id: str, body: WindowIn, session: SessionDep, resources: ResourcesDep) -> BackfillOut:
    schedule = service.get_schedule(session, schedule_id)
    result = executions_service.backfill(session, resources.artifacts, resources.monitors, schedule,
                                         start=body.start, end=body.end,
                                         now=resources.clock.now(),
                                         max_windows=resources.settings.backfill_max_windows)
    return BackfillOut(created=result.created, existing=result.existing)


@router.get("/{schedule_id}/features", summary="Features with recorded metrics")
def list_features(schedule_id: str, session: SessionDep) -> list[str]:
    service.get_schedule(session, schedule_id)
    return feature_names(session, schedule_id=schedule_id)


@router.get("/{schedule_id}/features/{feature}/history",
            summary="A feature's metrics (drift distance, completeness, mean, ...) across executions, for charts")
def get_feature_history(schedule_id: str, feature: str, session: SessionDep, since: QueryTime = None,
                        until: QueryTime = None,
                        limit: int = Query(default=500, ge=1, le=10_000)) -> FeatureHistoryOut:
    service.get_schedule(session, schedule_id)
    rows = feature_history(session, schedule_id=schedule_id, feature=feature, since=since, until=until, limit=limit)
    return FeatureHistoryOut(schedule_id=schedule_id, feature=feature, points=[
        MetricPoint(execution_id=r.execution_id, window_start=r.window_start, window_end=r.window_end,
                    metrics=r.metrics) for r in rows])


def _metric_series(schedule: Schedule, resources: Any) -> dict[str, str]:
    return dict(resources.monitors.get(schedule.monitor_type).metric_series)


@router.get("/{schedule_id}/model-metrics", summary="Model metrics with recorded values (ModelQuality schedules)")
def list_model_metrics(schedule_id: str, session: SessionDep, resources: ResourcesDep) -> list[str]:
    schedule = service.get_schedule(session, schedule_id)
    return model_metric_names(session, schedule_id=schedule_id, series=_metric_series(schedule, resources))


@router.get("/{schedule_id}/model-metrics/{metric}/history",
            summary="A model metric (auc, f2, accuracy, mae, ...) across executions: measured and estimated")
def get_model_metric_history(schedule_id: str, metric: str, session: SessionDep, resources: ResourcesDep,
                             since: QueryTime = None, until: QueryTime = None,
                             limit: int = Query(default=500, ge=1, le=10_000)) -> ModelMetricHistoryOut:
    """One point per execution, oldest window first; since/until filter the window end. `value` is
    measured on the labelled records, `estimated` is the CBPE estimate for the records still waiting
    for a label. A metric that could not be computed (e.g. auc of a window with one class) is null."""
    schedule = service.get_schedule(session, schedule_id)
    points = model_metric_history(session, schedule_id=schedule_id, metric=metric,
                                  series=_metric_series(schedule, resources), since=since, until=until, limit=limit)
    return ModelMetricHistoryOut(schedule_id=schedule_id, metric=metric, points=[
        ModelMetricPoint(execution_id=p.execution_id, window_start=p.window_start, window_end=p.window_end,
                         value=p.values.get("value"), estimated=p.values.get("estimated")) for p in points])
