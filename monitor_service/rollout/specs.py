"""What a user asks for, in SageMaker's vocabulary where SageMaker has one, validated once at the edge.

A rollout is one of four kinds on one endpoint, started over REST or `monitor rollout start`:

- `Deployment` (blue/green): SageMaker's `BlueGreenUpdatePolicy` — `TrafficRoutingConfiguration`
  (`ALL_AT_ONCE`, `CANARY` with `CanarySize`, `LINEAR` with `LinearStepSize`, each with
  `WaitIntervalInSeconds`), `TerminationWaitInSeconds` (the bake), `MaximumExecutionTimeoutInSeconds`,
  and `AutoRollbackConfiguration.Alarms` naming the `Gates` that roll back. Gates are our alarms: a
  condition over a window of the new variant's traffic or over the product's own monitors.
- `Shadow`: SageMaker's `ShadowModeConfig` (a source variant, one shadow variant, `SamplingPercentage`).
- `ABTest`: weights plus a sticky key (header, cookie or inference id) and the metric compared.
- `Bandit`: a policy (Thompson sampling, epsilon-greedy, UCB1) over arms with an exploration floor.

Unknown keys are errors (a typo never silently does nothing).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor_service.gateway.config import Name as ResourceName
from monitor_service.rollout.autoscaling import TargetTrackingConfiguration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CapacitySize(_Strict):
    """SageMaker's CapacitySize: a share of the new fleet, as a percentage or a number of instances."""

    Type: Literal["CAPACITY_PERCENT", "INSTANCE_COUNT"] = "CAPACITY_PERCENT"
    Value: float = Field(gt=0)

    def percent(self, instances: int) -> float:
        """The share of traffic this size stands for, on a new variant of `instances` instances."""
        if self.Type == "CAPACITY_PERCENT":
            return min(100.0, float(self.Value))
        return min(100.0, 100.0 * float(self.Value) / max(1, instances))


class TrafficRouting(_Strict):
    Type: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"] = "ALL_AT_ONCE"
    WaitIntervalInSeconds: float = Field(default=0, ge=0, le=3600)
    CanarySize: CapacitySize | None = None
    LinearStepSize: CapacitySize | None = None

    @model_validator(mode="after")
    def _sizes(self) -> TrafficRouting:
        if self.Type == "CANARY":
            if self.CanarySize is None:
                raise ValueError("a CANARY deployment needs CanarySize (e.g. {Type: CAPACITY_PERCENT, Value: 10})")
            if self.CanarySize.Type == "CAPACITY_PERCENT" and self.CanarySize.Value > 50:
                raise ValueError(f"CanarySize {self.CanarySize.Value} % is over SageMaker's limit of 50 %")
        elif self.CanarySize is not None:
            raise ValueError(f"CanarySize is only for CANARY, not {self.Type}")
        if self.Type == "LINEAR":
            if self.LinearStepSize is None:
                raise ValueError("a LINEAR deployment needs LinearStepSize (e.g. {Type: CAPACITY_PERCENT, Value: 20})")
            if self.LinearStepSize.Type == "CAPACITY_PERCENT" and not 10 <= self.LinearStepSize.Value <= 50:
                raise ValueError(f"LinearStepSize {self.LinearStepSize.Value} % is outside SageMaker's 10-50 %")
        elif self.LinearStepSize is not None:
            raise ValueError(f"LinearStepSize is only for LINEAR, not {self.Type}")
        return self


GateMetric = Literal["Invocation5XXErrorRate", "ModelLatencyP99", "DataQualityViolations", "ModelQualityMetric"]


class Gate(_Strict):
    """A condition checked every `EvaluationIntervalSeconds` over the last `WindowSeconds`.

    - `Invocation5XXErrorRate`: share (0-1) of the new variant's invocations that failed with 5xx;
      fails above `Threshold`.
    - `ModelLatencyP99`: the new variant's p99 `ModelLatency` in milliseconds; fails above `Threshold`.
    - `DataQualityViolations`: the newest execution of monitoring schedule `ScheduleId` (a
      data-quality schedule over the new variant's capture) whose window ends after the deployment
      started; fails when it has more than `Threshold` violations.
    - `ModelQualityMetric`: the same for a model-quality schedule: fails when the execution reports
      a violation of `MetricName` (the metric fell below its constraint) — known once labels arrive.

    A window with fewer than `MinInvocations` invocations (or no such execution yet) is
    Inconclusive: it neither passes nor counts as a failure.
    """

    Name: ResourceName
    Metric: GateMetric
    Threshold: float = Field(ge=0)
    WindowSeconds: float = Field(default=60, gt=0, le=86_400)
    MinInvocations: int = Field(default=1, ge=0)
    ScheduleId: str | None = None
    MetricName: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> Gate:
        monitor = self.Metric in ("DataQualityViolations", "ModelQualityMetric")
        if monitor and not self.ScheduleId:
            raise ValueError(f"gate {self.Name}: {self.Metric} needs ScheduleId, the monitoring schedule over the "
                             "new variant's capture")
        if not monitor and self.ScheduleId:
            raise ValueError(f"gate {self.Name}: ScheduleId is only for DataQualityViolations / ModelQualityMetric")
        if self.Metric == "ModelQualityMetric" and not self.MetricName:
            raise ValueError(f"gate {self.Name}: ModelQualityMetric needs MetricName (e.g. accuracy, f1, mae)")
        if self.Metric == "Invocation5XXErrorRate" and self.Threshold > 1:
            raise ValueError(f"gate {self.Name}: Invocation5XXErrorRate is a share between 0 and 1, not "
                             f"{self.Threshold}")
        return self


