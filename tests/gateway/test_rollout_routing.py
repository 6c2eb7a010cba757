"""Shadow tests, sticky A/B tests and bandits on a real gateway process following the database."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from gateway_harness import Client, GatewayProcess, capture_config, capture_lines, gateway_block
from rollout_harness import Rig, any_rig, rig, two_variants, wait_for  # noqa: F401
from scipy.stats import binom

VARIANT = "x-amzn-invoked-production-variant"


def _sampled(key: str, percent: float) -> bool:
    """The sampling rule, written out independently: BLAKE2b-64 of the key below percent of 2^64."""
    point = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    return point < (1 << 64) * percent / 100


def test_shadow_never_changes_answers_and_its_capture_is_complete(rig: Rig, tmp_path: Path,  # noqa: F811
                                                                  gateways: list[GatewayProcess]) -> None:
    destination = tmp_path / "capture"
    document = two_variants(tmp_path, green_weights="10,20,30", capture=capture_config(destination))
    gateway = rig.start_gateway(document, gateways)
    client = Client(gateway.port)
    rollout = rig.start_rollout("churn", {"Kind": "Shadow", "SourceVariant": "Blue", "ShadowVariant": "Green",
                                          "SamplingPercentage": 40})
    mirrored = 'monitor_gateway_shadow_mirrored_total{EndpointName="churn",VariantName="Green"}'
    warm = iter(range(10_000))
    wait_for(lambda: client.invoke("churn", "1,1,1\n", inference_id=f"warm-{next(warm)}").status == 200
             and client.metrics().get(mirrored, 0) > 0, timeout=15, what="the shadow test to reach the gateway")
    rows = np.random.default_rng(7).integers(0, 10, size=(400, 3))
    for i, row in enumerate(rows):
        answer = client.invoke("churn", ",".join(map(str, row)) + "\n", inference_id=f"req-{i}")
        assert answer.status == 200 and answer.headers[VARIANT] == "Blue"
        assert float(answer.body) == float(row @ np.array([1, 2, 3]))  # Blue's answer, never the shadow's
    metrics = client.metrics()
    assert gateway.terminate() == 0  # drains the shadow queue and uploads the capture
    lines = [r for r in capture_lines(destination) if r["eventMetadata"]["inferenceId"].startswith("req-")]
    by_variant: dict[str, dict[str, dict]] = {"Blue": {}, "Green": {}}
    for path in sorted(destination.rglob("*.jsonl")):
        variant = path.relative_to(destination).parts[1]
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["eventMetadata"]["inferenceId"].startswith("req-"):
                by_variant[variant][record["eventMetadata"].get("inferenceId", "")] = record
    assert len(lines) == sum(len(v) for v in by_variant.values())
    expected = {f"req-{i}" for i in range(len(rows)) if _sampled(f"req-{i}", 40)}
    shadow_ids = set(by_variant["Green"])
    assert set(by_variant["Blue"]) == {f"req-{i}" for i in range(len(rows))}
    assert shadow_ids == expected  # every sampled request's shadow answer is captured, no other
    low, high = binom.interval(0.999, len(rows), 0.4)
    assert low <= len(expected) <= high
    for key in expected:
        i = int(key.split("-")[1])
        production, shadow = by_variant["Blue"][key], by_variant["Green"][key]
        assert production["eventMetadata"]["eventId"] == shadow["eventMetadata"]["eventId"]  # joinable
        assert float(shadow["captureData"]["endpointOutput"]["data"]) == float(rows[i] @ np.array([10, 20, 30]))
    assert metrics.get('monitor_gateway_shadow_dropped_total{EndpointName="churn",VariantName="Green",'
                       'reason="queue_full"}', 0) == 0
    assert rig.rollout(rollout["id"])["Status"] == "InProgress"
    # The comparison report, from the capture and labels (label = Blue's answer for every other request).
    labels = tmp_path / "ground-truth" / "2026" / "12"
    labels.mkdir(parents=True)
    labelled = [i for i in range(len(rows)) if i % 2 == 0]
    (labels / "batch.jsonl").write_text("".join(json.dumps({
        "groundTruthData": {"data": str(int(rows[i] @ np.array([1, 2, 3]))), "encoding": "CSV"},
        "eventMetadata": {"eventId": f"req-{i}"}, "eventVersion": "0"}) + "\n" for i in labelled))
    from monitor_service.cli.main import main

    out = tmp_path / "shadow-report"
    assert main(["rollout", "shadow-report", "--capture", str(destination), "--endpoint", "churn", "--production",
                 "Blue", "--shadow", "Green", "--ground-truth", str(tmp_path / "ground-truth"),
                 "--output", str(out)]) == 0
    report = json.loads((out / "comparison.json").read_text())
    mirrored_rows = [int(key.split("-")[1]) for key in expected]
    blue = {i: float(rows[i] @ np.array([1, 2, 3])) for i in mirrored_rows}
    green = {i: float(rows[i] @ np.array([10, 20, 30])) for i in mirrored_rows}
    assert report["joined"] >= len(expected)  # the mirrored warm-up requests (1,1,1: 6 vs 60) join too
    agreeing = sum(blue[i] == green[i] for i in mirrored_rows)
    assert round(report["agreement_rate"] * report["joined"]) == agreeing
    assert (out / "report.html").stat().st_size > 10_000
    assert report["quality"]["Blue"]["accuracy"] == 1.0
    shadow_labelled = [i for i in mirrored_rows if i % 2 == 0]
    assert report["quality"]["Green"]["labelled"] == len(shadow_labelled)
    assert report["quality"]["Green"]["accuracy"] == pytest.approx(
        sum(blue[i] == green[i] for i in shadow_labelled) / len(shadow_labelled))
    assert report["quality"]["Green"]["mae"] == pytest.approx(np.mean([abs(green[i] - blue[i])
                                                                       for i in shadow_labelled]))
    # The same over REST, with the labels posted to the service's ground-truth route.
    posted = rig.api.post("/api/v1/ground-truth", headers=rig.admin, json={"labels": [
        {"inference_id": f"req-{i}", "label": int(rows[i] @ np.array([1, 2, 3]))} for i in labelled]})
    assert posted.status_code == 202, posted.text
    served = rig.api.get(f"/api/v1/gateway/rollouts/{rollout['id']}/report", headers=rig.admin).json()
    assert (served["joined"], served["agreement_rate"]) == (report["joined"], report["agreement_rate"])
    assert served["quality"] == report["quality"]


def test_sticky_ab_keeps_each_key_on_one_variant(rig: Rig, tmp_path: Path,  # noqa: F811
                                                 gateways: list[GatewayProcess]) -> None:
    gateway = rig.start_gateway(two_variants(tmp_path), gateways)
    client = Client(gateway.port)
    rollout = rig.start_rollout("churn", {"Kind": "ABTest", "StickyBy": "header", "KeyName": "X-User",
                                          "Variants": [{"VariantName": "Blue", "Weight": 1},
                                                       {"VariantName": "Green", "Weight": 1}]})

    def variant(user: str) -> str:
        return client.request("POST", "/endpoints/churn/invocations", "1,2,3\n",
                              {"Content-Type": "text/csv", "X-User": user}).headers[VARIANT]

    wait_for(lambda: len({variant(f"probe-{i}") for i in range(30)}) == 2, timeout=15, what="the A/B test routing")
    users = [f"user-{i}" for i in range(300)]
    first = {u: variant(u) for u in users}
    for _ in range(3):
        assert {u: variant(u) for u in users[:100]} == {u: first[u] for u in users[:100]}
    greens = sum(1 for v in first.values() if v == "Green")
    low, high = binom.interval(0.999, len(users), 0.5)
    assert low <= greens <= high
    # The same users on a second gateway process land on the same variants.
    own = {**two_variants(tmp_path), "Gateway": gateway_block(tmp_path / "second")}  # its own spool
    second = rig.start_gateway(own, [], name="second.yaml")
    other = Client(second.port)
    try:
        moved = [u for u in users[:100] if other.request(
            "POST", "/endpoints/churn/invocations", "1,2,3\n",
            {"Content-Type": "text/csv", "X-User": u}).headers[VARIANT] != first[u]]
        assert moved == []
    finally:
        other.close()
        second.kill()
    assert rig.rollout(rollout["id"])["Status"] == "InProgress"


@pytest.mark.postgres
def test_bandit_favours_the_better_arm_keeps_the_floor_and_survives_a_restart(
        any_rig: Rig, tmp_path: Path, gateways: list[GatewayProcess]) -> None:  # noqa: F811
    rig = any_rig  # noqa: F811
    document = two_variants(tmp_path, extra_variants=("Red",))
    gateway = rig.start_gateway(document, gateways)
    client = Client(gateway.port)
    floor = 0.08
    rollout = rig.start_rollout("churn", {"Kind": "Bandit", "Arms": ["Blue", "Green", "Red"],
                                          "Policy": "ThompsonSampling", "ExplorationFloor": floor, "Seed": 3})
    label = f'monitor_gateway_bandit_rewards{{EndpointName="churn",RolloutId="{rollout["id"]}"}}'
    # A second gateway process serving the same endpoint shares the state (it gets no feedback itself).
    worker = rig.start_gateway({**document, "Gateway": gateway_block(tmp_path / "second")}, gateways,
                               name="second.yaml")
    win = {"Blue": 0.2, "Green": 0.9, "Red": 0.3}
    rng = random.Random(11)
    wait_for(lambda: len({client.invoke("churn", "1,2,3\n").headers[VARIANT] for _ in range(30)}) == 3, timeout=15,
             what="the bandit to route")
    chosen: list[str] = []
    for i in range(900):
        answer = client.invoke("churn", "1,2,3\n", inference_id=f"i-{i}")
        arm = answer.headers[VARIANT]
        chosen.append(arm)
        reward = 1.0 if rng.random() < win[arm] else 0.0
        fed = client.request("POST", "/endpoints/churn/feedback",
                             f'{{"InferenceId": "i-{i}", "Reward": {reward}}}', {"Content-Type": "application/json"})
        assert fed.status == 202
    late = chosen[-400:]
    counts = Counter(late)
    assert counts["Green"] / len(late) > 0.6, counts
    minimum = binom.ppf(0.001, len(late), floor)  # every arm keeps at least the floor
    assert all(counts[arm] >= minimum for arm in win), (counts, minimum)
    wait_for(lambda: client.metrics().get(label, 0) == 900, timeout=20, what="the rewards to be learnt")
    other = Client(worker.port)
    wait_for(lambda: other.metrics().get(label, 0) == 900, timeout=20, what="the second process to learn")
    shared = Counter(other.invoke("churn", "1,2,3\n").headers[VARIANT] for _ in range(300))
    assert shared["Green"] / 300 > 0.6, shared
    other.close()
    stats = rig.rollout(rollout["id"])["Arms"]
    assert stats["Green"]["mean_reward"] > stats["Blue"]["mean_reward"]
    assert sum(s["assignments"] for s in stats.values()) >= 900
    # Restart: the new process rebuilds the policy from the database's rewards before it serves.
    assert gateway.terminate() == 0
    again = rig.start_gateway(document, gateways)
    client = Client(again.port)
    assert client.metrics().get(label, 0) == 900
    after = Counter(client.invoke("churn", "1,2,3\n").headers[VARIANT] for _ in range(300))
    assert after["Green"] / 300 > 0.6, after
    assert all(after[arm] >= binom.ppf(0.001, 300, floor) for arm in win), after
    client.close()


def test_ab_report_tests_significance_on_ground_truth(rig: Rig, tmp_path: Path,  # noqa: F811
                                                      gateways: list[GatewayProcess]) -> None:
    gateway = rig.start_gateway(two_variants(tmp_path, green_weights="3,2,1"), gateways)
    client = Client(gateway.port)
    rollout = rig.start_rollout("churn", {"Kind": "ABTest", "StickyBy": "inference-id", "Metric": "accuracy",
                                          "MinimumDetectableEffect": 0.1,
                                          "Variants": [{"VariantName": "Blue", "Weight": 1},
                                                       {"VariantName": "Green", "Weight": 1}]})
    wait_for(lambda: len({client.invoke("churn", "1,2,3\n", inference_id=f"p-{i}").headers[VARIANT]
                          for i in range(30)}) == 2, timeout=15, what="the A/B routing")
    rng = random.Random(5)
    truth = {"Blue": 0.55, "Green": 0.7}  # the chance each variant's answer is right
    tally = {"Blue": [0, 0], "Green": [0, 0]}
    feedback = []
    for i in range(600):
        answer = client.invoke("churn", "1,2,3\n", inference_id=f"u-{i}")
        variant, predicted = answer.headers[VARIANT], answer.body.decode().strip()
        assert predicted == ("14.0" if variant == "Blue" else "10.0")
        right = rng.random() < truth[variant]
        wrong = "10.0" if variant == "Blue" else "14.0"
        feedback.append({"InferenceId": f"u-{i}", "GroundTruth": predicted if right else wrong})
        tally[variant][0] += right
        tally[variant][1] += 1
    posted = rig.api.post("/api/v1/gateway/endpoints/churn/feedback", headers=rig.admin,
                          json={"Feedback": feedback[:300]})
    assert posted.status_code == 202 and posted.json() == {"accepted": 300}
    # The rest as the service's ground truth (the labels the monitors merge feed the test too).
    labels = [{"inference_id": f["InferenceId"], "label": float(f["GroundTruth"])} for f in feedback[300:]]
    stored = rig.api.post("/api/v1/ground-truth", headers=rig.admin, json={"labels": labels})
    assert stored.status_code == 202 and stored.json()["rollout_feedback"] == 300
    wait_for(lambda: sum(a["rewards"] for a in rig.rollout(rollout["id"])["Arms"].values()) == 600, timeout=20,
             what="the labels to be matched")
    report = rig.api.get(f"/api/v1/gateway/rollouts/{rollout['id']}/report", headers=rig.admin).json()
    for variant, (hits, n) in tally.items():
        assert report["variants"][variant]["labelled"] == n
        assert report["variants"][variant]["accuracy"] == pytest.approx(hits / n)
    comparison = report["comparisons"][0]
    table = [[tally["Blue"][0], tally["Blue"][1] - tally["Blue"][0]],
             [tally["Green"][0], tally["Green"][1] - tally["Green"][0]]]
    from scipy.stats import chi2_contingency

    chi2, p, _, _ = chi2_contingency(table, correction=False)
    assert comparison["p_value"] == pytest.approx(p) and abs(comparison["statistic"]) == pytest.approx(chi2 ** 0.5)
    assert comparison["significant"] == (p < 0.05)
    assert comparison["sample_size_needed_per_variant"] > 0 and comparison["decision"]
    promoted = rig.api.post(f"/api/v1/gateway/rollouts/{rollout['id']}/promote", headers=rig.admin,
                            json={"VariantName": "Green"}).json()
    assert promoted["Status"] == "Completed"
    wait_for(lambda: all(client.invoke("churn", "1,2,3\n", inference_id=f"z-{i}").headers[VARIANT] == "Green"
                         for i in range(30)), timeout=10, what="the promotion")
    client.close()
