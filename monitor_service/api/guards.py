"""What every request passes before a route sees it: the API key first, then storable parameters.

`AuthenticateFirst` checks the `Authorization` header as plain ASGI middleware, before any
byte of the body is read: FastAPI parses a body before it resolves the route's dependencies,
so without it an anonymous client could make the server parse (and answer 422 about) a body it
was never allowed to send. The key it finds is handed to the route's role check
(`deps.current_key`) through the request state, so a request costs one key lookup.

`StorableParameters` refuses path and query parameters that no database can store (U+0000),
with a 422 naming the parameter, as `security.text.RequestModel` does for bodies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor_service.security.text import text_problem
from monitor_service.service.apikeys import authenticate

# Routes anyone may call: the health check and the API's own documentation.
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
# The dashboard signs people in with a session cookie instead of a bearer key; its routes check the
# session (before they read a form body) and redirect to the sign-in page themselves.
DASHBOARD_PREFIX = "/ui"


def _own_authentication(path: str) -> bool:
    return path in PUBLIC_PATHS or path == DASHBOARD_PREFIX or path.startswith(DASHBOARD_PREFIX + "/")
STATE_KEY = "api_key"


@dataclass(frozen=True)
class KeyIdentity:
    """The authenticated key of a request: enough for role checks, detached from any session."""

    id: str
    role: str
    name: str


async def _answer(send: Send, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    head += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class AuthenticateFirst:
    """401 for every non-public route without a valid key, before the body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _own_authentication(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        challenge = {"WWW-Authenticate": "Bearer"}
        if token is None:
            await _answer(send, 401, "missing API key: send 'Authorization: Bearer <key>'", challenge)
            return
        try:
            key = await run_in_threadpool(self._lookup, scope, token)
        except OperationalError:
            await _answer(send, 503, "the database is unavailable; try again shortly")
            return
        if key is None:
            await _answer(send, 401, "invalid or revoked API key", challenge)
            return
        scope.setdefault("state", {})[STATE_KEY] = key
        await self.app(scope, receive, send)

    @staticmethod
    def _lookup(scope: Scope, token: str) -> KeyIdentity | None:
        if text_problem(token) or len(token) > 1024:
            return None
        resources = scope["app"].state.resources
        with resources.factory() as session:
            key = authenticate(session, token)
            return None if key is None else KeyIdentity(id=key.id, role=key.role, name=key.name)


class StorableParameters:
    """422 for a path or query parameter holding U+0000 (PostgreSQL cannot compare or store it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _parameter_problem(scope)
            if problem is not None:
                await _answer(send, 422, [problem])
                return
        await self.app(scope, receive, send)


def _parameter_problem(scope: Scope) -> dict[str, Any] | None:
    path_problem = text_problem(scope.get("path", ""))
    if path_problem:
        return {"loc": ["path"], "msg": f"the path {path_problem}", "type": "value_error"}
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        problem = text_problem(value) or text_problem(name)
        if problem:
            return {"loc": ["query", name.replace("\x00", "")], "msg": f"the parameter {problem}",
                    "type": "value_error"}
    return None
