"""The dashboard over the ASGI app (SQLite and PostgreSQL): sign-in, the session cookie, CSRF, roles,
constraint edits through the API's own validation, and the charts' data on the pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from monitor_service.service.apikeys import hash_key
from monitor_service.store.db import make_sessionmaker, transaction
from monitor_service.store.models import UiSession
from tests.service.conftest import T0, FakeClock, FakeRunner

LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _key(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def sign_in(client: TestClient, key: str, next_path: str = "/ui/") -> Any:
    form = client.get("/ui/login", params={"next": next_path})
    assert form.status_code == 200
    token = LOGIN_TOKEN.search(form.text)
    assert token is not None
    return client.post("/ui/login", data={"key": key, "login_token": token.group(1), "next": next_path},
                       follow_redirects=False)


def csrf_of(client: TestClient, path: str) -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def figures(html: str) -> dict[str, dict[str, Any]]:
    """The plotly figures a page carries, by chart id (what dashboard.js hands to Plotly.newPlot)."""
    found = re.findall(r'<script type="application/json" id="([^"]+)-data">(.*?)</script>', html, re.S)
    return {chart: json.loads(body) for chart, body in found}


def test_pages_redirect_to_sign_in(client: TestClient) -> None:
    response = client.get("/ui/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login?next=/ui/"
    assert client.get("/ui/schedules/x", follow_redirects=False).headers["location"] == (
        "/ui/login?next=/ui/schedules/x")


def test_forms_check_the_session_before_reading_the_body(client: TestClient, schedule_id: str) -> None:
    """Without a session a form post is sent to sign in; its body (here not even a form) is never read."""
    for path in (f"/ui/schedules/{schedule_id}/run", "/ui/logout", "/ui/baselines/x/constraints"):
        response = client.post(path, content=b"\xff" * 100, headers={"content-type": "application/octet-stream"},
                               follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/ui/login?next="), path


def test_sign_in_sets_a_hardened_session_cookie(client: TestClient, admin: dict[str, str], settings: Any,
                                                engine: Engine) -> None:
    wrong = sign_in(client, "mon_not-a-key")
    assert wrong.status_code == 401 and "wrong or has been revoked" in wrong.text
    response = sign_in(client, _key(admin), "/ui/")
    assert response.status_code == 303 and response.headers["location"] == "/ui/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("monitor_session="))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= set(attributes)
    assert attributes["samesite"].lower() == "samesite=lax" and attributes["path"] == "Path=/ui"
    assert attributes["max-age"] == f"Max-Age={settings.ui_session_minutes * 60}"
    token = cookie.split(";")[0].split("=", 1)[1]
    assert token != _key(admin) and len(token) >= 40
    with transaction(make_sessionmaker(engine)) as session:  # only the token's hash is stored
        assert session.scalars(select(UiSession.token_hash)).all() == [hash_key(token)]
    page = client.get("/ui/")
    assert page.status_code == 200 and 'id="role">admin<' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_sign_in_form_needs_its_own_token(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/ui/login", data={"key": _key(admin), "login_token": "forged", "next": "/ui/"},
                           follow_redirects=False)
    assert response.status_code == 403 and "monitor_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/ui/", "/api/v1/schedules"])
def test_sign_in_only_returns_to_the_dashboard(client: TestClient, admin: dict[str, str], target: str) -> None:
    assert sign_in(client, _key(admin), target).headers["location"] == "/ui/"


def test_session_expires(client: TestClient, admin: dict[str, str], clock: FakeClock, settings: Any) -> None:
    sign_in(client, _key(admin))
    clock.advance(minutes=settings.ui_session_minutes - 1)
    assert client.get("/ui/", follow_redirects=False).status_code == 200
    clock.advance(minutes=2)
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(client: TestClient, admin: dict[str, str], reader: dict[str, str]) -> None:
    sign_in(client, _key(reader))
    assert client.get("/ui/", follow_redirects=False).status_code == 200
    read_key = next(k for k in client.get("/api/v1/apikeys", headers=admin).json() if k["role"] == "read")
    assert client.delete(f"/api/v1/apikeys/{read_key['id']}", headers=admin).status_code == 200
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_sign_out_deletes_the_session(client: TestClient, admin: dict[str, str]) -> None:
    sign_in(client, _key(admin))
    old = client.cookies.get("monitor_session")
    response = client.post("/ui/logout", data={"csrf": csrf_of(client, "/ui/")}, follow_redirects=False)
    assert response.status_code == 303 and 'monitor_session=""' in response.headers["set-cookie"]
    client.cookies.set("monitor_session", str(old), path="/ui")
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_edits_need_the_csrf_token_and_this_site(client: TestClient, admin: dict[str, str], baseline_id: str) -> None:
    sign_in(client, _key(admin))
    path = f"/ui/baselines/{baseline_id}/constraints"
    token = csrf_of(client, f"/ui/baselines/{baseline_id}")
    form = {"version": "1", "drift.threshold": "0.3"}
    assert client.post(path, data=form, follow_redirects=False).status_code == 403
    assert client.post(path, data={**form, "csrf": "0" * 64}, follow_redirects=False).status_code == 403
    assert client.post(path, data={**form, "csrf": token}, headers={"Origin": "https://evil.example"},
                       follow_redirects=False).status_code == 403
    assert client.get(f"/api/v1/baselines/{baseline_id}", headers=admin).json()["version"] == 1
    done = client.post(path, data={**form, "csrf": token}, headers={"Origin": "http://testserver"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/ui/baselines/{baseline_id}?saved=v2"


def test_read_keys_view_but_cannot_edit(client: TestClient, reader: dict[str, str], baseline_id: str) -> None:
    sign_in(client, _key(reader))
    page = client.get(f"/ui/baselines/{baseline_id}")
    assert page.status_code == 200 and "save-constraints" not in page.text
    assert 'name="drift.threshold" value="0.1" disabled' in page.text
    response = client.post(f"/ui/baselines/{baseline_id}/constraints", follow_redirects=False,
                           data={"csrf": csrf_of(client, f"/ui/baselines/{baseline_id}"), "version": "1",
                                 "drift.threshold": "0.3"})
    assert response.status_code == 403 and "changes need an admin key" in response.text


def _constraints(client: TestClient, admin: dict[str, str], baseline_id: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin).json())


def test_constraint_edits_use_the_api_validation(client: TestClient, admin: dict[str, str], baseline_id: str) -> None:
    sign_in(client, _key(admin))
    page_path = f"/ui/baselines/{baseline_id}"
    token = csrf_of(client, page_path)

    def post(**fields: str) -> Any:
        data = {"csrf": token, "version": "1", **{k.replace("__", "."): v for k, v in fields.items()}}
        return client.post(f"{page_path}/constraints", data=data, follow_redirects=False)

    negative = post(drift__threshold="-1")
    api = client.patch(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin, json={"drift": {"threshold": -1}})
    assert negative.status_code == api.status_code == 422
    assert "drift.threshold: Input should be greater than or equal to 0" in negative.text
    assert "greater than or equal to 0" in json.dumps(api.json())
    unknown = post(**{"features__c1__drift_method": "NoSuchMethod"})  # not a feature field name: ignored
    assert unknown.status_code == 303 and unknown.headers["location"].endswith("saved=unchanged")
    method = client.post(f"{page_path}/constraints", follow_redirects=False,
                         data={"csrf": token, "version": "1", "features._c1.drift_method": "NoSuchMethod"})
    api = client.patch(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin,
                       json={"features": {"_c1": {"drift_method": "NoSuchMethod"}}})
    assert method.status_code == api.status_code == 422
    assert "features._c1" in method.text and "is not a registered drift method" in method.text
    assert "not a number" in post(drift__threshold="lots").text
    assert client.get(f"/api/v1/baselines/{baseline_id}", headers=admin).json()["version"] == 1
    # A valid edit: one feature's threshold and a check switched off for it; the rest stays as it was.
    done = client.post(f"{page_path}/constraints", follow_redirects=False, headers=FORM, content=urlencode([
        ("csrf", token), ("version", "1"), ("features._c1.drift_threshold", "0.5"),
        ("features._c1.disabled!present", "1"), ("features._c1.disabled", "completeness_check"),
        ("features._c2.disabled!present", "1"), ("drift.threshold", "0.1")]))
    assert done.status_code == 303 and done.headers["location"].endswith("saved=v2")
    constraints = _constraints(client, admin, baseline_id)
    c1 = next(f for f in constraints["features"] if f["name"] == "_c1")
    assert c1["monitoringConfigOverrides"]["comparison_threshold"] == 0.5
    assert c1["monitoringConfigOverrides"]["disabled_checks"] == ["completeness_check"]
    c2 = next(f for f in constraints["features"] if f["name"] == "_c2")
    assert "monitoringConfigOverrides" not in c2
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1
    # The form of version 1 is stale now: refused, nothing changes.
    stale = post(drift__threshold="0.2")
    assert stale.status_code == 409 and "edited meanwhile" in stale.text
    assert client.get(f"/api/v1/baselines/{baseline_id}", headers=admin).json()["version"] == 2


def test_schedule_page_charts(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock,
                              make_scheduler: Any, runner: FakeRunner) -> None:
    scheduler = make_scheduler()
    runner.drifted.add(T0 + timedelta(hours=3))
    for _ in range(6):
        clock.advance(hours=1)
        scheduler.tick()
    runs = client.get("/api/v1/executions", headers=admin, params={"schedule_id": schedule_id}).json()["items"]
    assert len(runs) == 6
    sign_in(client, _key(admin))
    page = client.get(f"/ui/schedules/{schedule_id}")
    assert page.status_code == 200
    charts = figures(page.text)
    timeline = charts["timeline"]["data"]
    assert sum(len(t["x"]) for t in timeline) == 6
    assert {u for t in timeline for u in t["customdata"]} == {f"/ui/runs/{r['id']}" for r in runs}
    drift = next(f for f in charts.values() if any(t.get("name") == "drift distance" for t in f["data"])
                 and f["data"][0].get("mode") == "lines+markers")
    line, limit = drift["data"]
    assert len(line["x"]) == 6 and limit["y"] == [0.1, 0.1]
    violations = client.get("/api/v1/violations", headers=admin, params={"schedule_id": schedule_id}).json()["items"]
    assert len(violations) == 2
    assert sorted(y for t in timeline for y in t["y"]) == [0, 0, 0, 0, 0, 2]
    overview = client.get("/ui/")
    assert 'data-points="6"' in overview.text
    filtered = client.get(f"/ui/schedules/{schedule_id}", params={"feature": "_c1", "check": "baseline_drift_check"})
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>", filtered.text)
    assert rows == [("_c1", "baseline_drift_check")]


def test_model_quality_thresholds_are_edited_in_the_form(client: TestClient, admin: dict[str, str]) -> None:
    constraints = {"version": 0.0, "binary_classification_constraints": {
        "auc": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"},
        "f2": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"}}}
    created = client.post("/api/v1/baselines", headers=admin, json={
        "name": "mq", "monitor_type": "ModelQuality", "constraints": constraints})
    assert created.status_code == 201, created.text
    baseline = created.json()["id"]
    sign_in(client, _key(admin))
    page = client.get(f"/ui/baselines/{baseline}").text
    assert '<option value="LessThanThreshold" selected>' in page
    assert 'name="metrics.auc.threshold" value="0.7"' in page and 'name="metrics.recall.threshold" value=""' in page
    token = csrf_of(client, f"/ui/baselines/{baseline}")
    base = {"csrf": token, "version": "1", "metrics.auc.comparison_operator": "LessThanThreshold",
            "metrics.auc.threshold": "0.65", "metrics.f2.comparison_operator": "none", "metrics.f2.threshold": "0.5"}
    missing = client.post(f"/ui/baselines/{baseline}/constraints", follow_redirects=False,
                          data={**base, "metrics.recall.comparison_operator": "LessThanThreshold"})
    assert missing.status_code == 422 and "metrics.recall.threshold: give recall a threshold" in missing.text
    done = client.post(f"/ui/baselines/{baseline}/constraints", data=base, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("saved=v2")
    block = client.get(f"/api/v1/baselines/{baseline}/constraints", headers=admin).json()[
        "binary_classification_constraints"]
    assert block == {"auc": {"threshold": 0.65, "comparison_operator": "LessThanThreshold"}}


def test_dashboard_errors_are_pages_and_api_errors_stay_json(client: TestClient, admin: dict[str, str],
                                                             schedule_id: str) -> None:
    sign_in(client, _key(admin))
    missing = client.get("/ui/schedules/no-such-schedule")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "schedule no-such-schedule does not exist" in missing.text
    invalid = client.get(f"/ui/schedules/{schedule_id}", params={"windows": "0"})
    assert invalid.status_code == 422 and "windows: Input should be greater than or equal to 1" in invalid.text
    api = client.get("/api/v1/schedules/no-such-schedule", headers=admin)
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
