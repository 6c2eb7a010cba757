"""Blue/green deployments on a real gateway process following the database: a failing canary rolls
back within FailureLimit evaluations and all traffic returns to Blue; a healthy canary completes with
its canary share inside binomial bounds; linear steps follow the schedule."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_harness import Client, GatewayProcess
from rollout_harness import Rig, any_rig, drive, rig, two_variants, wait_for  # noqa: F401
from scipy.stats import binom

GATE_5XX = {"Name": "errors", "Metric": "Invocation5XXErrorRate", "Threshold": 0.05, "WindowSeconds": 5,
            "MinInvocations": 5}
GATE_P99 = {"Name": "latency", "Metric": "ModelLatencyP99", "Threshold": 500, "WindowSeconds": 5, "MinInvocations": 5}


def canary(percent: float, wait: float, bake: float, failure_limit: int = 2) -> dict[str, object]:
    return {"Kind": "Deployment", "TargetVariant": "Green",
            "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": wait,
                                            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": percent}},
            "TerminationWaitInSeconds": bake, "EvaluationIntervalSeconds": 0.5, "FailureLimit": failure_limit,
            "Gates": [GATE_5XX, GATE_P99],
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}}


@pytest.mark.postgres
def test_failing_canary_rolls_back_and_all_traffic_returns(any_rig: Rig, tmp_path: Path,  # noqa: F811
                                                           gateways: list[GatewayProcess]) -> None:
    rig = any_rig  # noqa: F811
    gateway = rig.start_gateway(two_variants(tmp_path, green_script="failing.py"), gateways)
    client = Client(gateway.port)
    rollout = rig.start_rollout("churn", canary(30, wait=600, bake=600, failure_limit=3))
    assert rollout["State"]["steps"] == [30.0, 100.0]
    seen = drive(client, lambda: rig.rollout(rollout["id"])["Status"] != "InProgress", limit=20_000, pause=0.002)
    assert "Green" in {v for _, v, _ in seen}, "the canary never received traffic"
    assert {s for _, v, s in seen if v == "Green"} == {424}  # the new version failed every call
    final = rig.rollout(rollout["id"])
    assert final["Status"] == "RolledBack" and "gate errors failed 3 evaluation(s) in a row" in final["Reason"]
    assert final["State"]["weights"] == {"Blue": 1.0, "Green": 0.0}
    evaluations = [e["Detail"] for e in rig.events(rollout["id"], "GateEvaluation") if e["Detail"]["gate"] == "errors"]
    decided = [e for e in evaluations if e["status"] != "Inconclusive"]
    # Rolled back at exactly the FailureLimit-th failed evaluation, not later.
    assert [e["status"] for e in decided] == ["Fail"] * 3 and decided[-1]["failures"] == 3
    kinds = [e["Kind"] for e in rig.events(rollout["id"])]
    assert kinds[:2] == ["Started", "StepStarted"] and kinds[-1] == "RolledBack"
    # 100 % back on Blue once the gateway applied the change (every later request).
    wait_for(lambda: client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] == "Blue"
             and all(client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] == "Blue"
                     for _ in range(20)), timeout=10, what="the rollback to reach the gateway")
    after = drive(client, lambda: False, limit=300)
    assert {v for _, v, _ in after} == {"Blue"} and {s for _, _, s in after} == {200}
    changes = rig.api.get("/api/v1/gateway/endpoints/churn/weight-changes", headers=rig.admin).json()
    assert len(changes) == 2  # the canary step, then the rollback in ONE write
    assert {d["VariantName"]: d["DesiredWeight"] for d in changes[0]["DesiredWeightsAndCapacities"]} == {
        "Blue": 1.0, "Green": 0.0}
    client.close()


def test_healthy_canary_completes(rig: Rig, tmp_path: Path, gateways: list[GatewayProcess]) -> None:  # noqa: F811
    gateway = rig.start_gateway(two_variants(tmp_path, green_weights="3,2,1"), gateways)
    client = Client(gateway.port)
    rollout = rig.start_rollout("churn", canary(25, wait=6, bake=2))
    started = time.monotonic()
    seen = drive(client, lambda: rig.rollout(rollout["id"])["Status"] != "InProgress", limit=30_000, pause=0.002)
    final = rig.rollout(rollout["id"])
    assert final["Status"] == "Completed", final
    assert final["State"]["weights"] == {"Blue": 0.0, "Green": 1.0}
    assert {s for _, _, s in seen} == {200}
    # The canary step's share: requests from 1 s after the start (the gateway applied it) to 1 s before
    # the next step, within the 99.9 % binomial interval of 25 %.
    steps = [e for e in rig.events(rollout["id"], "StepStarted")]
    assert [e["Detail"]["percent"] for e in steps] == [25.0, 100.0]
    window = [v for t, v, _ in seen if started + 1.5 < t < started + 5]
    low, high = binom.interval(0.999, len(window), 0.25)
    assert len(window) > 200 and low <= window.count("Green") <= high, (len(window), window.count("Green"))
    kinds = [e["Kind"] for e in rig.events(rollout["id"]) if e["Kind"] != "GateEvaluation"]
    assert kinds == ["Started", "StepStarted", "StepStarted", "BakingStarted", "Completed"]
    passed = [e["Detail"]["status"] for e in rig.events(rollout["id"], "GateEvaluation")]
    assert "Fail" not in passed and passed.count("Pass") >= 4
    wait_for(lambda: all(client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] == "Green"
                         for _ in range(20)), timeout=10, what="100 % on Green")
    client.close()


def test_linear_steps_follow_the_schedule(rig: Rig, tmp_path: Path,  # noqa: F811
                                          gateways: list[GatewayProcess]) -> None:
    rig.start_gateway(two_variants(tmp_path), gateways)
    hook = rig.api.post("/api/v1/webhooks", headers=rig.admin, json={
        "name": "deploys", "url": "https://hooks.example.com/deploys", "secret": "s" * 16,
        "events": ["rollout.started", "rollout.step", "rollout.completed"]}).json()
    monitors_only = rig.api.post("/api/v1/webhooks", headers=rig.admin, json={
        "name": "alerts", "url": "https://hooks.example.com/alerts", "secret": "t" * 16}).json()
    spec = {"Kind": "Deployment", "TargetVariant": "Green", "EvaluationIntervalSeconds": 0.5,
            "TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": 1.5,
                                            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}}}
    rollout = rig.start_rollout("churn", spec)
    wait_for(lambda: rig.rollout(rollout["id"])["Status"] != "InProgress", timeout=30, what="the linear deployment")
    assert rig.rollout(rollout["id"])["Status"] == "Completed"
    steps = rig.events(rollout["id"], "StepStarted")
    assert [s["Detail"]["percent"] for s in steps] == [25.0, 50.0, 75.0, 100.0]
    for step in steps:
        share = step["Detail"]["percent"] / 100
        assert step["Detail"]["weights"] == {"Blue": round(1 - share, 9), "Green": share}
    times = [datetime.fromisoformat(s["At"]) for s in steps]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(1.5 <= g < 1.5 + 1.0 for g in gaps), gaps  # each step held its WaitIntervalInSeconds, not longer
    # Each step reached the gateway: the weight changes recorded are the schedule's.
    changes = rig.api.get("/api/v1/gateway/endpoints/churn/weight-changes", headers=rig.admin).json()
    greens = [next(d["DesiredWeight"] for d in c["DesiredWeightsAndCapacities"] if d["VariantName"] == "Green")
              for c in reversed(changes)]
    assert greens == [0.25, 0.5, 0.75, 1.0]
    # Every step is a webhook delivery in the alerts outbox (signed and sent by the dispatcher).
    deliveries = rig.api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=rig.admin).json()
    bodies = [json.loads(d["payload"]) for d in deliveries]  # one transaction's deliveries share a time
    assert Counter(b["event"] for b in bodies) == {"rollout.started": 1, "rollout.step": 5, "rollout.completed": 1}
    assert sorted(b["step"]["percent"] for b in bodies if b["step"]["kind"] == "StepStarted") == [25, 50, 75, 100]
    assert all(b["rollout"]["id"] == rollout["id"] for b in bodies)
    assert rig.api.get(f"/api/v1/webhooks/{monitors_only['id']}/deliveries", headers=rig.admin).json() == []


def _monitor_rows(setup: Rig, *, violations: int, window_end: datetime, metric: str | None = None) -> str:
    """A data-quality schedule over Green's capture and, when asked, its execution with violations: the rows the
    monitoring scheduler records (the monitoring job itself is tested with the monitors)."""
    from monitor_service.settings import Settings
    from monitor_service.store.db import make_engine, make_sessionmaker, transaction
    from monitor_service.store.models import Baseline, Execution, Schedule, Violation

    engine = make_engine(Settings(database_url=setup.database_url))
    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as session:
        if session.get(Schedule, "green-quality") is None:
            session.add(Baseline(id="b1", name="b1", status="Completed", source="upload", created_at=now,
                                 updated_at=now))
            session.flush()
            session.add(Schedule(id="green-quality", name="green-quality", monitor_type="DataQuality",
                                 input_spec={"path": "capture/churn/Green"}, baseline_id="b1",
                                 schedule_expression="rate(1 minute)", status="Active", planned_until=now,
                                 created_at=now, updated_at=now))
            session.flush()
        if violations >= 0:
            execution = Execution(id=f"e-{now.timestamp()}", job="analyze", monitor_type="DataQuality",
                                  trigger="schedule", schedule_id="green-quality", status="CompletedWithViolations",
                                  request={}, artifact_dir="x", created_at=now, window_start=window_end,
                                  window_end=window_end, violation_count=violations)
            session.add(execution)
            session.flush()
            for i in range(violations):
                session.add(Violation(execution_id=execution.id, schedule_id="green-quality",
                                      monitor_type="DataQuality", feature_name=f"f{i}",
                                      check_type="baseline_drift_check", description="distance 0.4 > 0.1",
                                      metric_name=metric, window_start=window_end, window_end=window_end,
                                      created_at=now))
    engine.dispose()
    return "green-quality"


def test_canary_whose_capture_drifts_rolls_back(rig: Rig, tmp_path: Path,  # noqa: F811
                                                gateways: list[GatewayProcess]) -> None:
    gateway = rig.start_gateway(two_variants(tmp_path, green_weights="3,2,1"), gateways)
    schedule = _monitor_rows(rig, violations=-1, window_end=datetime.now(UTC))
    old = _monitor_rows(rig, violations=5, window_end=datetime.now(UTC) - timedelta(hours=1))  # before: ignored
    assert old == schedule
    spec = {**canary(20, wait=600, bake=600, failure_limit=2),
            "Gates": [{"Name": "drift", "Metric": "DataQualityViolations", "Threshold": 0, "ScheduleId": schedule}],
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "drift"}]}}
    rollout = rig.start_rollout("churn", spec)
    client = Client(gateway.port)
    wait_for(lambda: len(rig.events(rollout["id"], "GateEvaluation")) >= 3, timeout=20, what="evaluations")
    # No execution over a window after the start yet: inconclusive, the canary goes on.
    assert {e["Detail"]["status"] for e in rig.events(rollout["id"], "GateEvaluation")} == {"Inconclusive"}
    assert rig.rollout(rollout["id"])["Status"] == "InProgress"
    # The endpoint page shows the deployment in progress: its step, weights and gates with their evaluations.
    html = rig.page("/ui/endpoints/churn")
    section = html[html.index('id="deployments"'):]
    assert "step 1 of 2: 20 % on Green" in section and "Blue 0.8, Green 0.2" in section
    assert re.search(r'<tr data-gate="drift">.*?Inconclusive', section, re.S)
    _monitor_rows(rig, violations=3, window_end=datetime.now(UTC) + timedelta(seconds=1))
    wait_for(lambda: rig.rollout(rollout["id"])["Status"] != "InProgress", timeout=20, what="the rollback")
    final = rig.rollout(rollout["id"])
    assert final["Status"] == "RolledBack" and "gate drift failed 2" in final["Reason"]
    decided = [e["Detail"] for e in rig.events(rollout["id"], "GateEvaluation")
               if e["Detail"]["status"] != "Inconclusive"]
    assert [(d["status"], d["value"]) for d in decided] == [("Fail", 3.0), ("Fail", 3.0)]
    wait_for(lambda: all(client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] == "Blue"
                         for _ in range(50)), timeout=10, what="100 % back on Blue")
    recent = rig.page("/ui/endpoints/churn")
    assert "Deployments in progress" in recent and "RolledBack" in recent and "gate drift failed 2" in recent
    client.close()
