"""HMAC-SHA256 signatures on webhook bodies, so receivers can trust and date an alert.

The signed message is `{timestamp}.{body}`: including the timestamp lets a receiver reject
replays of old deliveries (compare `X-Monitor-Timestamp` with its clock, e.g. within 5 minutes).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Monitor-Signature"
TIMESTAMP_HEADER = "X-Monitor-Timestamp"


def sign(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: int, body: str, signature: str) -> bool:
    """What a receiver does (used by our tests and the demo's receiver)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def headers(secret: str, timestamp: int, body: str, *, event: str, delivery_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "monitor-service-webhooks",
        "X-Monitor-Event": event,
        "X-Monitor-Delivery": delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
