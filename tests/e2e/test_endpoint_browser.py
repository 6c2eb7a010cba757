"""The endpoint pages in headless Chromium: a real `monitor serve` reading a real gateway's metrics.

The gateway takes its configuration from the service's database; traffic is sent to it, and the
page must draw the weight shares beside the observed shares and the weight history."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor_service.service.apikeys import create_key
from monitor_service.store.db import make_engine, make_sessionmaker, transaction
from tests.browser import graph_traces
from tests.e2e.harness import serve
from tests.e2e.test_dashboard_browser import _new_page
from tests.gateway.gateway_harness import Client, GatewayProcess, capture_config, gateway_block, script_model

pytestmark = pytest.mark.browser


def test_endpoint_page_draws_shares_and_weights(browser: Any, tmp_path: Path, artifacts_dir: Path) -> None:
    gateway = GatewayProcess(tmp_path, extra=["--database"])
    with serve(tmp_path, MONITOR_GATEWAY_URLS=f"http://127.0.0.1:{gateway.port}") as (url, settings, _log):
        gateway.env = {"MONITOR_DATABASE_URL": settings.database_url}
        engine = make_engine(settings)
        with transaction(make_sessionmaker(engine)) as session:
            key = create_key(session, role="admin", name="browser", now=datetime.now(UTC))[1]
        engine.dispose()
        document = {"Models": [script_model("model-a"), script_model("model-b")],
                    "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
                        {"VariantName": "Blue", "ModelName": "model-a", "InitialVariantWeight": 4.0},
                        {"VariantName": "Green", "ModelName": "model-b", "InitialVariantWeight": 1.0}],
                        "DataCaptureConfig": capture_config(tmp_path / "capture")}],
                    "Gateway": gateway_block(tmp_path)}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
            assert api.put("/api/v1/gateway/config", json=document).status_code == 200
            gateway.start()
            try:
                invoke = Client(gateway.port)
                served = Counter(invoke.invoke("churn", f"{i},1,2\n").headers["x-amzn-invoked-production-variant"]
                                 for i in range(100))
                invoke.close()
                page = _new_page(browser)
                page.goto(url + "/ui/endpoints/churn")
                page.fill("#key", key)
                page.click("#login-form button[type=submit]")
                page.wait_for_url(lambda u: u.endswith("/ui/endpoints/churn"))
                page.wait_for_function("Array.from(document.querySelectorAll('[data-figure]'))"
                                       ".every(d => d.getAttribute('data-drawn') === '1')")
                traces = {g["id"]: g["traces"] for g in graph_traces(page)}
                weight_share, observed = traces["shares"]
                assert weight_share["x"] == ["Blue", "Green"]
                assert weight_share["y"] == pytest.approx([0.8, 0.2])
                assert observed["y"] == pytest.approx([served["Blue"] / 100, served["Green"] / 100])
                assert {t["name"] for t in traces["weights"]} == {"Blue", "Green"}
                assert page.inner_text('tr[data-variant="Blue"] td.invocations') == f"{served['Blue']:,}"
                assert page.errors == []  # type: ignore[attr-defined]
                page.screenshot(path=str(artifacts_dir / "endpoint.png"), full_page=True)
                page.context.close()
            finally:
                gateway.kill()
