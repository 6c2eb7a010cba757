"""API keys: random secrets shown once, stored only as SHA-256 hashes.

The keys are 256-bit random tokens, so a fast hash is enough (there is nothing to brute-force
as with passwords) and lets every request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor_service.errors import ConfigError, NotFoundError
from monitor_service.service.common import new_id
from monitor_service.service.roles import ROLES
from monitor_service.store.models import ApiKey

KEY_PREFIX = "mon_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, role: str, name: str, now: datetime) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plain text, which is never stored or shown again."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}", hint=f"use one of {list(ROLES)}")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id=new_id(), name=name, role=role, key_hash=hash_key(plain), key_prefix=plain[:10],
                 created_at=now)
    session.add(key)
    session.flush()
    return key, plain


def authenticate(session: Session, plain: str) -> ApiKey | None:
    """The active key matching `plain`, or None."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plain)))
    return key if key is not None and key.revoked_at is None else None


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, *, key_id: str, now: datetime) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"API key {key_id} does not exist")
    if key.revoked_at is None:
        key.revoked_at = now
    return key
