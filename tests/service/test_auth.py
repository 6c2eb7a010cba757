"""Authentication and roles on every route; the OpenAPI document lists and validates them all."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from monitor_service.api.app import ROUTERS
from tests.service.conftest import FakeClock

ID = "00000000-0000-0000-0000-000000000000"


def api_routes() -> list[APIRoute]:
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the app with ids filled in."""
    out = []
    for route in api_routes():
        for method in sorted(route.methods):
            path = re.sub(r"\{name\}", "summary.json", route.path)
            out.append((method, re.sub(r"\{[a-z_]+\}", ID, path)))
    assert len(out) >= 30
    return out


def test_openapi_is_valid_and_complete(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    validate(spec)
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    for route in api_routes():
        for method in route.methods:
            assert (method, route.path) in documented
    assert client.get("/docs").status_code == 200


def test_healthz_needs_no_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_every_other_route_needs_a_key(client: TestClient, admin: dict[str, str]) -> None:
    for method, path in routes(client):
        if path == "/healthz":
            continue
        for headers in ({}, {"Authorization": "Bearer mon_wrong"}, {"Authorization": "Basic abc"}):
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"


def test_read_keys_cannot_change_anything(client: TestClient, reader: dict[str, str]) -> None:
    changes = [(m, p) for m, p in routes(client) if m in {"POST", "PUT", "PATCH", "DELETE"}]
    assert len(changes) >= 15
    for method, path in changes:
        response = client.request(method, path, headers=reader, json={})
        assert response.status_code == 403, (method, path, response.text)
        assert "admin" in response.json()["detail"]
    admin_reads = {"/api/v1/apikeys", "/api/v1/webhooks", "/api/v1/deliveries"}
    for method, path in routes(client):
        if method == "GET" and not path.startswith(tuple(admin_reads)) and "{" not in path and ID not in path:
            assert client.get(path, headers=reader).status_code == 200, path


def test_revoked_key_is_refused(client: TestClient, admin: dict[str, str], clock: FakeClock) -> None:
    created = client.post("/api/v1/apikeys", headers=admin, json={"role": "read", "name": "ci"})
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["key_prefix"])
    key = {"Authorization": f"Bearer {body['key']}"}
    assert client.get("/api/v1/schedules", headers=key).status_code == 200
    listed = client.get("/api/v1/apikeys", headers=admin).json()
    assert {k["id"] for k in listed} >= {body["id"]} and all("key" not in k for k in listed)
    assert client.delete(f"/api/v1/apikeys/{body['id']}", headers=admin).json()["revoked_at"] is not None
    assert client.get("/api/v1/schedules", headers=key).status_code == 401
    assert client.delete(f"/api/v1/apikeys/{ID}", headers=admin).status_code == 404


@pytest.mark.parametrize("role", ["owner", ""])
def test_unknown_role_is_422(client: TestClient, admin: dict[str, str], role: str) -> None:
    response = client.post("/api/v1/apikeys", headers=admin, json={"role": role})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "role"]


def test_request_size_limit(client: TestClient, admin: dict[str, str]) -> None:
    big = {"name": "huge", "statistics": {"features": [{"name": "x" * 3_000_000}]}, "constraints": {}}
    response = client.post("/api/v1/baselines", headers=admin, json=big)
    assert response.status_code == 413
    assert "MONITOR_MAX_REQUEST_BYTES" in response.json()["detail"]


def test_malformed_json_is_422(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/api/v1/baselines", headers={**admin, "Content-Type": "application/json"},
                           content=b"{not json")
    assert response.status_code == 422


def test_enumerations_have_one_source(client: TestClient) -> None:
    """The API's enums and the CLI's choices are the service's tuples, not copies of them."""
    import argparse
    from typing import get_args

    from monitor_service.api.routes.executions import ARTIFACT_NAMES
    from monitor_service.cli.service_commands import register
    from monitor_service.service.executions import FINAL_STATUSES, ExecutionStatus
    from monitor_service.service.roles import ROLES
    from monitor_service.service.webhooks import EVENTS

    assert get_args(ExecutionStatus) == ("Pending", "InProgress", *FINAL_STATUSES)
    document = client.app.openapi()  # type: ignore[attr-defined]
    schemas = document["components"]["schemas"]
    parameters = {p["name"]: p["schema"] for p in
                  document["paths"]["/api/v1/executions/{execution_id}/artifacts/{name}"]["get"]["parameters"]}
    assert tuple(parameters["name"]["enum"]) == ARTIFACT_NAMES and "check_errors.json" in ARTIFACT_NAMES
    assert tuple(schemas["ExecutionOut"]["properties"]["status"]["enum"]) == get_args(ExecutionStatus)
    assert tuple(schemas["WebhookCreate"]["properties"]["events"]["items"]["enum"]) == EVENTS
    assert tuple(schemas["ApiKeyCreate"]["properties"]["role"]["enum"]) == ROLES
    main = argparse.ArgumentParser(prog="monitor")
    register(main.add_subparsers(dest="command", required=True))
    assert [main.parse_args(["apikey", "create", "--role", role]).role for role in ROLES] == list(ROLES)
