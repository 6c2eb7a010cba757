"""The dashboard's pages: sign-in, overview, a schedule, a run (with its report and files), a baseline.

Every page reads through the service layer's bounded queries and changes things only through the
same service functions as the REST API (so the same validation applies). Pages need a session
(`security.viewer`); changes need an admin key and the form's CSRF token.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from functools import cache
from importlib import resources as package_files
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from monitor_service.api.dashboard import charts
from monitor_service.api.dashboard.render import page
from monitor_service.api.dashboard.schedule_view import schedule_view
from monitor_service.api.dashboard.security import (
    LOGIN_COOKIE,
    PREFIX,
    REPORT_POLICY,
    SESSION_COOKIE,
    Form,
    Viewer,
    check_csrf,
    clear_session_cookie,
    cookie_secure,
    new_login_token,
    require_admin,
    safe_next,
    same_origin,
    secure_headers,
    set_login_cookie,
    set_session_cookie,
)
from monitor_service.api.deps import ResourcesDep, SessionDep
from monitor_service.api.routes.executions import MEDIA_TYPES
from monitor_service.errors import InvalidField, NotFoundError
from monitor_service.service.executions import get_execution, run_window_now
from monitor_service.service.history import recent_windows, violations_since
from monitor_service.service.schedules import get_schedule, list_schedules
from monitor_service.service.ui_sessions import resolve, sign_in, sign_out
from monitor_service.service.violations import list_violations

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SPARKLINE_WINDOWS = 48
RUN_VIOLATIONS = 100
STATIC = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}


@cache
def _plotly_bundle() -> bytes:
    return (package_files.files("plotly") / "package_data" / "plotly.min.js").read_bytes()


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """plotly.js from the installed plotly package, and the dashboard's own script and styles."""
    if name == "plotly.min.js":
        body, media = _plotly_bundle(), "text/javascript; charset=utf-8"
    elif name in STATIC:
        body, media = (package_files.files(__package__ or "") / "static" / name).read_bytes(), STATIC[name]
    else:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no static file {name}")
    response = Response(body, media_type=media)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- signing in and out -------------------------------------------------------------------------
def _login_page(request: Request, target: str, secure: bool, *, error: str | None = None,
                status_code: int = 200) -> HTMLResponse:
    token = new_login_token()
    response = page(request, "login.html", status_code=status_code, next=target, login_token=token, error=error,
                    viewer=None)
    set_login_cookie(response, token, secure)
    return response


@router.get("/login")
def login_form(request: Request, session: SessionDep, resources: ResourcesDep,
               next: str | None = None) -> Response:
    target = safe_next(next)
    token = request.cookies.get(SESSION_COOKIE)
    if token and resolve(session, token, now=resources.clock.now()) is not None:
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    return _login_page(request, target, cookie_secure(request, resources))


@router.post("/login")
def login(request: Request, form: Form, session: SessionDep, resources: ResourcesDep) -> Response:
    same_origin(request)
    secure = cookie_secure(request, resources)
    target = safe_next((form.get("next") or [""])[-1])
    sent, expected = (form.get("login_token") or [""])[-1], request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(sent, expected):
        return _login_page(request, target, secure, error="The sign-in form expired; please try again.",
                           status_code=status.HTTP_403_FORBIDDEN)
    lifetime = timedelta(minutes=resources.settings.ui_session_minutes)
    found = sign_in(session, (form.get("key") or [""])[-1], now=resources.clock.now(), lifetime=lifetime)
    if found is None:
        return _login_page(request, target, secure, error="That API key is wrong or has been revoked.",
                           status_code=status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, found[1], lifetime, secure)
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return secure_headers(response)


