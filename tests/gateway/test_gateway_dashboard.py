"""The dashboard's endpoint pages against a real gateway process: stored weights from the database,
live invocation, error and capture counters from the gateway's /metrics, a gateway that does not
answer named on the page; and the histogram quantile against hand-computed and numpy values."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from gateway_harness import Client, GatewayProcess, capture_config, free_port, gateway_block, script_model
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from monitor_service.api import create_app
from monitor_service.service.apikeys import create_key
from monitor_service.service.gateway_live import GatewayLive, histogram_quantile, parse_metrics
from monitor_service.settings import Settings
from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade

LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


def test_histogram_quantile_by_hand() -> None:
    buckets = [(1.0, 2.0), (2.0, 6.0), (4.0, 8.0), (float("inf"), 8.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(1.5)  # rank 4: 1 + (2 - 1) * (4 - 2) / (6 - 2)
    assert histogram_quantile(0.1, buckets) == pytest.approx(0.4)  # rank 0.8 in the first bucket from 0
    assert histogram_quantile(1.0, buckets) == pytest.approx(4.0)
    assert histogram_quantile(0.99, [(1.0, 1.0), (float("inf"), 2.0)]) == 1.0  # +Inf answers the last bound
    assert histogram_quantile(0.5, [(1.0, 0.0), (float("inf"), 0.0)]) is None
    with pytest.raises(ValueError):
        histogram_quantile(1.5, buckets)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1, max_value=50_000, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from([0.5, 0.9, 0.99]))
def test_quantile_lies_in_the_bucket_of_the_exact_quantile(values: list[float], q: float) -> None:
    """Observed through prometheus_client, the estimate sits in the bucket that holds numpy's quantile."""
    bounds = (100, 350, 1_000, 2_000, 5_000, 10_000, 25_000, 60_000)
    registry = CollectorRegistry()
    histogram = Histogram("ModelLatency", "x", ["EndpointName", "VariantName"], buckets=bounds, registry=registry)
    for v in values:
        histogram.labels("e", "v").observe(v)
    variants: dict = {}
    parse_metrics(generate_latest(registry).decode(), GatewayLive("x"), variants)
    estimate = variants[("e", "v")].latency("model", q)
    exact = float(np.quantile(values, q, method="inverted_cdf"))
    upper = next(b for b in bounds if exact <= b)
    lower = max([0, *[b for b in bounds if b < upper]])
    assert lower - 1e-9 <= estimate <= upper + 1e-9


def _document(tmp_path: Path) -> dict:
    return {"Models": [script_model("model-a"), script_model("model-b")],
            "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
                {"VariantName": "Blue", "ModelName": "model-a", "InitialVariantWeight": 3.0},
                {"VariantName": "Green", "ModelName": "model-b", "InitialVariantWeight": 1.0}],
                "DataCaptureConfig": capture_config(tmp_path / "capture")}],
            "Gateway": gateway_block(tmp_path)}


def _sign_in(client: TestClient, key: str) -> None:
    token = LOGIN_TOKEN.search(client.get("/ui/login").text)
    assert token is not None
    answer = client.post("/ui/login", data={"key": key, "login_token": token.group(1), "next": "/ui/"},
                         follow_redirects=False)
    assert answer.status_code == 303


def _cell(html: str, variant: str, css: str) -> str:
    row = re.search(rf'<tr data-variant="{variant}">(.*?)</tr>', html, re.S)
    assert row is not None, f"no row for {variant}"
    cell = re.search(rf'<td class="num {css}">(.*?)</td>', row.group(1), re.S)
    assert cell is not None, f"no {css} cell for {variant}"
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


def test_endpoint_pages_show_stored_weights_and_live_counters(tmp_path: Path, gateways: list) -> None:
    url = f"sqlite:///{tmp_path}/monitor.db"
    silent = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    engine = make_engine(Settings(database_url=url, artifact_root=str(tmp_path / "a")))
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        key = create_key(session, role="admin", name="a", now=datetime.now(UTC))[1]
    engine.dispose()
    admin = {"Authorization": f"Bearer {key}"}
    gateway = GatewayProcess(tmp_path, extra=["--database"], env={"MONITOR_DATABASE_URL": url})
    settings = Settings(database_url=url, artifact_root=str(tmp_path / "a"),
                        gateway_urls=f"http://127.0.0.1:{gateway.port},{silent}", gateway_timeout_seconds=1)
    with TestClient(create_app(settings)) as api:
        assert api.put("/api/v1/gateway/config", headers=admin, json=_document(tmp_path)).status_code == 200
        gateways.append(gateway.start())
        invoke = Client(gateway.port)
        served = Counter(invoke.invoke("churn", f"{i},1,2\n", inference_id=f"id-{i}").headers[
            "x-amzn-invoked-production-variant"] for i in range(200))
        bad = invoke.invoke("churn", "not,a,number\n", target_variant="Green")
        served["Green"] += 1
        changed = api.post("/api/v1/gateway/endpoints/churn/weights", headers=admin,
                           json={"DesiredWeightsAndCapacities": [{"VariantName": "Green", "DesiredWeight": 3.0}]})
        assert changed.status_code == 200, changed.text
        _sign_in(api, key)

        html = api.get("/ui/endpoints/churn").text
        assert _cell(html, "Blue", "weight") == "3" and _cell(html, "Green", "weight") == "3"
        assert _cell(html, "Blue", "share") == "50.0%"
        for variant in ("Blue", "Green"):
            assert _cell(html, variant, "invocations") == f"{served[variant]:,}"
            assert _cell(html, variant, "p99").endswith("ms")
        errors_5xx = int(_cell(html, "Green", "errors5xx")) + int(_cell(html, "Blue", "errors5xx"))
        assert (bad.status >= 500) == (errors_5xx == 1)
        captured = int(_cell(html, "Blue", "captured").replace(",", "")) + int(
            _cell(html, "Green", "captured").replace(",", ""))
        assert captured == sum(served.values()) - (1 if bad.status >= 400 else 0)
        assert f"{silent}" in html and "not answering" in html
        assert 'id="weights"' in html and 'id="weight-changes"' in html
        assert "Green weight 3" in html
        found = re.search(r'<script type="application/json" id="weights-data">(.*?)</script>', html, re.S)
        assert found is not None
        lines = {t["name"]: t["y"] for t in json.loads(found.group(1))["data"]}
        assert lines == {"Blue": [3.0, 3.0, 3.0], "Green": [1.0, 3.0, 3.0]}  # stored, the change, now

        listing = api.get("/ui/endpoints").text
        assert 'data-endpoint="churn"' in listing
        overview = api.get("/ui/").text
        assert "Endpoints (1 of 2 gateways not answering)" in overview and "/ui/endpoints/churn" in overview
        missing = api.get("/ui/endpoints/nope")
        assert missing.status_code == 404 and "neither in the gateway configuration" in missing.text
        invoke.close()
