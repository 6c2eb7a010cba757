"""Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by Playwright.

Playwright never downloads a browser here: it launches the system binary (`executable_path`)
with the flags this machine needs (no sandbox as root, no background networking: the network
is closed and Chromium's own connections would only fail). `scripts/test.sh` installs the
Debian package when it is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


class BrowserMissing(RuntimeError):
    pass


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched Playwright Browser (closed on exit)."""
    if shutil.which(CHROMIUM) is None:
        raise BrowserMissing(f"{CHROMIUM} is missing: run `bash scripts/test.sh` (it installs Debian's chromium) "
                             "or `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


def graph_traces(page: Any, selector: str = ".js-plotly-plot") -> list[dict[str, Any]]:
    """For every plotly graph div under `selector`: its id, the id of the section holding it and its traces
    (as plotly holds them after drawing: name, type, x, y, line dash, marker symbol)."""
    return list(page.evaluate("""(selector) => Array.from(document.querySelectorAll(selector)).map(div => ({
        id: div.id, section: (div.closest('section') || {}).id || null,
        traces: (div.data || []).map(t => ({name: t.name, type: t.type, mode: t.mode || null,
                                            x: Array.from(t.x || []), y: Array.from(t.y || []),
                                            dash: (t.line || {}).dash || null,
                                            symbol: (t.marker || {}).symbol || null,
                                            customdata: t.customdata ? Array.from(t.customdata) : null}))}))""",
                                  selector))
