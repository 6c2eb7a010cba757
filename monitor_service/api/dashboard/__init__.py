"""The web dashboard at `/ui` of `monitor serve`: server-rendered pages (Jinja2) with plotly charts.

No build step and no CDN: the templates and the small script ship in this package, and plotly.js
is served from the installed plotly package. Pages are behind the API keys (sign in with a key,
get a session cookie); what a schedule's page draws comes from its monitor type's plugin
(`MonitorPlugin.dashboard_panels`), and other packages add views as `DashboardExtension`s.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from monitor_service.api.dashboard import baseline_pages, pages
from monitor_service.api.dashboard.extensions import DashboardExtension
from monitor_service.api.dashboard.render import install_error_pages
from monitor_service.api.dashboard.security import PREFIX


def install_dashboard(app: FastAPI, extensions: Sequence[DashboardExtension] = ()) -> None:
    """Mount the pages (and the extensions' pages) and turn errors under /ui into HTML pages."""
    app.include_router(pages.router)
    app.include_router(baseline_pages.router)
    for extension in extensions:
        if extension.router is not None:
            app.include_router(extension.router, prefix=PREFIX, include_in_schema=False)
    app.state.dashboard_nav = tuple(item for extension in extensions for item in extension.nav)
    app.state.dashboard_overview = tuple(e.overview for e in extensions if e.overview is not None)
    install_error_pages(app)


__all__ = ["DashboardExtension", "install_dashboard"]
