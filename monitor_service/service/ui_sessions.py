"""Dashboard sessions: signing in with an API key gives a random token kept in an HttpOnly cookie.

Only the token's SHA-256 hash is stored (like API keys), so the table cannot be replayed; a
session is valid while it has not expired and its API key is active, so revoking the key ends
every session opened with it. The CSRF token of a session is an HMAC of its secret token: the
page gets it, a cross-site form cannot know it, and nothing more needs storing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from monitor_service.service.apikeys import authenticate, hash_key
from monitor_service.service.common import new_id
from monitor_service.store.models import ApiKey, UiSession


@dataclass(frozen=True)
class SignedIn:
    """The caller of a dashboard request: the session's key and the session's CSRF token."""

    key: ApiKey
    session_id: str
    csrf: str
    expires_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.key.role == "admin"


def csrf_token(token: str) -> str:
    return hmac.new(token.encode(), b"monitor-dashboard-csrf", hashlib.sha256).hexdigest()


def sign_in(session: Session, plain_key: str, *, now: datetime, lifetime: timedelta) -> tuple[SignedIn, str] | None:
    """A new session for an active API key and its cookie token, or None for a wrong or revoked key.

    Expired sessions are deleted on the way (sign-ins are rare, so this keeps the table small).
    """
    key = authenticate(session, plain_key.strip())
    if key is None:
        return None
    session.execute(delete(UiSession).where(UiSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    row = UiSession(id=new_id(), token_hash=hash_key(token), api_key_id=key.id, created_at=now,
                    expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return SignedIn(key=key, session_id=row.id, csrf=csrf_token(token), expires_at=row.expires_at), token


def resolve(session: Session, token: str, *, now: datetime) -> SignedIn | None:
    """The live session of a cookie token: not expired, and its key not revoked."""
    found = session.execute(
        select(UiSession, ApiKey).join(ApiKey, ApiKey.id == UiSession.api_key_id)
        .where(UiSession.token_hash == hash_key(token), UiSession.expires_at > now, ApiKey.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    row, key = found
    return SignedIn(key=key, session_id=row.id, csrf=csrf_token(token), expires_at=row.expires_at)


def sign_out(session: Session, token: str) -> None:
    session.execute(delete(UiSession).where(UiSession.token_hash == hash_key(token)))