@router.post("/logout")
def logout(request: Request, viewer: Viewer, form: Form, session: SessionDep, resources: ResourcesDep) -> Response:
    check_csrf(request, form, viewer)
    sign_out(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(PREFIX + "/login", status_code=status.HTTP_303_SEE_OTHER)
    clear_session_cookie(response, cookie_secure(request, resources))
    return secure_headers(response)


# --- overview -----------------------------------------------------------------------------------
@router.get("")
def root() -> Response:
    return RedirectResponse(PREFIX + "/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/")
def overview(request: Request, viewer: Viewer, session: SessionDep, resources: ResourcesDep) -> HTMLResponse:
    now = resources.clock.now()
    since = now - timedelta(hours=24)
    rows = []
    for schedule in list_schedules(session):
        recent = recent_windows(session, schedule_id=schedule.id, limit=SPARKLINE_WINDOWS)
        rows.append({"schedule": schedule, "last": recent[-1] if recent else None,
                     "day": violations_since(session, schedule_id=schedule.id, since=since),
                     "spark": charts.sparkline(float(e.violation_count or 0) for e in recent),
                     "spark_count": len(recent), "title": _title(resources, schedule.monitor_type)})
    blocks = [block for make in getattr(request.app.state, "dashboard_overview", ())
              if (block := make(session, now)) is not None]
    return page(request, "overview.html", viewer=viewer, rows=rows, blocks=blocks, now=now)


def _title(resources: ResourcesDep, monitor_type: str) -> str:
    return resources.monitors.get(monitor_type).title if monitor_type in resources.monitors else monitor_type


# --- a schedule ---------------------------------------------------------------------------------
@router.get("/schedules/{schedule_id}")
def schedule_page(request: Request, schedule_id: str, viewer: Viewer, session: SessionDep, resources: ResourcesDep,
                  focus: str | None = None, feature: str | None = None, check: str | None = None,
                  vcursor: str | None = None, ecursor: str | None = None,
                  windows: Annotated[int | None, Query(ge=1, le=5000)] = None) -> HTMLResponse:
    schedule = get_schedule(session, schedule_id)
    view = schedule_view(session, resources, schedule, focus=focus or None, feature=feature, check=check,
                         violations_cursor=vcursor or None, executions_cursor=ecursor or None,
                         windows=windows or resources.settings.ui_history_windows)
    base = {k: v for k, v in (("focus", focus), ("feature", feature), ("check", check)) if v}

    def link(**changes: str | None) -> str:
        query = {k: v for k, v in {**base, **changes}.items() if v}
        return f"{PREFIX}/schedules/{schedule.id}" + (f"?{urlencode(query)}" if query else "")

    return page(request, "schedule.html", viewer=viewer, view=view, link=link,
                title=_title(resources, schedule.monitor_type))


@router.post("/schedules/{schedule_id}/run")
def rerun_window(request: Request, schedule_id: str, viewer: Viewer, form: Form, session: SessionDep,
                 resources: ResourcesDep) -> Response:
    """Run a window again now (e.g. after editing the constraints), as POST .../executions does."""
    check_csrf(request, form, viewer)
    require_admin(viewer)
    schedule = get_schedule(session, schedule_id)
    start, end = (_time(form, name) for name in ("start", "end"))
    execution = run_window_now(session, resources.artifacts, resources.monitors, schedule, start=start, end=end,
                               now=resources.clock.now())
    return RedirectResponse(f"{PREFIX}/runs/{execution.id}", status_code=status.HTTP_303_SEE_OTHER)


def _time(form: dict[str, list[str]], name: str) -> datetime:
    raw = (form.get(name) or [""])[-1]
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidField(name, f"{raw!r} is not an ISO-8601 time", location="form") from None
    if value.tzinfo is None:
        raise InvalidField(name, "give a time zone, e.g. 2024-05-01T13:00:00+00:00", location="form")
    return value


# --- a run --------------------------------------------------------------------------------------
@router.get("/runs/{execution_id}")
def run_page(request: Request, execution_id: str, viewer: Viewer, session: SessionDep,
             vcursor: str | None = None) -> HTMLResponse:
    execution = get_execution(session, execution_id)
    schedule = get_schedule(session, execution.schedule_id) if execution.schedule_id else None
    violations, next_cursor = list_violations(session, execution_id=execution.id, cursor=vcursor or None,
                                              limit=RUN_VIOLATIONS)
    return page(request, "run.html", viewer=viewer, execution=execution, schedule=schedule,
                files=sorted((execution.artifacts or {}).keys()), violations=violations, next_cursor=next_cursor)


@router.get("/runs/{execution_id}/files/{name}")
def run_file(execution_id: str, name: str, viewer: Viewer, session: SessionDep, resources: ResourcesDep) -> Response:
    """One file the run wrote; its report is served sandboxed (a page of its own, no network)."""
    execution = get_execution(session, execution_id)
    path = (execution.artifacts or {}).get(name)
    if path is None:
        raise NotFoundError(f"run {execution_id} has no file {name}", hint="the run page lists its files")
    suffix = name[name.rfind("."):]
    response = Response(resources.artifacts.read_bytes(path), media_type=MEDIA_TYPES.get(suffix, "application/json"))
    return secure_headers(response, REPORT_POLICY if suffix == ".html" else "default-src 'none'; sandbox")
