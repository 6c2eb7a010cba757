"""Sends due webhook deliveries: signed, with exponential backoff, at least once.

A delivery is claimed by moving its `next_attempt_at` forward with a compare-and-set, so two
scheduler processes never post the same attempt; the move doubles as a lease: if the process
dies mid-request, the delivery becomes due again after the request timeout.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from monitor_service.alerts.signing import headers
from monitor_service.scheduler.clock import Clock
from monitor_service.security.addresses import AddressRefused, Resolver, system_resolver
from monitor_service.settings import Settings
from monitor_service.store.db import affected, transaction
from monitor_service.store.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """`url` without its user info and query (webhook URLs often carry a token there)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a broken IPv6 host: nothing of it is shown
        return "(an unparsable URL)"
    query = "REDACTED" if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, query, ""))


def redact(text: str) -> str:
    """`text` with every URL in it redacted, for logs and stored errors."""
    return _URL.sub(lambda match: redact_url(match.group()), text)


# What a delivery log says about a failed attempt: enough to act on, nothing about the network
# behind the URL (which error a connection ended with tells open ports from closed ones).
UNREACHABLE = "the receiver could not be reached or did not answer in time (no HTTP response)"


def delivery_error(exc: BaseException) -> str:
    """The recorded reason of a failed attempt; details go to the scheduler's log only."""
    if isinstance(exc, AddressRefused):
        return f"refused: {exc.message}"
    if isinstance(exc, httpx.ConnectError) and isinstance(exc.__cause__, AddressRefused):
        return f"refused: {exc.__cause__.message}"
    return UNREACHABLE


class Dispatcher:
    def __init__(self, factory: sessionmaker[Session], clock: Clock, settings: Settings,
                 client: httpx.Client, resolve: Resolver = system_resolver) -> None:
        self.factory, self.clock, self.settings, self.client = factory, clock, settings, client
        self.policy, self.resolve = settings.address_policy(), resolve

    def deliver_due(self, limit: int = 50) -> int:
        """Attempt every due delivery once; returns how many were attempted."""
        now = self.clock.now()
        with transaction(self.factory) as session:
            due = session.execute(
                select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
                .where(WebhookDelivery.status == "Pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all()
        attempted = 0
        for delivery_id, seen in due:
            if self._attempt(delivery_id, seen):
                attempted += 1
        return attempted

    def _attempt(self, delivery_id: str, seen: object) -> bool:
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds * 2)
        with transaction(self.factory) as session:
            claimed = affected(session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "Pending",
                       WebhookDelivery.next_attempt_at == seen)
                .values(next_attempt_at=lease, attempts=WebhookDelivery.attempts + 1)))
            if claimed != 1:
                return False
            delivery = session.get_one(WebhookDelivery, delivery_id)
            webhook = session.get_one(Webhook, delivery.webhook_id)
            url, secret, body, event, attempts = (webhook.url, webhook.secret, delivery.payload, delivery.event,
                                                  delivery.attempts)
        code, error = self._post(url, secret, body, event, delivery_id, int(now.timestamp()))
        with transaction(self.factory) as session:
            delivery = session.get_one(WebhookDelivery, delivery_id)
            delivery.last_status_code, delivery.last_error = code, error
            if error is None:
                delivery.status, delivery.delivered_at, delivery.next_attempt_at = "Delivered", self.clock.now(), None
            elif attempts >= self.settings.webhook_max_attempts:
                delivery.status, delivery.next_attempt_at = "Failed", None
                log.warning("webhook delivery %s to %s failed for good: %s", delivery_id, redact_url(url), error)
            else:
                backoff = self.settings.webhook_backoff_seconds * 2 ** (attempts - 1)
                delivery.next_attempt_at = self.clock.now() + timedelta(seconds=backoff)
        return True

    def _post(self, url: str, secret: str, body: str, event: str, delivery_id: str,
              timestamp: int) -> tuple[int | None, str | None]:
        try:
            self._check_address(url)
            response = self.client.post(url, content=body.encode(), timeout=self.settings.webhook_timeout_seconds,
                                        headers=headers(secret, timestamp, body, event=event,
                                                        delivery_id=delivery_id))
        except (httpx.HTTPError, AddressRefused) as exc:
            log.info("webhook delivery %s to %s: %s", delivery_id, redact_url(url),
                     redact(f"{exc.__class__.__name__}: {exc}"))
            return None, delivery_error(exc)
        if response.is_success:
            return response.status_code, None
        return response.status_code, f"the receiver answered HTTP {response.status_code}"

    def _check_address(self, url: str) -> None:
        """Refuse before sending when the host resolves to a forbidden address. The guarded client
        (`security.addresses.webhook_client`) checks again on the connection itself."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise AddressRefused("the webhook URL cannot be parsed") from exc
        if parts.scheme not in ("http", "https") or not host:
            raise AddressRefused("the webhook URL must be http:// or https:// with a host")
        self.policy.allowed_addresses(host, port, self.resolve)
