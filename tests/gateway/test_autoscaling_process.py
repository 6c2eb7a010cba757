"""Live autoscaling: each instance of a `local.process` variant is a worker process the gateway starts and
stops; a target-tracking policy scales it out under load and back in when idle, within cooldowns and bounds."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from gateway_harness import Client, GatewayProcess, gateway_block, script_model
from rollout_harness import Rig, rig, wait_for  # noqa: F401

INSTANCES = 'monitor_gateway_instances{EndpointName="churn",VariantName="Blue"}'


def _workers(gateway: GatewayProcess) -> int:
    """Live worker processes whose parent is the gateway process."""
    assert gateway.proc is not None
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == gateway.proc.pid and fields[0] != "Z" and b"monitor_service.gateway.worker" in cmdline:
            count += 1
    return count


def test_target_tracking_scales_worker_processes_out_and_in(rig: Rig, tmp_path: Path,  # noqa: F811
                                                            gateways: list[GatewayProcess]) -> None:
    document = {"Models": [script_model("model-a")], "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
        {"VariantName": "Blue", "ModelName": "model-a", "InstanceType": "local.process"}]}],
        "Gateway": gateway_block(tmp_path)}
    gateway = rig.start_gateway(document, gateways)
    client = Client(gateway.port)
    assert client.metrics()[INSTANCES] == 1 and _workers(gateway) == 1
    assert client.invoke("churn", "1,2,3\n").body.strip() == b"14.0"  # answered by the worker process
    policy = {"Kind": "Autoscaling", "VariantName": "Blue", "MinCapacity": 1, "MaxCapacity": 3,
              "EvaluationSeconds": 2, "TargetTrackingScalingPolicyConfiguration": {
                  "TargetValue": 600, "ScaleOutCooldown": 3, "ScaleInCooldown": 5,
                  "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}}
    rollout = rig.start_rollout("churn", policy)
    statuses = set()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and client.metrics()[INSTANCES] < 3:  # load: far above 10 req/s per instance
        for _ in range(50):
            statuses.add(client.invoke("churn", "1,2,3\n").status)
    assert client.metrics()[INSTANCES] == 3  # capped at MaxCapacity
    wait_for(lambda: _workers(gateway) == 3, timeout=10, what="three worker processes")
    assert statuses == {200}
    # Idle: back to MinCapacity once the scale-in cooldown since the last activity has passed.
    wait_for(lambda: client.metrics()[INSTANCES] == 1, timeout=40, what="the scale-in")
    wait_for(lambda: _workers(gateway) == 1, timeout=40, what="the extra workers to stop")
    assert client.invoke("churn", "1,2,3\n").body.strip() == b"14.0"
    events = [e for e in rig.events(rollout["id"]) if e["Kind"] in ("ScaledOut", "ScaledIn")]
    moves = [(e["Kind"], e["Detail"]["from"], e["Detail"]["to"]) for e in events]
    assert moves[0][0] == "ScaledOut" and moves[-1] == ("ScaledIn", moves[-1][1], 1)
    assert all(1 <= to <= 3 for _, _, to in moves)
    times = [datetime.fromisoformat(e["At"]).timestamp() for e in events]
    for (kind, _, _), at, before in zip(moves[1:], times[1:], times[:-1], strict=True):
        assert at - before >= (3 if kind == "ScaledOut" else 5) - 0.01  # the cooldowns held
    assert rig.rollout(rollout["id"])["State"]["instances"] == 1
    client.close()
    assert gateway.terminate() == 0
    wait_for(lambda: _workers(gateway) == 0, timeout=10, what="workers to stop with the gateway")


def _worker_pids() -> set[int]:
    pids = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"monitor_service.gateway.worker" in cmdline.read_bytes():
                pids.add(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def test_workers_exit_when_the_gateway_is_killed(rig: Rig, tmp_path: Path,  # noqa: F811
                                                 gateways: list[GatewayProcess]) -> None:
    before = _worker_pids()
    document = {"Models": [script_model("model-a")], "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
        {"VariantName": "Blue", "ModelName": "model-a", "InstanceType": "local.process",
         "InitialInstanceCount": 2}]}], "Gateway": gateway_block(tmp_path)}
    gateway = rig.start_gateway(document, gateways)
    ours = _worker_pids() - before
    assert len(ours) == 2
    gateway.kill()  # SIGKILL: no shutdown hook runs
    wait_for(lambda: not (_worker_pids() & ours), timeout=10, what="orphaned workers to exit")