class Alarm(_Strict):
    AlarmName: str


class AutoRollback(_Strict):
    """The gates that roll back (SageMaker: no alarms, no automatic rollback)."""

    Alarms: list[Alarm] = Field(default_factory=list, max_length=10)


class DeploymentSpec(_Strict):
    Kind: Literal["Deployment"] = "Deployment"
    TargetVariant: ResourceName = Field(description="The new (green) variant; it must be in the endpoint's "
                                                    "configuration")
    TrafficRoutingConfiguration: TrafficRouting = Field(default_factory=lambda: TrafficRouting())
    TerminationWaitInSeconds: float = Field(default=0, ge=0, le=3600,
                                            description="Bake: how long 100 % stays on the new variant, gated, "
                                                        "with the old fleet still loaded")
    MaximumExecutionTimeoutInSeconds: float = Field(default=28_800, ge=1, le=28_800)
    EvaluationIntervalSeconds: float = Field(default=10, gt=0, le=3600)
    FailureLimit: int = Field(default=1, ge=1, le=100,
                              description="Failed evaluations of one gate (in a row) that roll back")
    Gates: list[Gate] = Field(default_factory=list, max_length=20)
    AutoRollbackConfiguration: AutoRollback = Field(default_factory=lambda: AutoRollback())

    @model_validator(mode="after")
    def _alarms(self) -> DeploymentSpec:
        names = [g.Name for g in self.Gates]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicate gate Name {duplicated}")
        for i, alarm in enumerate(self.AutoRollbackConfiguration.Alarms):
            if alarm.AlarmName not in names:
                raise ValueError(f"AutoRollbackConfiguration.Alarms[{i}].AlarmName {alarm.AlarmName!r} is not a gate "
                                 f"(Gates are: {', '.join(names) or 'none'})")
        return self

    def rollback_gates(self) -> set[str]:
        return {a.AlarmName for a in self.AutoRollbackConfiguration.Alarms}


class ShadowSpec(_Strict):
    Kind: Literal["Shadow"] = "Shadow"
    SourceVariant: ResourceName
    ShadowVariant: ResourceName
    SamplingPercentage: float = Field(default=100, gt=0, le=100)
    DurationSeconds: float = Field(default=7 * 86_400, gt=0, le=30 * 86_400,
                                   description="SageMaker's default 7 days, 30 at most; the test then completes")
    QueueSize: int = Field(default=1000, ge=1, le=1_000_000,
                           description="Mirrored requests waiting for the shadow; when full they are counted drops")
    Concurrency: int = Field(default=2, ge=1, le=64)

    @model_validator(mode="after")
    def _two(self) -> ShadowSpec:
        if self.SourceVariant == self.ShadowVariant:
            raise ValueError("SourceVariant and ShadowVariant must differ")
        return self


StickyKey = Literal["header", "cookie", "inference-id"]


class ABVariant(_Strict):
    VariantName: ResourceName
    Weight: float = Field(gt=0)


class ABTestSpec(_Strict):
    Kind: Literal["ABTest"] = "ABTest"
    Variants: list[ABVariant] = Field(min_length=2, max_length=10)
    StickyBy: StickyKey = "inference-id"
    KeyName: str | None = Field(default=None, description="The header or cookie name (for StickyBy header/cookie)")
    Metric: Literal["accuracy", "mae", "mse"] = Field(
        default="accuracy", description="accuracy: two-proportion z-test; mae / mse: Welch's t-test")
    Alpha: float = Field(default=0.05, gt=0, lt=0.5)
    Power: float = Field(default=0.8, gt=0.5, lt=1)
    MinimumDetectableEffect: float = Field(default=0.02, gt=0)

    @model_validator(mode="after")
    def _key(self) -> ABTestSpec:
        names = [v.VariantName for v in self.Variants]
        if len(set(names)) != len(names):
            raise ValueError("each VariantName may appear once")
        if self.StickyBy in ("header", "cookie") and not self.KeyName:
            raise ValueError(f"StickyBy {self.StickyBy} needs KeyName (the {self.StickyBy}'s name)")
        return self


