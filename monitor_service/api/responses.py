"""The error statuses of every operation, declared in the OpenAPI document from one rule set.

Routes declare their success response; the errors follow from what a route is, so they are
added here for all of them instead of by hand on each:

- 401 on every route but the public ones (`guards.PUBLIC_PATHS`), 403 where an admin key is needed;
- 404 where the path or the body names an object by id; 409 on every change (a duplicate
  name, an edit that lost a race, a reference still in use); 413 wherever a body may be sent;
- 422 everywhere (a body, a parameter, or a parameter holding U+0000), 503 when the database
  is down. Error bodies are `{"detail": "..."}`, and 422 bodies FastAPI's validation list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from monitor_service.api.deps import require_admin
from monitor_service.api.guards import PUBLIC_PATHS

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DESCRIPTIONS = {
    401: "No valid API key (send `Authorization: Bearer <key>`)",
    403: "The API key's role may not do this (changes need an admin key)",
    404: "An id in the path or the body does not exist",
    409: "The change conflicts with existing state (a duplicate name, a concurrent edit, a reference in use)",
    413: "The request body is larger than MONITOR_MAX_REQUEST_BYTES",
    422: "A value in the body or the parameters cannot be used (the entries name it)",
    503: "The database is unavailable; try again shortly",
}


class ErrorOut(BaseModel):
    detail: str


def _needs_admin(dependant: Dependant) -> bool:
    return any(d.call is require_admin or _needs_admin(d) for d in dependant.dependencies)


def error_statuses(route: APIRoute) -> list[int]:
    """The error statuses `route` can answer with."""
    codes = [422, 503]
    if route.path not in PUBLIC_PATHS:
        codes.append(401)
    if _needs_admin(route.dependant):
        codes.append(403)
    if "{" in route.path or route.body_field is not None:
        codes.append(404)
    if route.methods & CHANGES:
        codes.extend([409, 413])
    return sorted(codes)


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of an app, including those of included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def install_error_responses(app: FastAPI) -> None:
    """Make `app.openapi()` declare `error_statuses` on every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = FastAPI.openapi(app)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.model_json_schema()
        for route in api_routes(app.routes):
            if not route.include_in_schema:
                continue
            for method in route.methods:
                operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                for code in error_statuses(route):
                    ref = "HTTPValidationError" if code == 422 else "ErrorOut"
                    operation["responses"].setdefault(str(code), {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
                    })
        if "HTTPValidationError" not in components:  # no route has parameters: add FastAPI's shapes
            from fastapi.openapi.utils import validation_error_definition, validation_error_response_definition

            components["ValidationError"] = validation_error_definition
            components["HTTPValidationError"] = validation_error_response_definition
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
