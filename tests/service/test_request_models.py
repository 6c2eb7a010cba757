"""Every API request body: storable text checked once at the edge (issue 7, item 5), and no body
makes validation raise anything but a validation error (property test over mutated bodies)."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from monitor_service.api import create_app
from monitor_service.api.responses import api_routes
from monitor_service.security.text import RequestModel, check_json
from monitor_service.settings import Settings
from tests.fuzz_targets import Target, body_type, holds, request_seeds, request_targets


def _body_routes() -> list[APIRoute]:
    return [r for r in api_routes(create_app(Settings()).routes) if r.body_field is not None]


def _leaf_types(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        if any(getattr(m, "func", None) is not None and "_checked" in getattr(m.func, "__name__", "")
               for m in metadata):
            return [annotation]  # security.text.JsonDocument: checked by its validator
        return _leaf_types(base)
    if typing.get_args(annotation) and not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return [t for arg in typing.get_args(annotation) for t in _leaf_types(arg)]
    return [annotation]


def test_every_request_body_is_checked_for_storable_text() -> None:
    routes = _body_routes()
    assert len(routes) >= 12
    for route in routes:
        for leaf in _leaf_types(body_type(route)):
            checked = typing.get_origin(leaf) is typing.Annotated or (
                isinstance(leaf, type) and issubclass(leaf, RequestModel))
            assert checked, (route.path, leaf)


def test_every_body_route_has_fuzz_seeds() -> None:
    seeds = request_seeds()
    for route in _body_routes():
        for method in route.methods:
            assert (method, route.path) in seeds, (method, route.path)


def test_the_storable_text_walk_names_the_field_and_survives_any_depth() -> None:
    with pytest.raises(ValueError, match=r"a\.0\.b contains the NUL character"):
        check_json({"a": [{"b": "x\x00"}]})
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nests deeper than 64 levels"):
        check_json(deep)


@pytest.mark.parametrize("target", request_targets(), ids=lambda t: t.name)
def test_any_request_body_validates_or_is_a_validation_error(target: Target) -> None:
    holds(target, examples=60)
