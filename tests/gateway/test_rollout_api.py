"""Rollout routes and `monitor rollout` commands without a gateway: validation, conflicts, keys, verbs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from gateway_harness import gateway_block, script_model
from rollout_harness import Rig, rig  # noqa: F401

from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.db import make_engine, make_sessionmaker, transaction

CANARY = {"Kind": "Deployment", "TargetVariant": "Green",
          "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600,
                                          "CanarySize": {"Value": 10}}}


def _configure(setup: Rig, tmp_path: Path) -> None:
    document = {"Models": [script_model("a"), script_model("b")], "Endpoints": [{
        "EndpointName": "churn", "ProductionVariants": [
            {"VariantName": "Blue", "ModelName": "a", "InitialVariantWeight": 1},
            {"VariantName": "Green", "ModelName": "b", "InitialVariantWeight": 0}]}],
        "Gateway": gateway_block(tmp_path)}
    assert setup.api.put("/api/v1/gateway/config", headers=setup.admin, json=document).status_code == 200


def test_routes_validate_and_refuse_clashes(rig: Rig, tmp_path: Path) -> None:  # noqa: F811
    _configure(rig, tmp_path)
    api, admin = rig.api, rig.admin
    url = "/api/v1/gateway/endpoints/churn/rollouts"
    engine = make_engine(Settings(database_url=rig.database_url))
    with transaction(make_sessionmaker(engine)) as session:
        reader = {"Authorization": f"Bearer {create_key(session, role='read', name='r', now=datetime.now(UTC))[1]}"}
    engine.dispose()
    assert api.post(url, headers=reader, json={"Spec": CANARY}).status_code == 403
    unknown = api.post(url, headers=admin, json={"Spec": {**CANARY, "TargetVariant": "Red"}})
    assert unknown.status_code == 422 and "no variant 'Red'" in unknown.text and "Blue, Green" in unknown.text
    too_big = api.post(url, headers=admin, json={"Spec": {**CANARY, "TrafficRoutingConfiguration": {
        "Type": "CANARY", "CanarySize": {"Value": 60}}}})
    assert too_big.status_code == 422 and "over SageMaker's limit of 50 %" in too_big.text
    alarm = api.post(url, headers=admin, json={"Spec": {**CANARY, "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": "nope"}]}}})
    assert alarm.status_code == 422 and "'nope' is not a gate" in alarm.text
    assert api.post("/api/v1/gateway/endpoints/nope/rollouts", headers=admin,
                    json={"Spec": CANARY}).status_code == 404
    started = api.post(url, headers=admin, json={"Spec": CANARY, "Comment": "v2"})
    assert started.status_code == 201 and started.json()["State"]["weights"] == {"Blue": 0.9, "Green": 0.1}
    clash = api.post(url, headers=admin, json={"Spec": {"Kind": "Bandit", "Arms": ["Blue", "Green"]}})
    assert clash.status_code == 409 and started.json()["id"] in clash.text
    shadow = api.post(url, headers=admin, json={"Spec": {"Kind": "Shadow", "SourceVariant": "Blue",
                                                         "ShadowVariant": "Green"}})
    assert shadow.status_code == 201  # a shadow test runs beside a deployment
    rollout_id = started.json()["id"]
    assert api.get(f"/api/v1/gateway/rollouts/{rollout_id}/report", headers=reader).status_code == 409
    listed = api.get("/api/v1/gateway/rollouts?status=InProgress&endpoint=churn", headers=reader).json()
    assert {r["Kind"] for r in listed} == {"Deployment", "Shadow"}
    assert api.post(f"/api/v1/gateway/rollouts/{rollout_id}/rollback", headers=reader).status_code == 403
    back = api.post(f"/api/v1/gateway/rollouts/{rollout_id}/rollback", headers=admin).json()
    assert back["Status"] == "RolledBack" and back["State"]["weights"] == {"Blue": 1.0, "Green": 0.0}
    again = api.post(f"/api/v1/gateway/rollouts/{rollout_id}/stop", headers=admin)
    assert again.status_code == 409 and "RolledBack, not in progress" in again.text
    assert api.get("/api/v1/gateway/rollouts/nope", headers=reader).status_code == 404
    kinds = [e["Kind"] for e in api.get(f"/api/v1/gateway/rollouts/{rollout_id}/events", headers=reader).json()]
    assert kinds == ["Started", "StepStarted", "RolledBack"]
    bad = api.post("/api/v1/gateway/endpoints/churn/feedback", headers=admin,
                   json={"Feedback": [{"InferenceId": "x", "Reward": 2}]})
    assert bad.status_code == 422


def test_commands(rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                  capsys: pytest.CaptureFixture[str]) -> None:
    from monitor_service.cli.main import main

    _configure(rig, tmp_path)
    monkeypatch.setenv("MONITOR_DATABASE_URL", rig.database_url)
    spec = tmp_path / "canary.yaml"
    spec.write_text(yaml.safe_dump(CANARY))
    assert main(["rollout", "start", "churn", "--spec", str(spec), "--comment", "v2"]) == 0
    rollout_id = capsys.readouterr().out.split()[0]
    assert main(["rollout", "show", rollout_id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["State"]["steps"] == [10.0, 100.0] and shown["Status"] == "InProgress"
    assert main(["rollout", "promote", rollout_id]) == 0
    assert "Completed" in capsys.readouterr().out
    assert main(["rollout", "watch", rollout_id, "--timeout", "5"]) == 0
    watched = capsys.readouterr().out
    assert "Promoted" in watched and watched.strip().endswith(f"rollout {rollout_id}: Completed")
    assert main(["rollout", "list", "--endpoint", "churn"]) == 0
    assert "Completed" in capsys.readouterr().out
    assert main(["rollout", "stop", rollout_id]) == 1
    assert "not in progress" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**CANARY, "FailureLimit": 0}))
    assert main(["rollout", "start", "churn", "--spec", str(bad)]) == 2  # a usage error, named
    assert "FailureLimit" in capsys.readouterr().err


def test_update_endpoint_stores_the_new_variant_and_deploys_to_it(rig: Rig, tmp_path: Path) -> None:  # noqa: F811
    """UpdateEndpoint with a DeploymentConfig: one call stores Green at weight 0 and starts its canary."""
    api, admin = rig.api, rig.admin
    blue_only = {"Models": [script_model("a"), script_model("b")], "Endpoints": [{
        "EndpointName": "churn", "ProductionVariants": [
            {"VariantName": "Blue", "ModelName": "a", "InitialVariantWeight": 2}]}],
        "Gateway": gateway_block(tmp_path)}
    assert api.put("/api/v1/gateway/config", headers=admin, json=blue_only).status_code == 200
    with_green = json.loads(json.dumps(blue_only))
    with_green["Endpoints"][0]["ProductionVariants"].append(
        {"VariantName": "Green", "ModelName": "b", "InitialVariantWeight": 5})  # ignored: a new fleet starts at 0
    deployment = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": CANARY["TrafficRoutingConfiguration"],
                                            "TerminationWaitInSeconds": 60},
                  "Gates": [{"Name": "errors", "Metric": "Invocation5XXErrorRate", "Threshold": 0.01}],
                  "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}}
    url = "/api/v1/gateway/endpoints/churn/update"
    same = api.post(url, headers=admin, json={"Config": blue_only, "DeploymentConfig": deployment})
    assert same.status_code == 422 and "adds no variant" in same.text
    no_policy = api.post(url, headers=admin, json={"Config": with_green, "DeploymentConfig": {}})
    assert no_policy.status_code == 422 and "BlueGreenUpdatePolicy" in no_policy.text
    assert api.get("/api/v1/gateway/config", headers=admin).json()["version"] == 1  # refusals stored nothing
    started = api.post(url, headers=admin, json={"Config": with_green, "DeploymentConfig": deployment,
                                                 "Comment": "v2"})
    assert started.status_code == 201, started.text
    rollout = started.json()
    assert rollout["Kind"] == "Deployment" and rollout["Spec"]["TargetVariant"] == "Green"
    assert rollout["Spec"]["TerminationWaitInSeconds"] == 60 and rollout["Status"] == "InProgress"
    weights = rollout["State"]["weights"]
    assert weights["Green"] / (weights["Blue"] + weights["Green"]) == pytest.approx(0.10)  # the 10 % canary
    stored = api.get("/api/v1/gateway/config", headers=admin).json()
    assert stored["version"] == 2
    green = stored["config"]["Endpoints"][0]["ProductionVariants"][1]
    assert green["VariantName"] == "Green" and green.get("InitialVariantWeight", 1.0) == 0.0
    again = api.post(url, headers=admin, json={"Config": with_green, "DeploymentConfig": deployment})
    assert again.status_code == 422 and "adds no variant" in again.text
