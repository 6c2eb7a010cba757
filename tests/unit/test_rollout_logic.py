"""The pure parts of rollouts: schedules, the deployment machine, gates, statistics, policies, autoscaling.

Expected values are computed independently: scipy for the tests, a textbook sample size, binomial
bounds for traffic shares, hand-worked autoscaling timelines."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from monitor_service.errors import ConfigError
from monitor_service.gateway.routing import RoutingContext
from monitor_service.rollout import machine
from monitor_service.rollout.autoscaling import ScalingPolicy, erlang_c_wait, simulate
from monitor_service.rollout.gates import GateResult, MetricWindow, evaluate
from monitor_service.rollout.policies import BanditState, StickyPolicy
from monitor_service.rollout.significance import proportion_sample_size, two_proportion, welch
from monitor_service.rollout.specs import ABTestSpec, BanditSpec, DeploymentSpec, Gate, TrafficRouting
from monitor_service.rollout.traffic import step_weights, traffic_steps


def test_traffic_steps() -> None:
    assert traffic_steps(TrafficRouting()) == [100.0]
    assert traffic_steps(TrafficRouting(Type="CANARY", CanarySize={"Value": 10})) == [10.0, 100.0]
    assert traffic_steps(TrafficRouting(Type="CANARY", CanarySize={"Type": "INSTANCE_COUNT", "Value": 1}),
                         target_instances=4) == [25.0, 100.0]
    assert traffic_steps(TrafficRouting(Type="LINEAR", LinearStepSize={"Value": 30})) == [30.0, 60.0, 90.0, 100.0]
    assert step_weights({"Blue": 3.0, "Old": 1.0, "Green": 0.0}, "Green", 20) == {"Blue": 0.6, "Old": 0.2,
                                                                                   "Green": 0.2}


@pytest.mark.parametrize("routing", [{"Type": "CANARY"}, {"Type": "CANARY", "CanarySize": {"Value": 60}},
                                     {"Type": "LINEAR", "LinearStepSize": {"Value": 5}},
                                     {"Type": "ALL_AT_ONCE", "CanarySize": {"Value": 5}}])
def test_traffic_routing_refuses_what_sagemaker_refuses(routing: dict[str, object]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        TrafficRouting.model_validate(routing)


def _spec(**extra: object) -> DeploymentSpec:
    return DeploymentSpec.model_validate({
        "TargetVariant": "Green", "EvaluationIntervalSeconds": 1, "FailureLimit": 3, "TerminationWaitInSeconds": 5,
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 10, "CanarySize": {"Value": 10}},
        "Gates": [{"Name": "errors", "Metric": "Invocation5XXErrorRate", "Threshold": 0.01}],
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]}, **extra})


def _result(status: str) -> list[GateResult]:
    return [GateResult("errors", status, None, 0.01, "")]  # type: ignore[arg-type]


def test_machine_rolls_back_at_the_failure_limit_of_consecutive_failures() -> None:
    spec = _spec()
    step = machine.start(spec, {"Blue": 1.0, "Green": 0.0}, 1, now=0)
    assert step.weights == {"Blue": 0.9, "Green": 0.1}
    state = step.state
    # Fail, Fail, Pass resets, then Inconclusive does not count nor reset, then Fail x3.
    for t, status in enumerate(["Fail", "Fail", "Pass", "Fail", "Inconclusive", "Fail"], start=1):
        out = machine.advance(spec, state, t, _result(status))
        assert out.weights is None and out.state["phase"] == "Shifting"
        state = out.state
    out = machine.advance(spec, state, 7, _result("Fail"))
    assert out.state["phase"] == "RolledBack" and out.weights == {"Blue": 1.0, "Green": 0.0}
    assert out.events[-1].kind == "RolledBack"


def test_machine_walks_the_schedule_and_bakes() -> None:
    spec = _spec()
    state = machine.start(spec, {"Blue": 1.0, "Green": 0.0}, 1, now=0).state
    assert machine.due_at(spec, state) == 1
    out = machine.advance(spec, state, 10, _result("Pass"))
    assert out.weights == {"Blue": 0.0, "Green": 1.0} and out.state["step"] == 1
    out = machine.advance(spec, out.state, 20, _result("Pass"))
    assert out.state["phase"] == "Baking"
    out = machine.advance(spec, out.state, 24, _result("Pass"))
    assert out.state["phase"] == "Baking"
    out = machine.advance(spec, out.state, 25, None)
    assert out.state["phase"] == "Completed" and [e.kind for e in out.events] == ["Completed"]
    assert machine.due_at(spec, out.state) == math.inf


def test_machine_times_out_into_a_rollback() -> None:
    spec = _spec(MaximumExecutionTimeoutInSeconds=30)
    state = machine.start(spec, {"Blue": 1.0, "Green": 0.0}, 1, now=0).state
    out = machine.advance(spec, state, 31, None)
    assert out.state["phase"] == "RolledBack" and "MaximumExecutionTimeoutInSeconds" in out.state["reason"]


def test_gates_over_a_window() -> None:
    bounds = (1_000, 10_000, 100_000)
    window = MetricWindow(bucket_bounds=bounds)
    window.add(200, 3, [150, 48, 2, 0])
    errors = Gate(Name="e", Metric="Invocation5XXErrorRate", Threshold=0.01)
    assert evaluate(errors, window).status == "Fail" and evaluate(errors, window).value == 3 / 200
    latency = Gate(Name="l", Metric="ModelLatencyP99", Threshold=50)
    # 99th of 200 answers is the 198th: in the (1, 10] ms bucket -> p99 reported as 10 ms.
    assert evaluate(latency, window).value == 10.0 and evaluate(latency, window).status == "Pass"
    assert evaluate(Gate(Name="q", Metric="ModelLatencyP99", Threshold=5), window).status == "Fail"
    assert evaluate(errors, MetricWindow()).status == "Inconclusive"
    with pytest.raises(ValueError, match="ScheduleId"):
        Gate(Name="d", Metric="DataQualityViolations", Threshold=0)


def test_two_proportion_matches_the_chi_square_test() -> None:
    result = two_proportion(420, 1000, 465, 1000, alpha=0.05, power=0.8, mde=0.05)
    chi2, p, _, _ = stats.chi2_contingency([[420, 580], [465, 535]], correction=False)
    assert result.statistic == pytest.approx(math.sqrt(chi2)) and result.p_value == pytest.approx(p)
    assert result.significant == (p < 0.05)


def test_sample_size_matches_the_textbook_value() -> None:
    # 50 % -> 60 %, alpha 0.05 two-sided, power 0.8: 388 per group (Fleiss, no continuity correction).
    assert proportion_sample_size(0.5, 0.1, alpha=0.05, power=0.8) == 388


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 80), rng.normal(1.4, 2.0, 50)
    result = welch(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b), alpha=0.05, power=0.8, mde=0.2)
    expected = stats.ttest_ind(b, a, equal_var=False)
    assert result.statistic == pytest.approx(expected.statistic) and result.p_value == pytest.approx(expected.pvalue)


@given(st.text(min_size=1, max_size=40))
def test_sticky_assignment_is_a_function_of_the_key(key: str) -> None:
    spec = ABTestSpec(Variants=[{"VariantName": "A", "Weight": 1}, {"VariantName": "B", "Weight": 3}])
    one, other = StickyPolicy(spec, random.Random(1)), StickyPolicy(spec, random.Random(2))
    context = RoutingContext(key, inference_id=key)
    assert one.choose([], context) == other.choose([], context) == one.assign(key)


def test_sticky_shares_follow_the_weights() -> None:
    spec = ABTestSpec(Variants=[{"VariantName": "A", "Weight": 1}, {"VariantName": "B", "Weight": 3}])
    policy = StickyPolicy(spec)
    counts = Counter(policy.assign(f"user-{i}") for i in range(4000))
    low, high = stats.binom.interval(0.999, 4000, 0.75)
    assert low <= counts["B"] <= high


def test_cookie_and_header_keys() -> None:
    spec = ABTestSpec(Variants=[{"VariantName": "A", "Weight": 1}, {"VariantName": "B", "Weight": 1}],
                      StickyBy="cookie", KeyName="uid")
    policy = StickyPolicy(spec)
    chosen = policy.choose([], RoutingContext("x", headers={"cookie": "a=1; uid=alice"}))
    assert chosen == policy.assign("alice") and policy.unkeyed == 0
    policy.choose([], RoutingContext("x", headers={}))
    assert policy.unkeyed == 1
    with pytest.raises(ValueError, match="KeyName"):
        ABTestSpec(Variants=spec.Variants, StickyBy="header")


@pytest.mark.parametrize("name", ["ThompsonSampling", "EpsilonGreedy", "UCB1"])
def test_bandit_policies_favour_the_better_arm_and_keep_the_floor(name: str) -> None:
    spec = BanditSpec(Arms=["a", "b", "c"], Policy=name, ExplorationFloor=0.05, Seed=5)
    state = BanditState("r", "e", spec)
    rng = random.Random(9)
    means = {"a": 0.3, "b": 0.7, "c": 0.4}
    rewards = []
    for seq in range(1, 3001):
        arm = state.pull()
        rewards.append((seq, arm, 1.0 if rng.random() < means[arm] else 0.0))
        state.learn(rewards[-1:])
    counts = Counter(state.pull() for _ in range(3000))
    assert counts["b"] > 0.6 * 3000, counts
    floor = stats.binom.ppf(0.001, 3000, 0.05)
    assert all(counts[arm] >= floor for arm in means), counts
    # Replaying the same rewards into a fresh state (a restart) gives the same beliefs.
    again = BanditState("r", "e", spec)
    again.learn(rewards)
    assert again.rewards_seen == 3000
    assert max(again.arm_means(), key=lambda k: again.arm_means()[k] or 0) == "b"


def test_bandit_floor_cannot_exceed_the_traffic() -> None:
    with pytest.raises(ValueError, match="over 100 %"):
        BanditSpec(Arms=["a", "b", "c"], ExplorationFloor=0.4)


def _policy(**simulation: object) -> ScalingPolicy:
    return ScalingPolicy.model_validate({
        "MinCapacity": 1, "MaxCapacity": 4,
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 600, "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "ScaleOutCooldown": 120, "ScaleInCooldown": 300},
        "Simulation": {"ServiceTimeMs": 50, **simulation}})


def test_autoscaling_scales_out_and_in_within_cooldowns_and_bounds() -> None:
    # 5 req/s, then 18 req/s from 60 s to 900 s (1080/min: 2 instances at target 600), then 50 req/s
    # (3000/min: 5 instances, capped at 4), back to 5 req/s at 1200 s.
    trace = [(0, 5), (60, 18), (900, 50), (1200, 5), (2400, 5)]
    ticks = simulate(_policy(), trace)
    actions = [(t.second, t.action) for t in ticks if t.action]
    # Evaluations every 60 s over the last 60 s: at 120 s the window is all 18 req/s -> ceil(1 x 1080/600) = 2.
    # At 960 s the window is all 50 req/s -> ceil(2 x 1500/600) = 5, capped to MaxCapacity 4. At 1260 s the
    # window is 5 req/s -> 1 instance, 300 s after the last activity at 960 s -> wait until 1260: allowed.
    assert actions == [(120, "scale out 1 -> 2"), (960, "scale out 2 -> 4"), (1260, "scale in 4 -> 1")]
    assert all(1 <= t.instances <= 4 for t in ticks)


def test_autoscaling_cooldowns_delay_scaling() -> None:
    # The load jumps twice, 60 s apart: the second scale-out waits for ScaleOutCooldown (120 s).
    trace = [(0, 5), (60, 18), (120, 35), (1000, 35)]
    ticks = simulate(_policy(), trace)
    outs = [t.second for t in ticks if t.action and t.action.startswith("scale out")]
    assert outs[0] == 120 and outs[1] >= outs[0] + 120
    assert all(b - a >= 120 for a, b in itertools.pairwise(outs))
    ins = [t for t in ticks if t.action and t.action.startswith("scale in")]
    assert ins == []  # never below the load


def test_erlang_c_matches_the_mm1_formula() -> None:
    # M/M/1: Wq = rho / (mu - lambda).
    assert erlang_c_wait(10, 0.05, 1) == pytest.approx((10 * 0.05) / (20 - 10))
    assert erlang_c_wait(30, 0.05, 1) == math.inf


def test_bad_policy_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from monitor_service.rollout.autoscaling import load_policy

    path = tmp_path / "p.json"
    path.write_text('{"MinCapacity": 3, "MaxCapacity": 2, "TargetTrackingScalingPolicyConfiguration": '
                    '{"TargetValue": 1, "PredefinedMetricSpecification": {"PredefinedMetricType": "Nope"}}}')
    with pytest.raises(ConfigError, match="PredefinedMetricType"):
        load_policy(path)


def test_simulate_command_prints_and_plots(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from monitor_service.cli.main import main

    policy = tmp_path / "policy.yaml"
    policy.write_text("MinCapacity: 1\nMaxCapacity: 4\nTargetTrackingScalingPolicyConfiguration:\n"
                      "  TargetValue: 600\n  ScaleOutCooldown: 120\n  ScaleInCooldown: 300\n"
                      "  PredefinedMetricSpecification:\n"
                      "    PredefinedMetricType: SageMakerVariantInvocationsPerInstance\n"
                      "Simulation: {ServiceTimeMs: 50}\n")
    trace = tmp_path / "trace.csv"
    trace.write_text("second,requests_per_second\n0,5\n60,18\n900,50\n1200,5\n2400,5\n")
    plot = tmp_path / "plot.html"
    assert main(["autoscale", "simulate", "--policy", str(policy), "--trace", str(trace), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "scale out 1 -> 2" in out and "scale out 2 -> 4" in out and "scale in 4 -> 1" in out
    assert "2 scale-outs, 1 scale-ins; instances between 1 and 4 (bounds 1-4)" in out
    assert plot.stat().st_size > 100_000  # plotly inlined once: a self-contained page
