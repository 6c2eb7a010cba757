"""Where other packages plug views into the dashboard without the dashboard knowing them.

The gateway (endpoints, variants with weights, invocations, latency, capture counters,
deployments with their gates) is its own package and process; when it lands it adds its pages
as a `DashboardExtension`: a router mounted under `/ui` (its pages use the same sign-in through
`monitor_service.api.dashboard.security.viewer` and the same templates), entries for the navigation
bar, and blocks on the overview page (e.g. every endpoint with its variants and last deployment).
`create_app(..., dashboard_extensions=[...])` installs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Cell:
    """One table cell of an overview block: text, optionally a link inside the dashboard."""

    text: str
    href: str | None = None
    tone: str | None = None  # ok | bad | warn: drawn as a badge


@dataclass(frozen=True)
class OverviewBlock:
    """A table on the overview page (escaped by the template)."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    empty: str = "nothing yet"


@dataclass(frozen=True)
class DashboardExtension:
    name: str
    router: APIRouter | None = None  # paths relative to /ui
    nav: Sequence[tuple[str, str]] = ()  # (label, path under /ui)
    overview: Callable[[Session, datetime], OverviewBlock | None] | None = None
    extra: dict[str, object] = field(default_factory=dict)
