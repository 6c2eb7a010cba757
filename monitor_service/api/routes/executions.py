"""Executions: list (newest first), read one, stop one, download its reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from monitor_service.api.deps import AdminAccess, ReadAccess, ResourcesDep, SessionDep
from monitor_service.api.params import QueryCursor, QueryTime
from monitor_service.errors import NotFoundError
from monitor_service.monitors import MONITORS
from monitor_service.monitors.base import COMMON_ARTIFACTS
from monitor_service.service import executions as service
from monitor_service.service.executions import ExecutionStatus
from monitor_service.store.models import Execution

router = APIRouter(prefix="/api/v1/executions", tags=["executions"], dependencies=[ReadAccess])

# Every report file any monitor type's runs may write (the names an execution may link).
ARTIFACT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(
    [name for plugin in MONITORS for name in plugin.artifacts] + list(COMMON_ARTIFACTS)))
ArtifactName = Literal[ARTIFACT_NAMES]  # type: ignore[valid-type]
MEDIA_TYPES = {".json": "application/json", ".html": "text/html; charset=utf-8", ".csv": "text/csv",
               ".jsonl": "application/jsonlines"}


class ExecutionOut(BaseModel):
    id: str
    job: str = Field(description="analyze (a monitoring window) or baseline (a baseline job)")
    monitor_type: str
    trigger: str = Field(description="Scheduled | CatchUp | Backfill | Manual")
    schedule_id: str | None
    baseline_id: str | None
    baseline_version: int | None
    status: ExecutionStatus
    scheduled_time: datetime | None
    window_start: datetime | None
    window_end: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    attempts: int
    records_read: int | None = Field(description="All records read, including those outside the window "
                                                 "(the reader also scans the neighbouring hour folders)")
    records_analyzed: int | None = Field(description="Valid records the job analyzed: those inside the window "
                                                     "(the labelled ones for ModelQuality); null until it finished")
    records_quarantined: int | None
    quarantined_by_reason: dict[str, int] | None
    violation_count: int | None
    violations_by_check: dict[str, int] | None
    failure_reason: str | None = Field(description="Why it failed or stopped, in plain words")
    artifact_dir: str
    artifacts: dict[str, str] = Field(description="Report name -> API link that downloads it")

    @classmethod
    def of(cls, execution: Execution) -> ExecutionOut:
        links = {name: f"/api/v1/executions/{execution.id}/artifacts/{name}" for name in execution.artifacts or {}}
        return cls(
            id=execution.id, job=execution.job, monitor_type=execution.monitor_type, trigger=execution.trigger,
            schedule_id=execution.schedule_id, baseline_id=execution.baseline_id,
            baseline_version=execution.baseline_version, status=execution.status,  # type: ignore[arg-type]
            scheduled_time=execution.scheduled_time, window_start=execution.window_start,
            window_end=execution.window_end, created_at=execution.created_at, started_at=execution.started_at,
            finished_at=execution.finished_at, duration_seconds=execution.duration_seconds,
            attempts=execution.attempts, records_read=execution.records_read,
            records_analyzed=execution.records_analyzed,
            records_quarantined=execution.records_quarantined,
            quarantined_by_reason=execution.quarantined_by_reason, violation_count=execution.violation_count,
            violations_by_check=execution.violations_by_check, failure_reason=execution.failure_reason,
            artifact_dir=execution.artifact_dir, artifacts=links)


class ExecutionPage(BaseModel):
    items: list[ExecutionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page")


@router.get("", summary="Executions, newest first; since/until filter the window end")
def list_executions(session: SessionDep, resources: ResourcesDep, schedule_id: str | None = None,
                    status: ExecutionStatus | None = None, since: QueryTime = None, until: QueryTime = None,
                    cursor: QueryCursor = None,
                    limit: int = Query(default=100, ge=1)) -> ExecutionPage:
    rows, next_cursor = service.list_executions(
        session, schedule_id=schedule_id, status=status, since=since, until=until, cursor=cursor,
        limit=min(limit, resources.settings.page_size_max))
    return ExecutionPage(items=[ExecutionOut.of(e) for e in rows], next_cursor=next_cursor)


@router.get("/{execution_id}")
def get_execution(execution_id: str, session: SessionDep) -> ExecutionOut:
    return ExecutionOut.of(service.get_execution(session, execution_id))


@router.post("/{execution_id}/stop", dependencies=[AdminAccess],
             summary="Stop by hand: Pending ends Stopped now; InProgress is cancelled by its worker")
def stop_execution(execution_id: str, session: SessionDep, resources: ResourcesDep) -> ExecutionOut:
    return ExecutionOut.of(service.stop_execution(session, execution_id=execution_id, now=resources.clock.now()))


@router.get("/{execution_id}/artifacts/{name}", response_class=Response,
            responses={200: {"content": {"application/json": {}, "text/html": {}}}},
            summary="Download one report file")
def get_artifact(execution_id: str, name: ArtifactName, session: SessionDep, resources: ResourcesDep) -> Response:
    execution = service.get_execution(session, execution_id)
    path = (execution.artifacts or {}).get(name)
    if path is None:
        raise NotFoundError(f"execution {execution_id} has no {name}")
    suffix = name[name.rfind("."):]
    return Response(resources.artifacts.read_bytes(path), media_type=MEDIA_TYPES.get(suffix, "application/json"))
