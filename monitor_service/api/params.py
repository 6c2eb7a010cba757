"""Query-parameter types shared by the routes.

`QueryTime` is an ISO-8601 time filter (`since`, `until`): a time without a zone is read as UTC
and every time is converted to UTC (the normalisation of `monitor_service.specs.Window`), so a
naive value never reaches the store. `QueryCursor` is the opaque `next_cursor` of a previous page;
the service decodes it and answers 422 naming `cursor` when it was tampered with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from monitor_service.specs import Window

utc = Window._utc  # naive means UTC, aware is converted: the one normalisation of window times

QueryTime = Annotated[Annotated[datetime, AfterValidator(utc)] | None, Query(
    description="ISO-8601, e.g. 2024-05-01T13:00:00Z; a time without a time zone is taken as UTC")]
QueryCursor = Annotated[str | None, Query(description="next_cursor of the previous page; omit for the first page")]
