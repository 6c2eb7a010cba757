"""The dashboard's endpoint pages: every gateway endpoint, and one endpoint's variants with their
weights, invocations, errors, latency and capture counters, and its weight history.

Installed as a built-in `DashboardExtension` (a router, a navigation entry and an overview block),
so the dashboard core knows nothing about the gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from monitor_service.api.dashboard.endpoint_view import endpoints_view, shares, weight_history
from monitor_service.api.dashboard.extensions import Cell, DashboardExtension, OverviewBlock
from monitor_service.api.dashboard.render import page
from monitor_service.api.dashboard.security import Viewer
from monitor_service.api.deps import ResourcesDep, SessionDep
from monitor_service.errors import NotFoundError
from monitor_service.service import gateway as stored
from monitor_service.settings import Settings

router = APIRouter()


@router.get("/endpoints")
def endpoints_page(request: Request, viewer: Viewer, session: SessionDep, resources: ResourcesDep) -> HTMLResponse:
    view = endpoints_view(session, resources.settings)
    return page(request, "endpoints.html", viewer=viewer, view=view)


@router.get("/endpoints/{endpoint_name}")
def endpoint_page(request: Request, endpoint_name: str, viewer: Viewer, session: SessionDep,
                  resources: ResourcesDep) -> HTMLResponse:
    view = endpoints_view(session, resources.settings, only=endpoint_name)
    if not view.endpoints:
        raise NotFoundError(f"endpoint {endpoint_name!r} is neither in the gateway configuration nor reported by "
                            "a gateway", hint="the Endpoints page lists the known ones")
    row = view.endpoints[0]
    charts = [{"id": "shares", "figure": shares(row)}]
    if row.stored:
        changes = stored.weight_changes(session, endpoint_name, limit=200)
        states = stored.variant_states(session, endpoint_name)
        config = stored.current_config(session)
        since = config.created_at if config else None
        changes = [c for c in changes if since is None or c.created_at >= since]
        charts.append({"id": "weights", "figure": weight_history(changes, states, since, resources.clock.now())})
    else:
        changes = []
    return page(request, "endpoint.html", viewer=viewer, view=view, row=row, charts=charts, changes=changes[:20])


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def overview_block(settings: Settings) -> Callable[[Session, datetime], OverviewBlock | None]:
    """Every endpoint with its variants' weight shares, invocations and errors (None: no gateway at all)."""
    def block(session: Session, now: datetime) -> OverviewBlock | None:
        view = endpoints_view(session, settings)
        if not view.endpoints and not view.configured:
            return None
        rows = []
        for row in view.endpoints:
            variants = ", ".join(f"{v.name} {_percent(v.share)}".strip() for v in row.variants)
            errors = row.errors
            rows.append([Cell(row.name, href=f"/endpoints/{row.name}"), Cell(variants),
                         Cell(f"{row.invocations:,.0f}" if view.configured else "no gateway URL"),
                         Cell(f"{errors:,.0f}", tone="bad" if errors else "ok"),
                         Cell(f"{row.dropped:,.0f}", tone="bad" if row.dropped else "ok")])
        down = [g for g in view.gateways if g.error]
        title = "Endpoints" + (f" ({len(down)} of {len(view.gateways)} gateways not answering)" if down else "")
        return OverviewBlock(title, ("endpoint", "variants (weight share)", "invocations", "errors",
                                     "capture dropped or refused"), rows,
                             empty="No endpoint yet: PUT /api/v1/gateway/config or start `monitor gateway`.")
    return block


def extension(settings: Settings) -> DashboardExtension:
    return DashboardExtension(name="endpoints", router=router, nav=(("Endpoints", "/endpoints"),),
                              overview=overview_block(settings))
