"""Templates (Jinja2, autoescaped) and the error pages of the dashboard.

Errors raised under `/ui` (a missing schedule, a refused edit, a 403) become HTML pages; the API's
own routes keep answering JSON through the handlers installed before.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from monitor_service import __version__
from monitor_service.api.dashboard.security import PREFIX, secure_headers
from monitor_service.errors import ConfigError, ConflictError, InvalidField, MonitorError, NotFoundError


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _number(value: object, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}g}"


def _json_script(value: Any) -> Markup:
    """JSON safe inside <script type="application/json"> (no "</script>" can close it)."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("monitor_service.api.dashboard", "templates"),
                      autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=_when, number=_number, json_script=_json_script)
    env.globals.update(prefix=PREFIX, version=__version__)
    return env


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    nav = getattr(request.app.state, "dashboard_nav", ())
    html = environment().get_template(template).render(request=request, nav=nav, **context)
    return secure_headers(HTMLResponse(html, status_code=status_code))  # type: ignore[return-value]


def error_page(request: Request, status_code: int, message: str, hint: str | None = None) -> HTMLResponse:
    viewer = getattr(request.state, "viewer", None)
    return page(request, "error.html", status_code=status_code, status=status_code, message=message, hint=hint,
                viewer=viewer)


Handler = Callable[[Request, Any], Awaitable[Response] | Response]


def install_error_pages(app: FastAPI) -> None:
    """Wrap the app's handlers: under /ui an error is a page, elsewhere what it was before."""
    statuses = {NotFoundError: 404, ConflictError: 409, InvalidField: 422, ConfigError: 422, MonitorError: 500}
    for error_class in (StarletteHTTPException, RequestValidationError, *statuses):
        previous = app.exception_handlers.get(error_class)
        if previous is None:
            continue

        async def wrapped(request: Request, exc: Exception, previous: Handler = previous) -> Any:
            if not request.url.path.startswith(PREFIX + "/") and request.url.path != PREFIX:
                result = previous(request, exc)
                return await result if inspect.isawaitable(result) else result
            if isinstance(exc, StarletteHTTPException):
                if 300 <= exc.status_code < 400:
                    return Response(status_code=exc.status_code, headers=exc.headers)
                return error_page(request, exc.status_code, str(exc.detail))
            if isinstance(exc, RequestValidationError):
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
                return error_page(request, 422, f"invalid request: {problems}")
            status = next(code for cls, code in statuses.items() if isinstance(exc, cls))
            assert isinstance(exc, MonitorError)
            return error_page(request, status, exc.message, exc.hint)

        app.add_exception_handler(error_class, wrapped)
