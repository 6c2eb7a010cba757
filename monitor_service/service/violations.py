"""Violation queries: filtered, newest first (by the end of the analysed window), keyset-paged.

The keyset `(window_end, id)` matches the composite indexes on the table, so every page costs
an index range scan of `limit` rows whatever the table size (see bench/violation_queries.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor_service.service.common import keyset_page
from monitor_service.store.models import Violation


def list_violations(session: Session, *, schedule_id: str | None = None, monitor_type: str | None = None,
                    feature: str | None = None, check_type: str | None = None, metric: str | None = None,
                    execution_id: str | None = None,
                    since: datetime | None = None, until: datetime | None = None, cursor: str | None = None,
                    limit: int = 100) -> tuple[list[Violation], str | None]:
    query = select(Violation)
    for column, value in ((Violation.schedule_id, schedule_id), (Violation.monitor_type, monitor_type),
                          (Violation.feature_name, feature), (Violation.check_type, check_type),
                          (Violation.metric_name, metric),
                          (Violation.execution_id, execution_id)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Violation.window_end >= since)
    if until is not None:
        query = query.where(Violation.window_end < until)
    return keyset_page(session, query, when=Violation.window_end, key=Violation.id, cursor=cursor, limit=limit)
