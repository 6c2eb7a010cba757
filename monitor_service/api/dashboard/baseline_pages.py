"""A baseline's page: its documents, the schedules using it, and (admin keys) its constraints form.

The form comes from the baseline's monitor type (`MonitorPlugin.constraints_form`) and what it
posts becomes that type's constraints edit (`constraints_patch_from_form`), which
`service.baselines.patch_constraints` applies exactly as `PATCH /api/v1/baselines/{id}/constraints`
does: the same validation, a new baseline version, and a 409 if someone else edited it first.
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import select

from monitor_service.api.dashboard.render import page
from monitor_service.api.dashboard.security import (
    PREFIX,
    Form,
    FormData,
    Viewer,
    check_csrf,
    require_admin,
    secure_headers,
)
from monitor_service.api.deps import ResourcesDep, SessionDep
from monitor_service.errors import ConflictError, InvalidField, NotFoundError
from monitor_service.monitors.panels import FormField
from monitor_service.service import baselines as service
from monitor_service.service.ui_sessions import SignedIn
from monitor_service.store.models import Baseline, Schedule

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _sections(fields: list[FormField]) -> list[tuple[str, list[FormField]]]:
    return [(section, list(items)) for section, items in itertools.groupby(fields, key=lambda f: f.section)]


def _render(request: Request, viewer: SignedIn, baseline: Baseline, session: SessionDep, resources: ResourcesDep, *,
            error: InvalidField | ConflictError | None = None, submitted: FormData | None = None,
            saved: str | None = None, status_code: int = 200) -> HTMLResponse:
    plugin = resources.monitors.get(baseline.monitor_type)
    documents = baseline.contents()
    fields = plugin.constraints_form(documents)
    schedules = list(session.scalars(select(Schedule).where(Schedule.baseline_id == baseline.id)
                                     .order_by(Schedule.name)))
    values: dict[str, Any] = {}
    if submitted is not None:  # show what was typed, not the stored values, next to the error
        values = {f.name: (tuple(submitted.get(f.name, ())) if f.kind == "checkboxes"
                           else (submitted.get(f.name) or [f.value])[-1]) for f in fields}
    return page(request, "baseline.html", status_code=status_code, viewer=viewer, baseline=baseline,
                documents=sorted(documents), sections=_sections(fields), values=values, schedules=schedules,
                error=error, error_field=getattr(error, "field", None), saved=saved,
                title=plugin.title)


@router.get("/baselines/{baseline_id}")
def baseline_page(request: Request, baseline_id: str, viewer: Viewer, session: SessionDep, resources: ResourcesDep,
                  saved: str | None = None) -> HTMLResponse:
    return _render(request, viewer, service.get_baseline(session, baseline_id), session, resources, saved=saved)


@router.get("/baselines/{baseline_id}/documents/{name}")
def baseline_document(baseline_id: str, name: str, viewer: Viewer, session: SessionDep) -> Response:
    document = service.get_baseline(session, baseline_id).document(name)
    if document is None:
        raise NotFoundError(f"baseline {baseline_id} has no {name} document")
    return secure_headers(JSONResponse(document), "default-src 'none'; sandbox")


@router.post("/baselines/{baseline_id}/constraints")
def edit_constraints(request: Request, baseline_id: str, viewer: Viewer, form: Form, session: SessionDep,
                     resources: ResourcesDep) -> Response:
    check_csrf(request, form, viewer)
    require_admin(viewer)
    baseline = service.get_baseline(session, baseline_id)
    try:
        seen = (form.get("version") or [""])[-1]
        if seen != str(baseline.version):
            raise ConflictError(f"baseline {baseline.name} was edited meanwhile (you edited version {seen}, it is "
                                f"now version {baseline.version})", hint="review the current values and save again")
        plugin = resources.monitors.get(baseline.monitor_type)
        patch = plugin.constraints_patch_from_form(baseline.contents(), form)
        if not patch.model_dump(exclude_defaults=True):
            return RedirectResponse(f"{PREFIX}/baselines/{baseline.id}?saved=unchanged",
                                    status_code=status.HTTP_303_SEE_OTHER)
        with session.begin_nested():  # a refused edit leaves nothing behind
            edited = service.patch_constraints(session, resources.artifacts, resources.monitors,
                                               baseline_id=baseline.id, patch=patch, now=resources.clock.now())
    except (InvalidField, ConflictError) as exc:
        session.expire_all()
        code = status.HTTP_422_UNPROCESSABLE_CONTENT if isinstance(exc, InvalidField) else status.HTTP_409_CONFLICT
        return _render(request, viewer, service.get_baseline(session, baseline_id), session, resources, error=exc,
                       submitted=form, status_code=code)
    return RedirectResponse(f"{PREFIX}/baselines/{edited.id}?saved=v{edited.version}",
                            status_code=status.HTTP_303_SEE_OTHER)
