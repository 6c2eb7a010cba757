"""Executions, violations, metric history, Prometheus metrics and report downloads."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from monitor_service.errors import StoreError
from monitor_service.service.common import keyset_page
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_sessionmaker, transaction
from monitor_service.store.models import Execution
from tests.service.conftest import T0, FakeClock, FakeRunner


@pytest.fixture
def history(client: TestClient, admin: dict[str, str], schedule_id: str, clock: FakeClock, make_scheduler: Any,
            runner: FakeRunner) -> str:
    """Six hourly windows; the 2nd and 5th drifted (2 violations each)."""
    runner.drifted.update({T0 + timedelta(hours=1), T0 + timedelta(hours=4)})
    for _ in range(6):
        clock.advance(hours=1)
        make_scheduler().tick()
    return schedule_id


def test_violation_filters_and_order(client: TestClient, reader: dict[str, str], history: str) -> None:
    def get(**params: str) -> list[dict[str, Any]]:
        response = client.get("/api/v1/violations", headers=reader, params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    everything = get()
    assert len(everything) == 4
    assert [v["window_end"] for v in everything] == ["2024-05-01T05:00:00Z"] * 2 + ["2024-05-01T02:00:00Z"] * 2
    assert everything[0]["constraint_check_type"] == "completeness_check"  # same window: newest id first
    assert len(get(schedule_id=history)) == 4 and get(schedule_id="other") == []
    assert len(get(monitor_type="DataQuality")) == 4 and get(monitor_type="ModelQuality") == []
    assert {v["feature_name"] for v in get(feature="_c1")} == {"_c1"} and len(get(feature="_c1")) == 2
    assert len(get(check_type="baseline_drift_check")) == 2
    assert len(get(since="2024-05-01T03:00:00Z")) == 2 and len(get(until="2024-05-01T03:00:00Z")) == 2
    assert len(get(feature="_c2", check_type="completeness_check", since="2024-05-01T04:00:00Z")) == 1
    execution_id = everything[0]["execution_id"]
    assert {v["execution_id"] for v in get(execution_id=execution_id)} == {execution_id}


def test_violation_pages(client: TestClient, reader: dict[str, str], history: str) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/violations", headers=reader, params=params).json()
        seen += [v["id"] for v in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2 and len(seen) == len(set(seen)) == 4
    bad = client.get("/api/v1/violations", headers=reader, params={"cursor": "garbage!"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert client.get("/api/v1/violations", headers=reader, params={"limit": "0"}).status_code == 422
    assert client.get("/api/v1/violations", headers=reader, params={"since": "not-a-time"}).status_code == 422


def test_execution_list_and_pages(client: TestClient, reader: dict[str, str], history: str) -> None:
    everything = client.get("/api/v1/executions", headers=reader, params={"schedule_id": history}).json()["items"]
    assert len(everything) == 6
    assert [e["window_end"] for e in everything] == sorted((e["window_end"] for e in everything), reverse=True)
    with_violations = client.get("/api/v1/executions", headers=reader,
                                 params={"status": "CompletedWithViolations"}).json()["items"]
    assert len(with_violations) == 2 and {e["violation_count"] for e in with_violations} == {2}
    assert with_violations[0]["violations_by_check"] == {"baseline_drift_check": 1, "completeness_check": 1}
    first = client.get("/api/v1/executions", headers=reader, params={"limit": "4"}).json()
    second = client.get("/api/v1/executions", headers=reader, params={"limit": "4", "cursor": first["next_cursor"]})
    assert [e["id"] for e in first["items"] + second.json()["items"]] == [e["id"] for e in everything]
    assert second.json()["next_cursor"] is None
    windowed = client.get("/api/v1/executions", headers=reader,
                          params={"since": "2024-05-01T02:00:00Z", "until": "2024-05-01T04:00:00Z"}).json()
    assert len(windowed["items"]) == 2
    assert client.get("/api/v1/executions", headers=reader, params={"status": "Bogus"}).status_code == 422
    assert client.get("/api/v1/executions/missing", headers=reader).status_code == 404


def test_feature_history(client: TestClient, reader: dict[str, str], history: str) -> None:
    assert client.get(f"/api/v1/schedules/{history}/features", headers=reader).json() == ["_c1", "_c2"]
    body = client.get(f"/api/v1/schedules/{history}/features/_c1/history", headers=reader).json()
    drift = [p["metrics"]["drift_distance"] for p in body["points"]]
    assert drift == [0.02, 0.42, 0.02, 0.02, 0.42, 0.02]
    assert body["points"][0]["window_start"] == "2024-05-01T00:00:00Z"
    recent = client.get(f"/api/v1/schedules/{history}/features/_c2/history", headers=reader,
                        params={"limit": "2"}).json()["points"]
    assert [p["metrics"]["completeness"] for p in recent] == [0.5, 1.0]
    assert client.get("/api/v1/schedules/missing/features/_c1/history", headers=reader).status_code == 404


def test_prometheus_metrics(client: TestClient, reader: dict[str, str], history: str) -> None:
    response = client.get("/metrics", headers=reader)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = set(response.text.splitlines())
    assert 'feature_baseline_drift{feature="_c1",schedule="churn-hourly"} 0.02' in lines
    assert 'feature_non_null{feature="_c2",schedule="churn-hourly"} 1.0' in lines
    assert 'monitor_executions{schedule="churn-hourly",status="Completed"} 4.0' in lines
    assert 'monitor_executions{schedule="churn-hourly",status="CompletedWithViolations"} 2.0' in lines
    assert 'monitor_execution_duration_seconds_count{schedule="churn-hourly"} 6.0' in lines


def test_artifact_downloads(client: TestClient, reader: dict[str, str], history: str) -> None:
    run = client.get("/api/v1/executions", headers=reader, params={"status": "CompletedWithViolations"}).json()
    links = run["items"][0]["artifacts"]
    assert set(links) == {"statistics.json", "constraint_violations.json", "summary.json"}
    violations = client.get(links["constraint_violations.json"], headers=reader).json()
    assert len(violations["violations"]) == 2
    execution = run["items"][0]["id"]
    assert client.get(f"/api/v1/executions/{execution}/artifacts/constraints.json", headers=reader).status_code == 404
    assert client.get(f"/api/v1/executions/{execution}/artifacts/..%2F..%2Fetc%2Fpasswd",
                      headers=reader).status_code in (404, 422)


def test_artifact_paths_never_escape_the_root(tmp_path: Any) -> None:
    store = ArtifactStore(str(tmp_path / "root"))
    for segment in ("..", "a/b", "", ".hidden", "a\\b", "x" * 200):
        with pytest.raises(StoreError):
            store.path(segment)
    with pytest.raises(StoreError, match="outside the artifact root"):
        store.read_bytes(str(tmp_path / "root" / ".." / "secret.json"))
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "elsewhere")
    assert not store.contains(str(tmp_path / "root" / "link" / "file.json"))
    assert not store.contains("s3://bucket/file.json")
    remote = ArtifactStore("memory://bucket/reports")
    assert remote.contains("memory://bucket/reports/a/b.json")
    assert not remote.contains("memory://bucket/reports/../other.json")
    assert not remote.contains("memory://bucket/reportsX/a.json")
    remote.write_json(remote.path("s", "x.json"), {"a": 1})
    assert remote.read_json(remote.path("s", "x.json"), "test") == {"a": 1}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_naive_times_are_utc_everywhere(client: TestClient, reader: dict[str, str], history: str) -> None:
    """since/until without a time zone mean UTC (they used to reach the store naive and fail with a 500)."""
    routes = ["/api/v1/executions", "/api/v1/violations", f"/api/v1/schedules/{history}/features/_c1/history",
              f"/api/v1/schedules/{history}/model-metrics/auc/history"]
    for route in routes:
        aware = client.get(route, headers=reader, params={"since": "2024-05-01T02:00:00Z",
                                                          "until": "2024-05-01T05:00:00+00:00"})
        naive = client.get(route, headers=reader, params={"since": "2024-05-01T02:00:00",
                                                          "until": "2024-05-01T05:00:00"})
        shifted = client.get(route, headers=reader, params={"since": "2024-05-01T04:00:00+02:00",
                                                            "until": "2024-05-01T07:00:00+02:00"})
        assert aware.status_code == naive.status_code == shifted.status_code == 200, (route, naive.text)
        assert aware.json() == naive.json() == shifted.json(), route
    assert len(client.get(routes[0], headers=reader, params={"since": "2024-05-01T02:00:00"}).json()["items"]) == 5


@pytest.mark.parametrize(("route", "raw"), [
    ("/api/v1/executions", "2024-05-01T01:00:00|0b7c"),  # a time without a zone
    ("/api/v1/violations", "2024-05-01T01:00:00|12"),
    ("/api/v1/violations", "2024-05-01T01:00:00+00:00|not-a-number"),
    ("/api/v1/violations", f"2024-05-01T01:00:00+00:00|{2 ** 70}"),
    ("/api/v1/executions", "no separator"),
    ("/api/v1/executions", "yesterday|0b7c"),
])
def test_tampered_cursors_are_422(client: TestClient, reader: dict[str, str], route: str, raw: str) -> None:
    for cursor in (_cursor(raw), "garbage!"):
        response = client.get(route, headers=reader, params={"cursor": cursor})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_keyset_pages_break_ties_by_id(settings: Settings, engine: Engine, client: TestClient,
                                       admin: dict[str, str], schedule_id: str, clock: FakeClock) -> None:
    """Executions created by one backfill share their creation time: the id orders them, across pages."""
    clock.advance(hours=8)
    client.post(f"/api/v1/schedules/{schedule_id}/backfill", headers=admin,
                json={"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T07:00:00Z"})
    with transaction(make_sessionmaker(engine)) as session:
        query = select(Execution).where(Execution.schedule_id == schedule_id)
        seen, cursor = [], None
        while True:
            rows, cursor = keyset_page(session, query, when=Execution.created_at, key=Execution.id, cursor=cursor,
                                       limit=3)
            seen += [r.id for r in rows]
            if cursor is None:
                break
    assert len(seen) == 7 and seen == sorted(seen, reverse=True)
