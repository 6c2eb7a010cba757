"""Deployment strategies over REST: start, watch, promote, roll back and stop rollouts; their history.

A rollout is a blue/green deployment (canary / linear / all-at-once, gated, auto-rollback), a shadow
test, an A/B test or a bandit on one endpoint (docs/deployments.md). Gateway processes started
with `monitor gateway --database` route by it within `Gateway.PollSeconds`; the controller runs in
one of them. Read keys watch; admin keys change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from monitor_service.api.deps import ReadAccess, ResourcesDep, SessionDep, require_admin
from monitor_service.rollout.specs import FeedbackItem
from monitor_service.security.text import JsonDocument, RequestModel
from monitor_service.service import gateway as gateway_service
from monitor_service.service import rollouts as service
from monitor_service.store.models import ApiKey
from monitor_service.store.rollout_models import Rollout, RolloutEvent

router = APIRouter(prefix="/api/v1/gateway", tags=["rollouts"], dependencies=[ReadAccess])
AdminKey = Annotated[ApiKey, Depends(require_admin)]

START_DESCRIPTION = """`Spec.Kind` picks the strategy:
`Deployment` (SageMaker's BlueGreenUpdatePolicy: `TargetVariant`, `TrafficRoutingConfiguration`,
`TerminationWaitInSeconds`, `Gates`, `FailureLimit`, `AutoRollbackConfiguration`), `Shadow`
(`SourceVariant`, `ShadowVariant`, `SamplingPercentage`), `ABTest` (`Variants` with weights,
`StickyBy` header / cookie / inference-id) or `Bandit` (`Arms`, `Policy`, `ExplorationFloor`).
Every variant named must be in the endpoint's configuration (add a new one with weight 0 first).
One routing rollout (deployment, A/B test or bandit) and one shadow test per endpoint at a time."""


class RolloutOut(BaseModel):
    id: str
    EndpointName: str
    Kind: str
    Status: str = Field(description="InProgress, Completed, RolledBack or Stopped")
    Reason: str | None
    Comment: str | None
    Spec: dict[str, Any]
    State: dict[str, Any] = Field(description="Deployment: phase, steps, step, weights, old_weights, failures "
                                              "per gate, evaluations; others: phase and the weights before")
    Arms: dict[str, dict[str, Any]] | None = Field(default=None, description="Bandits and A/B tests: "
                                                   "assignments, rewards and mean reward per variant")
    CreatedBy: str | None
    CreatedAt: datetime
    UpdatedAt: datetime
    FinishedAt: datetime | None


class EventOut(BaseModel):
    id: int
    Kind: str
    Detail: dict[str, Any]
    Actor: str | None
    At: datetime


class PromoteBody(RequestModel):
    model_config = ConfigDict(extra="forbid")

    VariantName: str | None = Field(default=None, description="A/B tests and bandits: the variant that takes all "
                                                              "the traffic (default: the best arm)")


_NO_CHOICE = PromoteBody()


def _out(session: Any, row: Rollout) -> RolloutOut:
    arms = service.arm_stats(session, row.id) if row.kind in ("Bandit", "ABTest") else None
    return RolloutOut(id=row.id, EndpointName=row.endpoint_name, Kind=row.kind, Status=row.status, Reason=row.reason,
                      Comment=row.comment, Spec=row.spec, State=row.state, Arms=arms, CreatedBy=row.created_by,
                      CreatedAt=row.created_at, UpdatedAt=row.updated_at, FinishedAt=row.finished_at)


def _event(row: RolloutEvent) -> EventOut:
    return EventOut(id=row.id, Kind=row.kind, Detail=row.detail, Actor=row.actor, At=row.created_at)


@router.post("/endpoints/{endpoint_name}/rollouts", status_code=201, summary="Start a rollout",
             description=START_DESCRIPTION)
def start_rollout(endpoint_name: str, session: SessionDep, resources: ResourcesDep, key: AdminKey,
                  body: Annotated[JsonDocument, Body(description="{Spec: {...}, Comment}")]) -> RolloutOut:
    request = service.parse_request(body)
    return _out(session, service.start(session, endpoint_name, request, now=resources.clock.now(), created_by=key.id))


class EndpointUpdate(RequestModel):
    """SageMaker's UpdateEndpoint with a DeploymentConfig (the endpoint is in the path)."""

    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] = Field(alias="Config", description="The whole gateway configuration, as PUT /config "
                                     "takes it, with the new variant added to this endpoint")
    DeploymentConfig: dict[str, Any] = Field(description="BlueGreenUpdatePolicy (TrafficRoutingConfiguration, "
                                             "TerminationWaitInSeconds, MaximumExecutionTimeoutInSeconds), "
                                             "AutoRollbackConfiguration, and Gates / FailureLimit / "
                                             "EvaluationIntervalSeconds")
    Comment: str | None = Field(default=None, max_length=500)


