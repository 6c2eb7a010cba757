"""Violations across executions: filtered, newest first, cursor-paginated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from monitor_service.api.deps import ReadAccess, ResourcesDep, SessionDep
from monitor_service.api.params import QueryCursor, QueryTime
from monitor_service.service.violations import list_violations
from monitor_service.store.models import Violation

router = APIRouter(prefix="/api/v1/violations", tags=["violations"], dependencies=[ReadAccess])


class ViolationOut(BaseModel):
    id: int
    execution_id: str
    schedule_id: str | None
    monitor_type: str
    feature_name: str = Field(description="What it is about: a feature, a model metric, a bias facet, a label")
    constraint_check_type: str
    description: str
    metric_name: str | None = Field(description="The metric that broke its constraint, where the monitor "
                                                "type names one (auc, DPPL, shap, ...)")
    details: dict[str, Any] | None = Field(description="The rest of the violation entry (e.g. a facet's value)")
    window_start: datetime
    window_end: datetime
    created_at: datetime

    @classmethod
    def of(cls, row: Violation) -> ViolationOut:
        return cls(id=row.id, execution_id=row.execution_id, schedule_id=row.schedule_id,
                   monitor_type=row.monitor_type, feature_name=row.feature_name, constraint_check_type=row.check_type,
                   description=row.description, metric_name=row.metric_name, details=row.details,
                   window_start=row.window_start, window_end=row.window_end,
                   created_at=row.created_at)


class ViolationPage(BaseModel):
    items: list[ViolationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page")


@router.get("", response_model=ViolationPage, response_class=Response,
            summary="Violations, newest window first; since/until filter the window end")
def get_violations(session: SessionDep, resources: ResourcesDep, schedule_id: str | None = None,
                   monitor_type: str | None = None,
                   feature: str | None = Query(default=None, description="A feature, model metric or bias facet"),
                   check_type: str | None = None,
                   metric: str | None = Query(default=None, description="The violated metric (auc, DPPL, ...)"),
                   execution_id: str | None = None, since: QueryTime = None, until: QueryTime = None,
                   cursor: QueryCursor = None, limit: int = Query(default=100, ge=1)) -> Response:
    """The hot query path: the page is serialised once, straight to bytes (no second validation)."""
    rows, next_cursor = list_violations(
        session, schedule_id=schedule_id, monitor_type=monitor_type, feature=feature, check_type=check_type,
        metric=metric, execution_id=execution_id, since=since, until=until, cursor=cursor,
        limit=min(limit, resources.settings.page_size_max))
    page = ViolationPage(items=[ViolationOut.of(v) for v in rows], next_cursor=next_cursor)
    return Response(page.model_dump_json(), media_type="application/json")
