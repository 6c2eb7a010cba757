"""Webhook subscriptions (admin) and their delivery log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response, status
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from monitor_service.api.deps import AdminAccess, ResourcesDep, SessionDep
from monitor_service.errors import InvalidField
from monitor_service.security.addresses import AddressRefused
from monitor_service.security.text import RequestModel
from monitor_service.service import webhooks as service
from monitor_service.service.schedules import get_schedule
from monitor_service.service.webhooks import DeliveryStatus, Event
from monitor_service.store.models import Webhook

router = APIRouter(prefix="/api/v1", tags=["webhooks"], dependencies=[AdminAccess])


class WebhookCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    url: AnyHttpUrl
    secret: str | None = Field(default=None, min_length=16, max_length=128,
                               description="HMAC-SHA256 key; generated when omitted (shown once)")
    events: list[Event] = Field(default_factory=lambda: list(service.EVENTS), min_length=1)
    schedule_id: str | None = Field(default=None, description="Only this schedule's executions; all when null")


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    url: str
    events: list[str]
    schedule_id: str | None
    enabled: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Verify X-Monitor-Signature with it; not shown again")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    webhook_id: str
    execution_id: str | None
    event: str
    status: str = Field(description="Pending | Delivered | Failed (after the last retry)")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: str


def _out(webhook: Webhook) -> WebhookOut:
    return WebhookOut.model_validate(webhook)


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookCreate, session: SessionDep, resources: ResourcesDep) -> WebhookCreated:
    try:
        resources.settings.address_policy().check_url(str(body.url))
    except AddressRefused as exc:
        raise InvalidField("url", exc.message) from None
    if body.schedule_id is not None:
        get_schedule(session, body.schedule_id)
    webhook = service.create_webhook(session, name=body.name, url=str(body.url), secret=body.secret,
                                     events=list(body.events), schedule_id=body.schedule_id,
                                     now=resources.clock.now())
    return WebhookCreated(**_out(webhook).model_dump(), secret=webhook.secret)


@router.get("/webhooks")
def list_webhooks(session: SessionDep) -> list[WebhookOut]:
    return [_out(w) for w in service.list_webhooks(session)]


@router.get("/webhooks/{webhook_id}")
def get_webhook(webhook_id: str, session: SessionDep) -> WebhookOut:
    return _out(service.get_webhook(session, webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: str, session: SessionDep) -> Response:
    service.delete_webhook(session, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", summary="The delivery log of one webhook, newest first")
def webhook_deliveries(webhook_id: str, session: SessionDep,
                       status: DeliveryStatus | None = None,
                       limit: int = Query(default=100, ge=1, le=1000)) -> list[DeliveryOut]:
    service.get_webhook(session, webhook_id)
    rows = service.list_deliveries(session, webhook_id=webhook_id, execution_id=None, status=status, limit=limit)
    return [DeliveryOut.model_validate(d) for d in rows]


@router.get("/deliveries", summary="Deliveries of all webhooks, e.g. for one execution, newest first")
def deliveries(session: SessionDep, execution_id: str | None = None,
               status: DeliveryStatus | None = None,
               limit: int = Query(default=100, ge=1, le=1000)) -> list[DeliveryOut]:
    rows = service.list_deliveries(session, webhook_id=None, execution_id=execution_id, status=status, limit=limit)
    return [DeliveryOut.model_validate(d) for d in rows]
