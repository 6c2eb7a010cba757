"""Webhook subscriptions and their delivery log (an outbox written with the execution result).

A delivery row is created in the same transaction that records a CompletedWithViolations or
Failed execution, so an alert is never lost between "stored" and "sent"; the scheduler's
dispatcher then sends it (see `monitor_service.alerts.dispatcher`).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from monitor_service.errors import NotFoundError
from monitor_service.service.common import new_id
from monitor_service.store.models import Execution, Violation, Webhook, WebhookDelivery

Event = Literal["execution.completed_with_violations", "execution.failed"]
EVENTS: tuple[str, ...] = get_args(Event)
DeliveryStatus = Literal["Pending", "Delivered", "Failed"]
EVENT_BY_STATUS = {"CompletedWithViolations": EVENTS[0], "Failed": EVENTS[1]}
PREVIEW_VIOLATIONS = 20


def create_webhook(session: Session, *, name: str, url: str, secret: str | None, events: list[str],
                   schedule_id: str | None, now: datetime) -> Webhook:
    webhook = Webhook(id=new_id(), name=name, url=url, secret=secret or secrets.token_urlsafe(32),
                      events=events, schedule_id=schedule_id, enabled=True, created_at=now)
    session.add(webhook)
    session.flush()
    return webhook


def get_webhook(session: Session, webhook_id: str) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFoundError(f"webhook {webhook_id} does not exist")
    return webhook


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.created_at, Webhook.id)))


def delete_webhook(session: Session, webhook_id: str) -> None:
    session.delete(get_webhook(session, webhook_id))


def list_deliveries(session: Session, *, webhook_id: str | None, execution_id: str | None, status: str | None,
                    limit: int) -> list[WebhookDelivery]:
    query = select(WebhookDelivery)
    for column, value in ((WebhookDelivery.webhook_id, webhook_id), (WebhookDelivery.execution_id, execution_id),
                          (WebhookDelivery.status, status)):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
    return list(session.scalars(query))


def alert_payload(execution: Execution, schedule_name: str | None, violations: list[Violation],
                  delivery_id: str, event: str) -> dict[str, Any]:
    """The JSON body of an alert: what happened, where, and the first violations as evidence."""
    def stamp(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    return {
        "event": event,
        "delivery_id": delivery_id,
        "execution": {
            "id": execution.id, "schedule_id": execution.schedule_id, "schedule_name": schedule_name,
            "monitor_type": execution.monitor_type, "status": execution.status,
            "window_start": stamp(execution.window_start), "window_end": stamp(execution.window_end),
            "violation_count": execution.violation_count, "failure_reason": execution.failure_reason,
            "artifact_dir": execution.artifact_dir, "url": f"/api/v1/executions/{execution.id}",
        },
        "violations": [_violation(v) for v in violations[:PREVIEW_VIOLATIONS]],
    }


def _violation(row: Violation) -> dict[str, Any]:
    """One violation as evidence; the metric and details appear where the monitor type names them."""
    entry: dict[str, Any] = {"feature_name": row.feature_name, "constraint_check_type": row.check_type,
                             "description": row.description}
    if row.metric_name is not None:
        entry["metric_name"] = row.metric_name
    if row.details:
        entry["details"] = row.details
    return entry


def enqueue_alerts(session: Session, *, execution: Execution, schedule_name: str | None,
                   violations: list[Violation], now: datetime) -> list[str]:
    """Create one Pending delivery per subscribed, enabled webhook; returns their ids."""
    event = EVENT_BY_STATUS.get(execution.status)
    if event is None:
        return []
    scope = Webhook.schedule_id.is_(None)
    if execution.schedule_id is not None:
        scope = or_(scope, Webhook.schedule_id == execution.schedule_id)
    ids = []
    for webhook in session.scalars(select(Webhook).where(Webhook.enabled.is_(True), scope)):
        if event not in webhook.events:
            continue
        delivery_id = new_id()
        body = json.dumps(alert_payload(execution, schedule_name, violations, delivery_id, event),
                          separators=(",", ":"), sort_keys=True)
        session.add(WebhookDelivery(id=delivery_id, webhook_id=webhook.id, execution_id=execution.id, event=event,
                                    payload=body, status="Pending", attempts=0, next_attempt_at=now,
                                    created_at=now))
        ids.append(delivery_id)
    session.flush()
    return ids
