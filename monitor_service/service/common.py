"""Small shared pieces of the service layer: ids and keyset paging."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from monitor_service.errors import InvalidField

_BIGINT_MAX = 2**63 - 1


def new_id() -> str:
    return str(uuid.uuid4())


def _encode_cursor(when: datetime, row_id: int | str) -> str:
    """An opaque keyset cursor: the sort key of the last row of a page."""
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def _bad_cursor(cursor: str) -> InvalidField:
    return InvalidField("cursor", f"cursor {cursor!r} is not valid", hint="pass next_cursor from the previous page",
                        location="query")


def _decode_cursor(cursor: str, id_type: type[Any] = str) -> tuple[datetime, Any]:
    """Inverse of `_encode_cursor`, the id converted to `id_type`; a tampered cursor (including one
    whose time has no zone, which `_encode_cursor` never writes) is a usage error naming the parameter."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|", 1)
        when, key = datetime.fromisoformat(stamp), id_type(row_id)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise _bad_cursor(cursor) from exc
    if when.tzinfo is None or (isinstance(key, int) and not 0 <= key <= _BIGINT_MAX):
        raise _bad_cursor(cursor)
    return when, key


def keyset_page(session: Session, query: Select[Any], *, when: InstrumentedAttribute[datetime],
                key: InstrumentedAttribute[Any], cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """One page of `query`, newest first by `(when, key)`, after the row `cursor` points at.

    The row-value comparison `(when, key) < (cursor's when, cursor's key)` is an index range scan
    on a composite index of the two columns, so a page costs `limit` rows whatever the table size.
    """
    if cursor is not None:
        after = _decode_cursor(cursor, key.type.python_type)
        query = query.where(tuple_(when, key) < tuple_(*after))
    rows = list(session.scalars(query.order_by(when.desc(), key.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return rows, (None if last is None else _encode_cursor(getattr(last, when.key), getattr(last, key.key)))
