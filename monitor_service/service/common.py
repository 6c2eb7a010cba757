"""Small shared pieces of the service layer: ids, the conflict error and keyset cursors."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from monitor_service.errors import ConfigError, StoreError


class ConflictError(StoreError):
    """The change clashes with existing state (a duplicate name, a baseline still in use)."""


class InvalidField(ConfigError):
    """A request value that is well-formed but unusable; `field` names it for the 422 answer."""

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        self.field = field
        super().__init__(message, hint=hint)


def new_id() -> str:
    return str(uuid.uuid4())


def encode_cursor(when: datetime | None, row_id: int | str) -> str:
    """An opaque keyset cursor: the sort key of the last row of a page."""
    stamp = "" if when is None else when.isoformat()
    return base64.urlsafe_b64encode(f"{stamp}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, str]:
    """Inverse of `encode_cursor`; a tampered cursor is a usage error naming the parameter."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|", 1)
        return (datetime.fromisoformat(stamp) if stamp else None), row_id
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidField("cursor", f"cursor {cursor!r} is not valid",
                           hint="pass next_cursor from the previous page") from exc