@router.post("/endpoints/{endpoint_name}/update", status_code=201,
             summary="UpdateEndpoint: store a configuration that adds a variant and deploy to it blue/green")
def update_endpoint(endpoint_name: str, body: EndpointUpdate, session: SessionDep, resources: ResourcesDep,
                    key: AdminKey) -> RolloutOut:
    """One step where `PUT /config` then `POST .../rollouts` take two: the new variant is stored at
    weight 0 (the others keep their live weights) and its Deployment starts in the same transaction."""
    row = service.update_endpoint(session, endpoint_name, body.document, body.DeploymentConfig,
                                  now=resources.clock.now(), created_by=key.id, comment=body.Comment)
    return _out(session, row)


@router.get("/rollouts", summary="Rollouts, newest first")
def list_rollouts(session: SessionDep, endpoint: str | None = None,
                  status: Annotated[str | None, Query(pattern="^(InProgress|Completed|RolledBack|Stopped)$")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[RolloutOut]:
    return [_out(session, r) for r in service.list_rollouts(session, endpoint=endpoint, status=status, limit=limit)]


@router.get("/rollouts/{rollout_id}", summary="One rollout's state (step, weights, gates)")
def get_rollout(rollout_id: str, session: SessionDep) -> RolloutOut:
    return _out(session, service.get_rollout(session, rollout_id))


@router.get("/rollouts/{rollout_id}/events", summary="The rollout's audited history, oldest first")
def rollout_events(rollout_id: str, session: SessionDep, kind: str | None = None,
                   after: Annotated[int, Query(ge=0, description="Only events with a larger id (for watching)")] = 0,
                   limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[EventOut]:
    return [_event(e) for e in service.events(session, rollout_id, kind=kind, after=after, limit=limit)]


@router.get("/rollouts/{rollout_id}/report", summary="A/B test report (metrics per variant, significance) or "
            "shadow comparison (agreement, prediction difference, quality against the service's ground truth)")
def rollout_report(rollout_id: str, session: SessionDep, resources: ResourcesDep) -> dict[str, Any]:
    from monitor_service.ground_truth.folder import ground_truth_folder

    return service.report(session, service.get_rollout(session, rollout_id),
                          ground_truth=ground_truth_folder(resources.artifacts))


@router.post("/rollouts/{rollout_id}/promote", summary="Promote: the new variant takes all the traffic now")
def promote(rollout_id: str, session: SessionDep, resources: ResourcesDep, key: AdminKey,
            body: PromoteBody = _NO_CHOICE) -> RolloutOut:
    row = service.promote(session, rollout_id, variant=body.VariantName, now=resources.clock.now(),
                          actor=key.id)
    return _out(session, row)


@router.post("/rollouts/{rollout_id}/rollback", summary="Roll back: the traffic returns to where it was")
def roll_back(rollout_id: str, session: SessionDep, resources: ResourcesDep, key: AdminKey) -> RolloutOut:
    return _out(session, service.roll_back(session, rollout_id, now=resources.clock.now(), actor=key.id))


@router.post("/rollouts/{rollout_id}/stop", summary="Stop (a deployment halts at its current weights)")
def stop(rollout_id: str, session: SessionDep, resources: ResourcesDep, key: AdminKey) -> RolloutOut:
    return _out(session, service.stop(session, rollout_id, now=resources.clock.now(), actor=key.id))


class FeedbackIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    Feedback: list[FeedbackItem] = Field(min_length=1, max_length=10_000)


@router.post("/endpoints/{endpoint_name}/feedback", status_code=202,
             summary="Rewards or ground-truth labels by inference id (bandits and A/B tests)")
def feedback(endpoint_name: str, body: FeedbackIn, session: SessionDep, resources: ResourcesDep,
             key: AdminKey) -> dict[str, int]:
    gateway_service.describe_endpoint(session, endpoint_name)
    rows = [i.model_dump(exclude_none=True) for i in body.Feedback]
    return {"accepted": service.add_feedback(session, endpoint_name, rows, resources.clock.now())}
