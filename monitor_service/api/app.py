"""The application factory: routers, error translation, limits, and the engine's lifespan.

Nothing happens at import. The engine is created (and the schema upgraded) when the app
starts and disposed when it stops; the scheduler is never started here (`monitor scheduler`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from monitor_service import __version__
from monitor_service.api.dashboard import DashboardExtension, endpoint_pages, install_dashboard
from monitor_service.api.deps import Resources
from monitor_service.api.guards import AuthenticateFirst, StorableParameters
from monitor_service.api.limits import BodySizeLimit
from monitor_service.api.monitor_models import normalize_errors
from monitor_service.api.responses import install_error_responses
from monitor_service.api.routes import (
    apikeys,
    baselines,
    executions,
    gateway,
    ground_truth,
    schedules,
    system,
    violations,
    webhooks,
)
from monitor_service.core.registry import Registry
from monitor_service.errors import ConfigError, ConflictError, InvalidField, MonitorError, NotFoundError
from monitor_service.monitors import MONITORS
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.scheduler.clock import Clock, SystemClock
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_engine, make_sessionmaker, upgrade

ROUTERS = tuple(m.router for m in (system, baselines, schedules, executions, violations, ground_truth, webhooks,
                                   apikeys, gateway))
DESCRIPTION = """Self-hosted model monitoring, file-compatible with SageMaker Model Monitor.

Every route except `/healthz` needs `Authorization: Bearer <key>` (create one with
`monitor apikey create --role admin`). Read keys can query; admin keys can also change things.
The web dashboard is at `/ui` (sign in with a key)."""


def create_app(settings: Settings, *, clock: Clock | None = None, monitors: Registry[MonitorPlugin] | None = None,
               dashboard_extensions: Sequence[DashboardExtension] = ()) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        if settings.auto_migrate:
            upgrade(engine)
        app.state.resources = Resources(settings=settings, factory=make_sessionmaker(engine),
                                        artifacts=ArtifactStore(settings.artifact_root),
                                        clock=clock or SystemClock(), monitors=monitors or MONITORS)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(title="monitor-service", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    # Outermost first: the key is checked before anything else, then the parameters, then the
    # body is read (up to the limit) and only then parsed by the route.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(StorableParameters)
    app.add_middleware(AuthenticateFirst)
    for router in ROUTERS:
        app.include_router(router)
    _error_handlers(app, monitors or MONITORS)
    install_dashboard(app, (endpoint_pages.extension(settings), *dashboard_extensions))
    install_error_responses(app)
    return app


def _error(status: int, detail: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})


def _plain_error(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return _error(status, str(exc))

    return handle


def _echoable(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error as answered: the offending input echoed only when it is short, and
    never with text that cannot be encoded (a lone surrogate would make the 422 itself fail)."""
    out = {k: v for k, v in error.items() if k not in ("input", "ctx", "url")}
    given = error.get("input")
    try:
        text = json.dumps(jsonable_encoder(given), ensure_ascii=False)
        text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        return out
    if len(text) <= 1000:
        out["input"] = json.loads(text)
    return out


def _encodable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _error_handlers(app: FastAPI, monitors: Registry[MonitorPlugin]) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. bytes that are not UTF-8)
            return _error(422, [{"loc": ["body"], "msg": "the body is not valid UTF-8 JSON", "type": "json_invalid"}])
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_echoable(e) for e in normalize_errors(exc.errors(), monitors)]
        for error in errors:
            error["msg"] = _encodable(str(error.get("msg", "")))
            error["loc"] = [_encodable(p) if isinstance(p, str) else p for p in error.get("loc", ())]
        return _error(422, errors)

    @app.exception_handler(InvalidField)
    async def invalid_field(_: Request, exc: InvalidField) -> JSONResponse:
        return _error(422, [{"loc": [exc.location, exc.field], "msg": str(exc), "type": "value_error"}])

    @app.exception_handler(ConfigError)
    async def unusable(_: Request, exc: ConfigError) -> JSONResponse:  # 422s share FastAPI's list shape
        return _error(422, [{"loc": ["body"], "msg": str(exc), "type": "value_error"}])

    # The project's exception tree, translated once: the most specific class wins in FastAPI.
    for error_class, status in ((NotFoundError, 404), (ConflictError, 409), (MonitorError, 500)):
        app.add_exception_handler(error_class, _plain_error(status))

    @app.exception_handler(IntegrityError)
    async def integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return _error(409, "the change conflicts with existing data (a duplicate name or a reference in use)")

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        return _error(503, "the database is unavailable; try again shortly")
