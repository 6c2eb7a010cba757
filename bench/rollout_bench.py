"""Rollout benchmark: the routing overhead of each deployment policy, and the time from a failing gate to full rollback.

    python bench/rollout_bench.py [--rate 200] [--seconds 10] [--repeats 3] [--record]

Policy cost in-process: `choose()` of each router policy (weighted, sticky A/B by header, bandits:
Thompson sampling, epsilon-greedy, UCB1 with a 5 % floor, each taught 10,000 rewards first), timed
over 200,000 calls, median of 5 runs.

End to end: one gateway process following a SQLite database (`monitor gateway --database`),
endpoint `churn` with three script-model variants; each case starts a rollout with the service's
own functions, waits for the gateway to route by it, then the load generator of
bench/gateway_bench.py (its own process, open loop at `--rate` requests/s, keep-alive, each
request with its own inference id) measures latency; "added" = case minus plain weighted routing at
the same percentile. Cases: weighted (no rollout), a canary in progress (gates evaluated every
second over the metric samples), sticky A/B, each bandit policy (assignments written every 0.25 s),
and a 100 % shadow (every request mirrored and captured).

Rollback: Green fails every call; a canary (10 %) with a 5xx-rate gate (EvaluationIntervalSeconds 1,
FailureLimit 1); a client sends requests back to back and records each answer's variant. Figures:
first failed answer -> RolledBack recorded (the gate's decision), RolledBack -> the first answer
after which every answer is Blue (the gateway applied it), and the sum; `--rollbacks` runs, medians.
`--record` writes the figures to BENCHMARKS.md (section "Rollouts"). Run it alone on the machine
(under the team's lock).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "gateway" / "assets"
GENERATOR = REPO / "bench" / "gateway_bench.py"
SECTION = "## Rollouts"
PATH = "/endpoints/churn/invocations"
sys.path.insert(0, str(REPO))


# -- policy cost in-process ------------------------------------------------------------------------
def policy_costs() -> dict[str, float]:
    from monitor_service.gateway.routing import RoutingContext, VariantState, WeightedPolicy
    from monitor_service.rollout.policies import BanditState, StickyPolicy
    from monitor_service.rollout.specs import ABTestSpec, BanditSpec

    states = [VariantState("Blue", 0.9), VariantState("Green", 0.1)]
    ab = ABTestSpec(Variants=[{"VariantName": "Blue", "Weight": 1}, {"VariantName": "Green", "Weight": 1}],
                    StickyBy="header", KeyName="x-user")
    policies: dict[str, Callable[[], Any]] = {
        "weighted": lambda: WeightedPolicy(states), "sticky A/B (header)": lambda: StickyPolicy(ab)}
    for name in ("ThompsonSampling", "EpsilonGreedy", "UCB1"):
        def bandit(name: str = name) -> Any:
            from monitor_service.rollout.policies import BanditPolicy

            state = BanditState("r", "churn", BanditSpec(Arms=["Blue", "Green", "Red"], Policy=name,
                                                         ExplorationFloor=0.05, Seed=1))
            rng = random.Random(2)
            state.learn([(i + 1, rng.choice(["Blue", "Green", "Red"]), float(rng.random() < 0.5))
                         for i in range(10_000)])
            return BanditPolicy(state, time.time)
        policies[f"bandit {name}"] = bandit
    contexts = [RoutingContext(f"k{i}", f"k{i}", {"x-user": f"user-{i}"}) for i in range(1000)]
    out = {}
    for name, make in policies.items():
        policy = make()
        runs = []
        for _ in range(5):
            started = time.perf_counter_ns()
            for i in range(200_000):
                policy.choose(states, contexts[i % 1000])
            runs.append((time.perf_counter_ns() - started) / 200_000 / 1000)
        out[name] = statistics.median(runs)
    return out


# -- the gateway process -------------------------------------------------------------------------
def _document(work: Path, green: str = "linear.py") -> dict[str, Any]:
    folder = work / "weights"  # four weights: the generator's payload has four features
    folder.mkdir(exist_ok=True)
    (folder / "weights.txt").write_text("1,2,3,4")

    def model(name: str, script: str) -> dict[str, Any]:
        return {"ModelName": name, "Framework": "script", "EntryPoint": str(ASSETS / script),
                "ModelDataUrl": str(folder)}

    return {"Models": [model("model-a", "linear.py"), model("model-b", green), model("model-c", "linear.py")],
            "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
                {"VariantName": "Blue", "ModelName": "model-a", "InitialVariantWeight": 1.0},
                {"VariantName": "Green", "ModelName": "model-b", "InitialVariantWeight": 0.0},
                {"VariantName": "Red", "ModelName": "model-c", "InitialVariantWeight": 0.0}],
                "DataCaptureConfig": {"InitialSamplingPercentage": 100, "DestinationS3Uri": str(work / "capture"),
                                      "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                                      "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}}],
            "Gateway": {"SpoolDirectory": str(work / "spool"), "ModelCacheDirectory": str(work / "models"),
                        "PollSeconds": 0.5}}


class Rig:
    def __init__(self, work: Path, green: str = "linear.py") -> None:
        import yaml

        from monitor_service.settings import Settings
        from monitor_service.store.db import make_engine, make_sessionmaker, upgrade

        self.work = work
        self.url = f"sqlite:///{work}/monitor.db"
        self.engine = make_engine(Settings(database_url=self.url))
        upgrade(self.engine)
        self.factory = make_sessionmaker(self.engine)
        seed = work / "gateway.yaml"
        seed.write_text(yaml.safe_dump(_document(work, green)))
        sock = __import__("socket").socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor_service.cli.main", "gateway", "--config",
                                      str(seed), "--database", "--port", str(self.port), "--log-level", "warning"],
                                     cwd=work, env={**os.environ, "PYTHONPATH": str(REPO),
                                                    "MONITOR_DATABASE_URL": self.url})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the gateway did not start")

    def session(self) -> Any:
        from monitor_service.store.db import transaction

        return transaction(self.factory)

    def start(self, spec: dict[str, Any]) -> str:
        from monitor_service.service import rollouts

        with self.session() as s:
            return rollouts.start(s, "churn", rollouts.parse_request({"Spec": spec}), now=datetime.now(UTC),
                                  created_by=None).id

    def stop(self, rollout_id: str) -> None:
        from monitor_service.service import rollouts

        with self.session() as s:
            row = rollouts.get_rollout(s, rollout_id)
            if row.status == "InProgress":
                rollouts.roll_back(s, rollout_id, now=datetime.now(UTC), actor=None)

    def status(self, rollout_id: str) -> tuple[str, datetime | None]:
        from monitor_service.service import rollouts

        with self.session() as s:
            row = rollouts.get_rollout(s, rollout_id)
            done = [e.created_at for e in rollouts.events(s, rollout_id, kind="RolledBack")]
            return row.status, (done[0] if done else None)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self.engine.dispose()


def _load(port: int, rate: float, seconds: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(GENERATOR), "--generate", "--port", str(port), "--path", PATH,
                          "--rate", str(rate), "--seconds", str(seconds)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


CASES: list[tuple[str, dict[str, Any] | None]] = [
    ("weighted (no rollout)", None),
    ("canary in progress, 2 gates", {"Kind": "Deployment", "TargetVariant": "Green", "EvaluationIntervalSeconds": 1,
                                     "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 3600,
                                                                     "CanarySize": {"Value": 10}},
                                     "Gates": [{"Name": "e", "Metric": "Invocation5XXErrorRate", "Threshold": 0.5},
                                               {"Name": "l", "Metric": "ModelLatencyP99", "Threshold": 5000}]}),
    ("sticky A/B (inference id)", {"Kind": "ABTest", "Variants": [{"VariantName": "Blue", "Weight": 1},
                                                                  {"VariantName": "Green", "Weight": 1}]}),
    ("bandit ThompsonSampling", {"Kind": "Bandit", "Arms": ["Blue", "Green", "Red"], "Policy": "ThompsonSampling"}),
    ("bandit EpsilonGreedy", {"Kind": "Bandit", "Arms": ["Blue", "Green", "Red"], "Policy": "EpsilonGreedy"}),
    ("bandit UCB1", {"Kind": "Bandit", "Arms": ["Blue", "Green", "Red"], "Policy": "UCB1"}),
    ("shadow 100 % (mirrored + captured)", {"Kind": "Shadow", "SourceVariant": "Blue", "ShadowVariant": "Green",
                                            "SamplingPercentage": 100}),
]


def overhead(args: argparse.Namespace) -> list[dict[str, Any]]:
    rig = Rig(Path(tempfile.mkdtemp(prefix="rollout-bench-")))
    rows = []
    try:
        _load(rig.port, args.rate, 2)  # warm-up
        for name, spec in CASES:
            rollout_id = rig.start(spec) if spec is not None else None
            time.sleep(2.0)  # the gateway polls every 0.5 s
            p50s, p99s, errors = [], [], 0
            for _ in range(args.repeats):
                result = _load(rig.port, args.rate, args.seconds)
                lat = np.asarray(result["latencies_ms"])
                p50s.append(float(np.percentile(lat, 50)))
                p99s.append(float(np.percentile(lat, 99)))
                errors += result["errors"]
            rows.append({"case": name, "p50": statistics.median(p50s), "p99": statistics.median(p99s),
                         "p99_spread": (min(p99s), max(p99s)), "errors": errors})
            print(rows[-1], flush=True)
            if rollout_id is not None:
                rig.stop(rollout_id)
                time.sleep(1.0)
    finally:
        rig.close()
    return rows


def rollback_times(count: int) -> list[dict[str, float]]:
    rig = Rig(Path(tempfile.mkdtemp(prefix="rollout-bench-rb-")), green="failing.py")
    spec = {"Kind": "Deployment", "TargetVariant": "Green", "EvaluationIntervalSeconds": 1, "FailureLimit": 1,
            "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 3600,
                                            "CanarySize": {"Value": 10}},
            "Gates": [{"Name": "errors", "Metric": "Invocation5XXErrorRate", "Threshold": 0.01, "WindowSeconds": 5}],
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}}
    out = []
    try:
        conn = http.client.HTTPConnection("127.0.0.1", rig.port, timeout=10)
        for _ in range(count):
            rollout_id = rig.start(spec)
            seen: list[tuple[float, str]] = []
            decided: datetime | None = None
            deadline = time.time() + 60
            while time.time() < deadline:
                conn.request("POST", PATH, body=b"1,2,3\n", headers={"Content-Type": "text/csv"})
                answer = conn.getresponse()
                answer.read()
                seen.append((time.time(), answer.getheader("X-Amzn-Invoked-Production-Variant") or ""))
                if len(seen) % 50 == 0 and decided is None:
                    _, decided = rig.status(rollout_id)
                if decided is not None and time.time() > decided.timestamp() + 3:
                    break
            assert decided is not None, "the canary was not rolled back"
            first_fail = next(t for t, v in seen if v == "Green")
            last_green = max(t for t, v in seen if v == "Green")
            full = next(t for t, v in seen if t > last_green)
            out.append({"gate": decided.timestamp() - first_fail, "apply": full - decided.timestamp(),
                        "total": full - first_fail})
            print(out[-1], flush=True)
            time.sleep(1.0)
    finally:
        rig.close()
    return out


def report(args: argparse.Namespace, costs: dict[str, float], rows: list[dict[str, Any]],
           rollbacks: list[dict[str, float]]) -> str:
    base = rows[0]
    lines = [SECTION, "",
             f"Written by `bench/rollout_bench.py --record` on {datetime.now(UTC):%Y-%m-%d} ({platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}). The gateway follows a SQLite database; "
             f"endpoint `churn` has three script-model variants (`y = X w`), 100 % capture. Load: the open-loop "
             f"generator of `bench/gateway_bench.py` in its own process, {args.rate:g} requests/s, "
             f"{args.repeats} runs of {args.seconds:g} s per case, medians (p99 spread in brackets); every request "
             "has its own inference id. \"added\" = case minus weighted routing at the same percentile.", "",
             "Router policy `choose()` in-process (median of 5 x 200,000 calls; bandits taught 10,000 rewards, "
             "5 % floor):", "", "| policy | us per call |", "|---|---|"]
    lines += [f"| {name} | {us:.2f} |" for name, us in costs.items()]
    lines += ["", "End to end through the gateway:", "",
              "| case | p50 ms | p99 ms | added p50 ms | added p99 ms | errors |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['p50']:.2f} | {r['p99']:.2f} ({r['p99_spread'][0]:.2f}-"
                     f"{r['p99_spread'][1]:.2f}) | {r['p50'] - base['p50']:+.2f} | {r['p99'] - base['p99']:+.2f} | "
                     f"{r['errors']} |")
    med = {k: statistics.median(r[k] for r in rollbacks) for k in ("gate", "apply", "total")}
    lines += ["", f"Failing gate to full rollback ({len(rollbacks)} runs; canary 10 %, 5xx-rate gate, "
              "EvaluationIntervalSeconds 1, FailureLimit 1, controller tick 0.25 s):", "",
              "| step | median s | min s | max s |", "|---|---|---|---|"]
    for key, label in (("gate", "first failed answer -> RolledBack recorded"),
                       ("apply", "RolledBack -> every answer on Blue"), ("total", "first failed answer -> all Blue")):
        values = [r[key] for r in rollbacks]
        lines.append(f"| {label} | {med[key]:.2f} | {min(values):.2f} | {max(values):.2f} |")
    return "\n".join(lines) + "\n"


def record(text: str) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gateway_bench", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._record(text, SECTION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rollbacks", type=int, default=5)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    costs = policy_costs()
    print(costs, flush=True)
    rows = overhead(args)
    rollbacks = rollback_times(args.rollbacks)
    text = report(args, costs, rows, rollbacks)
    text += (f"\nLoad average (1 min) {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after: both "
             "processes share the machine's 2 cores, so p99 moves with whatever else runs.\n")
    print(text)
    if args.record:
        record(text)


if __name__ == "__main__":
    main()