class BanditSpec(_Strict):
    Kind: Literal["Bandit"] = "Bandit"
    Arms: list[ResourceName] = Field(min_length=2, max_length=10)
    Policy: Literal["ThompsonSampling", "EpsilonGreedy", "UCB1"] = "ThompsonSampling"
    Epsilon: float = Field(default=0.1, ge=0, le=1, description="EpsilonGreedy's exploration rate")
    ExplorationFloor: float = Field(default=0.05, ge=0, description="Share of traffic every arm keeps at least")
    RewardFromLabel: Literal["match"] = Field(
        default="match", description="A ground-truth label gives reward 1 when it equals the arm's prediction, "
                                     "else 0")
    SyncSeconds: float = Field(default=1.0, gt=0, le=300,
                               description="How often each gateway writes its assignments and reads rewards")
    Seed: int | None = None

    @model_validator(mode="after")
    def _floor(self) -> BanditSpec:
        if len(set(self.Arms)) != len(self.Arms):
            raise ValueError("each arm may appear once")
        if self.ExplorationFloor * len(self.Arms) > 1:
            raise ValueError(f"ExplorationFloor {self.ExplorationFloor} x {len(self.Arms)} arms is over 100 % of "
                             "the traffic")
        return self


class AutoscalingSpec(_Strict):
    """SageMaker's target-tracking scaling policy on one variant (Application Auto Scaling's fields).

    Each instance of a variant with `InstanceType: local.process` is a worker process the gateway
    starts and stops; on `local.inprocess` variants only the recorded count changes. Every
    `EvaluationSeconds` (CloudWatch's 60 s period) the controller sums the variant's invocations over
    the period from every gateway process and applies `monitor_service.rollout.autoscaling.decide`,
    the function the simulator uses.
    """

    Kind: Literal["Autoscaling"] = "Autoscaling"
    VariantName: ResourceName
    MinCapacity: int = Field(ge=1, le=100)
    MaxCapacity: int = Field(ge=1, le=100)
    TargetTrackingScalingPolicyConfiguration: TargetTrackingConfiguration
    EvaluationSeconds: float = Field(default=60, gt=0, le=3600)

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingSpec:
        if self.MinCapacity > self.MaxCapacity:
            raise ValueError(f"MinCapacity {self.MinCapacity} is above MaxCapacity {self.MaxCapacity}")
        return self


RolloutSpec = Annotated[DeploymentSpec | ShadowSpec | ABTestSpec | BanditSpec | AutoscalingSpec,
                        Field(discriminator="Kind")]


class RolloutRequest(_Strict):
    """The body of `POST /api/v1/gateway/endpoints/{name}/rollouts`."""

    Spec: RolloutSpec
    Comment: str | None = Field(default=None, max_length=500)


def spec_variants(spec: DeploymentSpec | ShadowSpec | ABTestSpec | BanditSpec | AutoscalingSpec) -> list[str]:
    """Every variant a rollout names (each must exist in the endpoint's configuration)."""
    if isinstance(spec, DeploymentSpec):
        return [spec.TargetVariant]
    if isinstance(spec, ShadowSpec):
        return [spec.SourceVariant, spec.ShadowVariant]
    if isinstance(spec, ABTestSpec):
        return [v.VariantName for v in spec.Variants]
    if isinstance(spec, AutoscalingSpec):
        return [spec.VariantName]
    return list(spec.Arms)


def slot(spec: DeploymentSpec | ShadowSpec | ABTestSpec | BanditSpec | AutoscalingSpec) -> str:
    """Rollouts in the same slot of an endpoint exclude each other (one routing, one shadow, one policy per
    variant)."""
    if isinstance(spec, ShadowSpec):
        return "shadow"
    if isinstance(spec, AutoscalingSpec):
        return f"autoscaling:{spec.VariantName}"
    return "routing"


class FeedbackItem(BaseModel):
    """A reward (0-1) or a ground-truth label for one inference id (bandits and A/B tests)."""

    model_config = ConfigDict(extra="forbid")

    InferenceId: str = Field(min_length=1, max_length=64)
    Reward: float | None = Field(default=None, ge=0, le=1)
    GroundTruth: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one(self) -> FeedbackItem:
        if (self.Reward is None) == (self.GroundTruth is None):
            raise ValueError("give exactly one of Reward (0-1) and GroundTruth (the label)")
        return self


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Feedback: list[FeedbackItem] = Field(min_length=1, max_length=10_000)


def parse_feedback(data: Any) -> list[FeedbackItem]:
    if isinstance(data, dict) and "Feedback" not in data:
        data = {"Feedback": [data]}
    elif isinstance(data, list):
        data = {"Feedback": data}
    return FeedbackBody.model_validate(data).Feedback
