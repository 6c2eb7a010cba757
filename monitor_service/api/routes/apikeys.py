"""API keys (admin only): create, list, revoke. Keys are shown once, at creation."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from monitor_service.api.deps import AdminAccess, ResourcesDep, SessionDep
from monitor_service.security.text import RequestModel
from monitor_service.service import apikeys as service
from monitor_service.service.roles import Role

router = APIRouter(prefix="/api/v1/apikeys", tags=["api keys"], dependencies=[AdminAccess])


class ApiKeyCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    name: str = Field(default="", max_length=100)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself; it is not stored and cannot be shown again")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
def create_key(body: ApiKeyCreate, session: SessionDep, resources: ResourcesDep) -> ApiKeyCreated:
    key, plain = service.create_key(session, role=body.role, name=body.name, now=resources.clock.now())
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=plain)


@router.get("", response_model=list[ApiKeyOut])
def list_keys(session: SessionDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in service.list_keys(session)]


@router.delete("/{key_id}", response_model=ApiKeyOut, summary="Revoke a key")
def revoke_key(key_id: str, session: SessionDep, resources: ResourcesDep) -> ApiKeyOut:
    return ApiKeyOut.model_validate(service.revoke_key(session, key_id=key_id, now=resources.clock.now()))
