"""The inference gateway's configuration and variant weights (read keys view, admin keys change).

Gateway processes started with `monitor gateway --database` poll the database and apply a change
within `Gateway.PollSeconds`, whole (a new configuration or a weight change is one version).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from monitor_service.api.deps import ReadAccess, ResourcesDep, SessionDep, require_admin
from monitor_service.gateway.config import parse_config
from monitor_service.security.text import JsonDocument, RequestModel
from monitor_service.service import gateway as service
from monitor_service.store.gateway_models import GatewayConfigVersion, GatewayVariantState, GatewayWeightChange
from monitor_service.store.models import ApiKey

router = APIRouter(prefix="/api/v1/gateway", tags=["gateway"], dependencies=[ReadAccess])
AdminKey = Annotated[ApiKey, Depends(require_admin)]

CONFIG_DESCRIPTION = """The whole gateway configuration in SageMaker's vocabulary (`Models`, `Endpoints` with
`ProductionVariants` and `DataCaptureConfig`, optional `Gateway`), as in the file `monitor gateway --config`
reads (docs/gateway.md). It is validated whole; an error names the key. Storing it is SageMaker's
`UpdateEndpoint`: variant weights are reset to `InitialVariantWeight` unless `retain_variant_properties=true`
(`RetainAllVariantProperties`) keeps the live weights of variants that still exist."""


class ConfigVersionOut(BaseModel):
    version: int
    comment: str | None
    created_by: str | None = Field(description="Id of the API key that stored it (null: imported by a gateway)")
    created_at: datetime


class ConfigOut(BaseModel):
    version: int | None = Field(description="null until a configuration is stored")
    comment: str | None
    created_by: str | None = Field(description="Id of the API key that stored it (null: imported by a gateway)")
    created_at: datetime | None
    config: dict[str, Any]


class VariantOut(BaseModel):
    VariantName: str
    ModelName: str
    CurrentWeight: float
    DesiredWeight: float
    CurrentInstanceCount: int
    DesiredInstanceCount: int
    UpdatedAt: datetime


class EndpointOut(BaseModel):
    EndpointName: str
    ProductionVariants: list[VariantOut]


class DesiredWeightAndCapacity(RequestModel):
    model_config = ConfigDict(extra="forbid")

    VariantName: str = Field(min_length=1, max_length=63)
    DesiredWeight: float | None = Field(default=None, ge=0)
    DesiredInstanceCount: int | None = Field(default=None, ge=1)


class WeightsUpdate(RequestModel):
    """SageMaker's UpdateEndpointWeightsAndCapacities request (the endpoint is in the path)."""

    model_config = ConfigDict(extra="forbid")

    DesiredWeightsAndCapacities: list[DesiredWeightAndCapacity] = Field(min_length=1, max_length=10)


class WeightChangeOut(BaseModel):
    id: int
    EndpointName: str
    DesiredWeightsAndCapacities: list[dict[str, Any]]
    Previous: list[dict[str, Any]]
    state_version: int
    created_by: str | None
    created_at: datetime


def _version(row: GatewayConfigVersion) -> dict[str, Any]:
    return {"version": row.version, "comment": row.comment, "created_by": row.created_by,
            "created_at": row.created_at}


def _endpoints(states: list[GatewayVariantState]) -> list[EndpointOut]:
    out: dict[str, EndpointOut] = {}
    for s in states:
        out.setdefault(s.endpoint_name, EndpointOut(EndpointName=s.endpoint_name, ProductionVariants=[]))
        out[s.endpoint_name].ProductionVariants.append(VariantOut(
            VariantName=s.variant_name, ModelName=s.model_name, CurrentWeight=s.current_weight,
            DesiredWeight=s.desired_weight, CurrentInstanceCount=s.current_instance_count,
            DesiredInstanceCount=s.desired_instance_count, UpdatedAt=s.updated_at))
    return list(out.values())


def _change(row: GatewayWeightChange) -> WeightChangeOut:
    return WeightChangeOut(id=row.id, EndpointName=row.endpoint_name, DesiredWeightsAndCapacities=row.changes,
                           Previous=row.previous, state_version=row.state_version, created_by=row.created_by,
                           created_at=row.created_at)


@router.get("/config", summary="The configuration in force (version null and no endpoints before the first PUT)")
def get_config(session: SessionDep) -> ConfigOut:
    row = service.current_config(session)
    if row is None:  # what a gateway following the database serves: nothing yet
        return ConfigOut(version=None, comment="no configuration stored yet; PUT /api/v1/gateway/config stores one",
                         created_by=None, created_at=None, config={"Models": [], "Endpoints": []})
    return ConfigOut(**_version(row), config=row.document)


@router.put("/config", summary="Store a new configuration (UpdateEndpoint)", description=CONFIG_DESCRIPTION)
def put_config(session: SessionDep, resources: ResourcesDep, key: AdminKey,
               document: Annotated[JsonDocument, Body(description="The configuration document")],
               retain_variant_properties: bool = False,
               comment: Annotated[str | None, Query(max_length=500)] = None) -> ConfigOut:
    config = parse_config(document, "gateway config")
    row = service.put_config(session, config, now=resources.clock.now(), created_by=key.id, comment=comment,
                             retain_variant_properties=retain_variant_properties)
    return ConfigOut(**_version(row), config=row.document)


@router.get("/config/versions", summary="Stored configurations, newest first")
def config_versions(session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ConfigVersionOut]:
    return [ConfigVersionOut(**_version(r)) for r in service.config_history(session, limit)]


@router.get("/endpoints", summary="Every endpoint's variants with their live weights (DescribeEndpoint)")
def list_endpoints(session: SessionDep) -> list[EndpointOut]:
    return _endpoints(service.variant_states(session))


@router.get("/endpoints/{endpoint_name}", summary="One endpoint's variants with their live weights")
def describe_endpoint(endpoint_name: str, session: SessionDep) -> EndpointOut:
    return _endpoints(service.describe_endpoint(session, endpoint_name))[0]


@router.post("/endpoints/{endpoint_name}/weights", summary="UpdateEndpointWeightsAndCapacities (recorded)")
def update_weights(endpoint_name: str, body: WeightsUpdate, session: SessionDep, resources: ResourcesDep,
                   key: AdminKey) -> EndpointOut:
    desired = [d.model_dump(exclude_none=True) for d in body.DesiredWeightsAndCapacities]
    _, states = service.update_weights(session, endpoint_name, desired, now=resources.clock.now(), created_by=key.id)
    return _endpoints(states)[0]


@router.get("/endpoints/{endpoint_name}/weight-changes", summary="Recorded weight changes, newest first")
def weight_changes(endpoint_name: str, session: SessionDep,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[WeightChangeOut]:
    service.describe_endpoint(session, endpoint_name)
    return [_change(r) for r in service.weight_changes(session, endpoint_name, limit)]
