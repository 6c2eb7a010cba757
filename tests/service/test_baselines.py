"""Baselines over REST: upload, read, edit constraints with validation, delete, baseline jobs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect

from monitor_service.core.registry import Registry
from monitor_service.errors import ConflictError
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.monitors.data_quality.constraints_patch import ConstraintsPatch
from monitor_service.service.baselines import list_baselines, patch_constraints, replace_document
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_sessionmaker, transaction
from monitor_service.store.models import Baseline
from tests.service.conftest import CONSTRAINTS, STATISTICS, T0, FakeRunner, schedule_body


def test_upload_and_read(client: TestClient, admin: dict[str, str], reader: dict[str, str], baseline_id: str) -> None:
    detail = client.get(f"/api/v1/baselines/{baseline_id}", headers=reader).json()
    assert detail["status"] == "Ready" and detail["version"] == 1 and detail["features"] == len(STATISTICS["features"])
    assert detail["statistics"] == STATISTICS and detail["constraints"] == CONSTRAINTS
    assert json.loads(Path(detail["constraints_path"]).read_text()) == CONSTRAINTS
    assert client.get(f"/api/v1/baselines/{baseline_id}/statistics", headers=reader).json() == STATISTICS
    assert client.get(f"/api/v1/baselines/{baseline_id}/constraints", headers=reader).json() == CONSTRAINTS
    assert [b["id"] for b in client.get("/api/v1/baselines", headers=reader).json()] == [baseline_id]
    again = client.post("/api/v1/baselines", headers=admin,
                        json={"name": "churn-baseline", "statistics": STATISTICS, "constraints": CONSTRAINTS})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("statistics", {"features": [{"name": "a", "inferred_type": "Complex"}]}, "Complex"),
    ("constraints", {"features": []}, "no features"),
    ("constraints", {"features": [{"name": "a", "inferred_type": "Integral", "completeness": 1.5}]}, "completeness"),
    ("constraints", {"features": [{"name": "a", "inferred_type": "Integral"}], "monitoring_config": {
        "distribution_constraints": {"comparison_method": "Magic"}}}, "Magic"),
])
def test_upload_validation(client: TestClient, admin: dict[str, str], field: str, value: Any, message: str) -> None:
    body = {"name": "bad", "statistics": STATISTICS, "constraints": CONSTRAINTS, field: value}
    response = client.post("/api/v1/baselines", headers=admin, json=body)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"][:2] == ["body", field] and message in error["msg"], error


def test_patch_constraints(client: TestClient, admin: dict[str, str], baseline_id: str) -> None:
    patch = {"datatype_check_threshold": 0.9,
             "drift": {"threshold": 0.2, "method": "Simple", "categorical_method": "psi"},
             "checks": {"completeness_check": False},
             "features": {"_c0": {"completeness": None, "is_non_negative": False, "drift_threshold": 0.5},
                          "_c1": {"checks": {"all": False}}}}
    response = client.patch(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin, json=patch)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    edited = client.get(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin).json()
    config = edited["monitoring_config"]
    assert config["datatype_check_threshold"] == 0.9 and config["evaluate_constraints"] == "Enabled"
    assert config["disabled_checks"] == ["completeness_check"]
    drift = config["distribution_constraints"]
    assert (drift["comparison_threshold"], drift["comparison_method"], drift["categorical_drift_method"]) == (
        0.2, "Simple", "psi")
    c0, c1 = edited["features"][0], edited["features"][1]
    assert "completeness" not in c0 and c0["num_constraints"] == {"is_non_negative": False}
    assert c0["monitoringConfigOverrides"] == {"comparison_threshold": 0.5}
    assert c1["monitoringConfigOverrides"] == {"evaluate_constraints": "Disabled"}
    assert edited["features"][2:] == CONSTRAINTS["features"][2:]
    assert json.loads(Path(response.json()["constraints_path"]).read_text()) == edited
    assert "/v2/" in response.json()["constraints_path"]


@pytest.mark.parametrize(("patch", "loc", "message"), [
    ({"features": {"nope": {"completeness": 0.5}}}, ["body", "features"], "not in this baseline"),
    ({"features": {"_c0": {"completeness": 2}}}, ["body", "features", "_c0", "completeness"], "less than or equal"),
    ({"datatype_check_threshold": -1}, ["body", "datatype_check_threshold"], "greater than or equal"),
    ({"drift": {"categorical_method": "ks"}}, ["body", "drift"], "ks"),
    ({"checks": {"speed_check": False}}, ["body", "checks.speed_check"], "speed_check"),
    ({"features": {"_c0": {"drift_method": "ChiSquared"}}}, ["body", "features._c0"], "ChiSquared"),
    ({"features": {"_c0": {"threshold": 1}}}, ["body", "features", "_c0", "threshold"], "Extra inputs"),
])
def test_patch_validation(client: TestClient, admin: dict[str, str], baseline_id: str, patch: dict[str, Any],
                          loc: list[str], message: str) -> None:
    response = client.patch(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin, json=patch)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc and message in error["msg"], error
    assert client.get(f"/api/v1/baselines/{baseline_id}", headers=admin).json()["version"] == 1


def test_replace_constraints(client: TestClient, admin: dict[str, str], baseline_id: str) -> None:
    replaced = copy.deepcopy(CONSTRAINTS)
    replaced["features"] = replaced["features"][:2]
    response = client.put(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin, json=replaced)
    assert response.status_code == 200 and response.json()["version"] == 2
    assert client.get(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin).json() == replaced
    bad = client.put(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin, json={"features": []})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "constraints"]


def test_delete(client: TestClient, admin: dict[str, str], baseline_id: str, schedule_id: str) -> None:
    busy = client.delete(f"/api/v1/baselines/{baseline_id}", headers=admin)
    assert busy.status_code == 409 and "churn-hourly" in busy.json()["detail"]
    assert client.delete(f"/api/v1/schedules/{schedule_id}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/baselines/{baseline_id}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/baselines/{baseline_id}", headers=admin).status_code == 404


def test_baseline_job(client: TestClient, admin: dict[str, str], make_scheduler: Any, runner: FakeRunner) -> None:
    started = client.post("/api/v1/baseline-jobs", headers=admin,
                          json={"name": "from-data", "input": {"path": "/data/train.csv", "format": "csv"}})
    assert started.status_code == 202, started.text
    job = started.json()
    pending = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
    assert pending["status"] == "Pending"
    unready = client.post("/api/v1/schedules", headers=admin, json=schedule_body(job["id"]))
    assert unready.status_code == 422 and unready.json()["detail"][0]["loc"] == ["body", "baseline_id"]
    assert make_scheduler().tick() == {job["execution_id"]: "Completed"}
    assert runner.baseline_calls[0].input.path == "/data/train.csv"
    ready = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
    assert ready["status"] == "Ready" and ready["version"] == 1 and ready["features"] == len(STATISTICS["features"])
    execution = client.get(f"/api/v1/executions/{job['execution_id']}", headers=admin).json()
    assert execution["job"] == "baseline" and set(execution["artifacts"]) == {
        "statistics.json", "constraints.json", "summary.json"}
    bad_type = client.post("/api/v1/baseline-jobs", headers=admin,
                           json={"name": "x", "monitor_type": "Nope", "input": {"path": "/d"}})
    assert bad_type.status_code == 422 and bad_type.json()["detail"][0]["loc"] == ["body", "monitor_type"]
    bad_format = client.post("/api/v1/baseline-jobs", headers=admin,
                             json={"name": "x", "input": {"path": "/d", "format": "xml"}})
    assert bad_format.status_code == 422 and bad_format.json()["detail"][0]["loc"] == ["body", "input", "format"]


def test_concurrent_edits_never_share_a_version(settings: Settings, engine: Engine, monitors: Registry[MonitorPlugin],
                                                client: TestClient, admin: dict[str, str], baseline_id: str) -> None:
    """Two edits of version 1: the first makes version 2, the second (which read version 1) gets a 409."""
    factory, artifacts = make_sessionmaker(engine), ArtifactStore(settings.artifact_root)
    with factory() as late, late.begin():
        read_first = late.get(Baseline, baseline_id)  # this request read version 1 first...
        assert read_first is not None and read_first.version == 1
        with transaction(factory) as early:  # ...and another edit committed meanwhile
            edited = patch_constraints(early, artifacts, monitors, baseline_id=baseline_id,
                                       patch=ConstraintsPatch(datatype_check_threshold=0.5), now=T0)
            assert edited.version == 2
        with pytest.raises(ConflictError, match="edited by another request"):
            replace_document(late, artifacts, monitors, baseline_id=baseline_id, name="constraints",
                             document=CONSTRAINTS, now=T0)
    after = client.get(f"/api/v1/baselines/{baseline_id}", headers=admin).json()
    assert after["version"] == 2 and after["constraints"]["monitoring_config"]["datatype_check_threshold"] == 0.5
    assert json.loads(Path(after["constraints_path"]).read_text()) == after["constraints"]  # v2 files untouched
    again = client.put(f"/api/v1/baselines/{baseline_id}/constraints", headers=admin, json=CONSTRAINTS)
    assert again.status_code == 200 and again.json()["version"] == 3


def test_list_does_not_load_the_documents(settings: Settings, engine: Engine, client: TestClient,
                                          reader: dict[str, str], baseline_id: str) -> None:
    listed = client.get("/api/v1/baselines", headers=reader).json()
    assert [(b["id"], b["features"]) for b in listed] == [(baseline_id, len(STATISTICS["features"]))]
    with transaction(make_sessionmaker(engine)) as session:
        baselines = list_baselines(session)
        documents = baselines[0].documents
        assert set(documents) == {"statistics", "constraints"}
        assert all("document" in inspect(d).unloaded for d in documents.values())
        assert baselines[0].feature_count == len(STATISTICS["features"])
