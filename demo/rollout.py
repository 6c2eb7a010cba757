"""Deployment strategies end to end: a bad canary rolled back by its gate, a good one shifted linearly, a
scaling policy simulated.

`python -m demo.rollout [--workdir DIR]`, or `run_rollout_demo(workdir)` (no Spark):

1. writes three script models (v1, a broken v2 that fails every call, a fixed v3) and starts
   `monitor gateway --database` on a free loopback port with a SQLite database (the file seeds it):
   endpoint `churn`, variant `Blue` (v1) at weight 1, `Broken` and `Fixed` at weight 0;
2. `monitor rollout start churn --spec canary.yaml` puts 20 % on `Broken` with a 5xx-rate gate;
   traffic flows; the gate fails twice in a row and the controller moves 100 % back to `Blue`
   (`monitor rollout watch` prints every step and evaluation);
3. a LINEAR deployment of `Fixed` (steps of 50 %) completes;
4. `monitor autoscale simulate` replays a load spike through a target-tracking policy.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

MODEL = '''
import numpy as np

def model_fn(model_dir):
    return np.array([0.5, -0.25, 1.0])

def predict_fn(data, model):
    {body}
'''


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _monitor(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "monitor_service.cli.main", *args], env=env, capture_output=True,
                         text=True)
    print(out.stdout, end="")
    if out.returncode not in (0, 1):
        print(out.stderr, end="")
    return out.stdout


def _traffic(port: int, stop: threading.Event) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        conn.request("POST", "/endpoints/churn/invocations", body=b"1,2,3\n", headers={"Content-Type": "text/csv"})
        conn.getresponse().read()
        time.sleep(0.005)


def _rollout_id(line: str) -> str:
    return line.split()[0]


def run_rollout_demo(workdir: Path) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    models = {"v1": "return np.asarray(data, dtype=float) @ model",
              "v2": "raise RuntimeError('v2 cannot read this payload')",
              "v3": "return np.asarray(data, dtype=float) @ (model * 2)"}
    for name, body in models.items():
        (workdir / f"{name}.py").write_text(MODEL.format(body=body))
    config = {"Models": [{"ModelName": name, "Framework": "script", "EntryPoint": str(workdir / f"{name}.py")}
                         for name in models],
              "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
                  {"VariantName": "Blue", "ModelName": "v1", "InitialVariantWeight": 1},
                  {"VariantName": "Broken", "ModelName": "v2", "InitialVariantWeight": 0},
                  {"VariantName": "Fixed", "ModelName": "v3", "InitialVariantWeight": 0}]}],
              "Gateway": {"SpoolDirectory": str(workdir / "spool"), "ModelCacheDirectory": str(workdir / "models"),
                          "PollSeconds": 0.5}}
    (workdir / "gateway.yaml").write_text(yaml.safe_dump(config))
    gate = {"Name": "errors", "Metric": "Invocation5XXErrorRate", "Threshold": 0.01, "WindowSeconds": 10,
            "MinInvocations": 10}
    (workdir / "canary.yaml").write_text(yaml.safe_dump({
        "Kind": "Deployment", "TargetVariant": "Broken", "EvaluationIntervalSeconds": 1, "FailureLimit": 2,
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 60,
                                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 20}},
        "Gates": [gate], "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}}))
    (workdir / "linear.yaml").write_text(yaml.safe_dump({
        "Kind": "Deployment", "TargetVariant": "Fixed", "EvaluationIntervalSeconds": 1,
        "TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": 2,
                                        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 50}},
        "TerminationWaitInSeconds": 2, "Gates": [gate], "AutoRollbackConfiguration": {"Alarms": [
            {"AlarmName": "errors"}]}}))
    (workdir / "policy.yaml").write_text(yaml.safe_dump({
        "MinCapacity": 1, "MaxCapacity": 4, "Simulation": {"ServiceTimeMs": 50, "StartupSeconds": 30},
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 600, "ScaleOutCooldown": 60, "ScaleInCooldown": 300,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}}))
    (workdir / "trace.csv").write_text("second,requests_per_second\n0,5\n120,40\n900,5\n1800,5\n")

    env = {**os.environ, "MONITOR_DATABASE_URL": f"sqlite:///{workdir}/monitor.db"}
    port = _port()
    gateway = subprocess.Popen([sys.executable, "-m", "monitor_service.cli.main", "gateway", "--database",
                                "--config", str(workdir / "gateway.yaml"), "--port", str(port),
                                "--log-level", "warning"], env=env, cwd=workdir)
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        traffic = threading.Thread(target=_traffic, args=(port, stop), daemon=True)
        traffic.start()
        print("-- a canary of a broken version, gated on its 5xx rate")
        bad = _rollout_id(_monitor(env, "rollout", "start", "churn", "--spec", str(workdir / "canary.yaml")))
        watched = _monitor(env, "rollout", "watch", bad, "--timeout", "60")
        print("-- a LINEAR deployment of the fixed version")
        good = _rollout_id(_monitor(env, "rollout", "start", "churn", "--spec", str(workdir / "linear.yaml")))
        completed = _monitor(env, "rollout", "watch", good, "--timeout", "60")
        stop.set()
        traffic.join(10)
        print("-- autoscaling: a load spike replayed through target tracking")
        _monitor(env, "autoscale", "simulate", "--policy", str(workdir / "policy.yaml"), "--trace",
                 str(workdir / "trace.csv"), "--plot", str(workdir / "autoscaling.html"))
    finally:
        stop.set()
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(60)
    ok = f"rollout {bad}: RolledBack" in watched and f"rollout {good}: Completed" in completed
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="demo-output/rollout")
    return run_rollout_demo(Path(parser.parse_args().workdir).resolve())


if __name__ == "__main__":
    sys.exit(main())
