"""Gateway configuration over the service's REST API (SQLite and PostgreSQL), and a gateway process
that takes it from the database: weight changes apply whole and are recorded; keys are checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_harness import Client, GatewayProcess, gateway_block, script_model, wait_for, write_config

from monitor_service.api import create_app
from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade

pytestmark = pytest.mark.postgres


def _document(tmp_path: Path, weights: tuple[float, float] = (1.0, 0.0)) -> dict[str, Any]:
    return {"Models": [script_model("model-a"), script_model("model-b")],
            "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
                {"VariantName": "Blue", "ModelName": "model-a", "InitialVariantWeight": weights[0]},
                {"VariantName": "Green", "ModelName": "model-b", "InitialVariantWeight": weights[1]}]}],
            "Gateway": gateway_block(tmp_path)}


@pytest.fixture
def api(gateway_database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    settings = Settings(database_url=gateway_database_url, artifact_root=str(tmp_path / "artifacts"))
    engine = make_engine(settings)
    upgrade(engine)
    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as session:
        admin = {"Authorization": f"Bearer {create_key(session, role='admin', name='a', now=now)[1]}"}
        reader = {"Authorization": f"Bearer {create_key(session, role='read', name='r', now=now)[1]}"}
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        yield client, admin, reader


def test_config_and_weights_over_rest(api: tuple[TestClient, dict[str, str], dict[str, str]], tmp_path: Path) -> None:
    client, admin, reader = api
    empty = client.get("/api/v1/gateway/config", headers=reader)
    assert empty.status_code == 200 and empty.json()["version"] is None
    assert empty.json()["config"] == {"Models": [], "Endpoints": []}
    assert client.put("/api/v1/gateway/config", headers=reader, json=_document(tmp_path)).status_code == 403
    assert client.put("/api/v1/gateway/config", json=_document(tmp_path)).status_code == 401
    bad = _document(tmp_path)
    bad["Endpoints"][0]["ProductionVariants"][1]["ModelName"] = "model-z"
    refused = client.put("/api/v1/gateway/config", headers=admin, json=bad)
    assert refused.status_code == 422
    assert "ProductionVariants[1].ModelName: 'model-z' is not a model" in json.dumps(refused.json())
    stored = client.put("/api/v1/gateway/config?comment=first", headers=admin, json=_document(tmp_path))
    assert stored.status_code == 200 and stored.json()["version"] == 1
    assert client.get("/api/v1/gateway/config", headers=reader).json()["config"]["Endpoints"][0]["EndpointName"] == \
        "churn"
    described = client.get("/api/v1/gateway/endpoints/churn", headers=reader).json()
    assert [(v["VariantName"], v["CurrentWeight"]) for v in described["ProductionVariants"]] == [("Blue", 1.0),
                                                                                                 ("Green", 0.0)]
    change = {"DesiredWeightsAndCapacities": [{"VariantName": "Green", "DesiredWeight": 3.0,
                                               "DesiredInstanceCount": 2}]}
    assert client.post("/api/v1/gateway/endpoints/churn/weights", headers=reader, json=change).status_code == 403
    updated = client.post("/api/v1/gateway/endpoints/churn/weights", headers=admin, json=change)
    assert updated.status_code == 200, updated.text
    green = next(v for v in updated.json()["ProductionVariants"] if v["VariantName"] == "Green")
    assert (green["CurrentWeight"], green["DesiredWeight"], green["CurrentInstanceCount"]) == (3.0, 3.0, 2)
    unknown = client.post("/api/v1/gateway/endpoints/churn/weights", headers=admin,
                          json={"DesiredWeightsAndCapacities": [{"VariantName": "Red", "DesiredWeight": 1}]})
    assert unknown.status_code == 422 and "no variant 'Red'" in json.dumps(unknown.json())
    zero = client.post("/api/v1/gateway/endpoints/churn/weights", headers=admin, json={
        "DesiredWeightsAndCapacities": [{"VariantName": "Blue", "DesiredWeight": 0},
                                        {"VariantName": "Green", "DesiredWeight": 0}]})
    assert zero.status_code == 422 and "add up to 0" in json.dumps(zero.json())
    assert client.post("/api/v1/gateway/endpoints/nope/weights", headers=admin, json=change).status_code == 404
    history = client.get("/api/v1/gateway/endpoints/churn/weight-changes", headers=reader).json()
    assert len(history) == 1 and history[0]["DesiredWeightsAndCapacities"] == change["DesiredWeightsAndCapacities"]
    assert {p["VariantName"]: p["CurrentWeight"] for p in history[0]["Previous"]} == {"Blue": 1.0, "Green": 0.0}
    # A new configuration resets weights (UpdateEndpoint) unless the variants' properties are retained.
    kept = client.put("/api/v1/gateway/config?retain_variant_properties=true", headers=admin,
                      json=_document(tmp_path))
    assert kept.json()["version"] == 2
    weights = {v["VariantName"]: v["CurrentWeight"] for v in
               client.get("/api/v1/gateway/endpoints/churn", headers=reader).json()["ProductionVariants"]}
    assert weights == {"Blue": 1.0, "Green": 3.0}
    client.put("/api/v1/gateway/config", headers=admin, json=_document(tmp_path))
    weights = {v["VariantName"]: v["CurrentWeight"] for v in
               client.get("/api/v1/gateway/endpoints/churn", headers=reader).json()["ProductionVariants"]}
    assert weights == {"Blue": 1.0, "Green": 0.0}
    versions = client.get("/api/v1/gateway/config/versions", headers=reader).json()
    assert [v["version"] for v in versions] == [3, 2, 1] and versions[2]["comment"] == "first"


def test_gateway_process_follows_the_database(api: tuple[TestClient, dict[str, str], dict[str, str]],
                                              gateway_database_url: str, tmp_path: Path,
                                              gateways: list[GatewayProcess]) -> None:
    client, admin, reader = api
    seed = write_config(tmp_path, _document(tmp_path))
    gateway = GatewayProcess(tmp_path, seed, extra=["--database"],
                             env={"MONITOR_DATABASE_URL": gateway_database_url})
    gateways.append(gateway.start())
    # The file seeded the empty database.
    stored = client.get("/api/v1/gateway/config", headers=reader).json()
    assert stored["version"] == 1 and stored["comment"].startswith("imported from")
    invoke = Client(gateway.port)
    variant = lambda: invoke.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"]  # noqa: E731
    assert {variant() for _ in range(20)} == {"Blue"}
    flip = {"DesiredWeightsAndCapacities": [{"VariantName": "Blue", "DesiredWeight": 0.0},
                                            {"VariantName": "Green", "DesiredWeight": 1.0}]}
    assert client.post("/api/v1/gateway/endpoints/churn/weights", headers=admin, json=flip).status_code == 200
    wait_for(lambda: variant() == "Green", timeout=30, what="the weight change")
    assert {variant() for _ in range(50)} == {"Green"}  # both weights changed at once: never a mix
    # A restart keeps the database's weights, not the file's initial ones.
    assert gateway.terminate() == 0
    again = GatewayProcess(tmp_path, seed, extra=["--database"], env={"MONITOR_DATABASE_URL": gateway_database_url})
    gateways.append(again.start())
    invoke = Client(again.port)
    assert {invoke.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] for _ in range(20)} == {
        "Green"}
    invoke.close()
