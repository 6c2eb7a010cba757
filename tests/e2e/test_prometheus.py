"""A real Prometheus (Debian's package) scrapes a real `monitor serve` with a read key as bearer
credentials; PromQL over its HTTP API returns the service's gauges with their labels, and the
example alerting rules from docs/prometheus/ load and fire.

Prometheus runs as a private process: the config is the documented example with the target,
key file and intervals replaced, its data folder is temporary, and it listens on a free
loopback port; the polling loops are bounded.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.harness import REPO, Served, free_port, stop

DOCS = REPO / "docs" / "prometheus"
PROMETHEUS = "/usr/bin/prometheus"


@pytest.fixture(scope="module")
def prometheus(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which(PROMETHEUS) is None:
        pytest.fail(f"{PROMETHEUS} is missing: run `bash scripts/test.sh` (it installs Debian's prometheus)")
    folder = tmp_path_factory.mktemp("prometheus")
    (folder / "scrape.key").write_text(served.read_key + "\n")
    shutil.copy(DOCS / "alerts.yml", folder / "alerts.yml")
    config = yaml.safe_load((DOCS / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    job = config["scrape_configs"][0]
    job["authorization"]["credentials_file"] = str(folder / "scrape.key")
    job["static_configs"] = [{"targets": [served.url.removeprefix("http://")]}]
    # The same target without a key: the service must refuse it (up == 0).
    config["scrape_configs"].append({"job_name": "without-key", "metrics_path": "/metrics",
                                     "static_configs": job["static_configs"]})
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen([PROMETHEUS, f"--config.file={folder / 'prometheus.yml'}",
                                f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                                "--storage.tsdb.retention.time=1h"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code == 200, "Prometheus ready",
               process=process, log=folder / "prometheus.log")
        yield url
    finally:
        stop(process)
        log.close()


def _until(check: Callable[[], Any], what: str, *, timeout: float = 60, process: Any = None,
           log: Path | None = None) -> Any:
    """Poll `check` every 0.5 s until it returns something truthy (at most `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"prometheus exited: {log.read_text()[-2000:] if log else ''}")
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _query(url: str, promql: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _series(url: str, promql: str, count: int) -> list[dict[str, Any]]:
    return list(_until(lambda: (r := _query(url, promql)) and len(r) >= count and r, promql))


def test_documented_rules_are_valid() -> None:
    checked = subprocess.run(["promtool", "check", "rules", str(DOCS / "alerts.yml")], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prometheus_scrapes_the_gauges_with_their_labels(served: Served, prometheus: str) -> None:
    up = {r["metric"]["job"]: r["value"][1] for r in _series(prometheus, "up", 2)}
    assert up == {"monitor-service": "1", "without-key": "0"}
    drift = _series(prometheus, 'feature_baseline_drift{schedule="churn-hourly"}', 4)
    assert {r["metric"]["feature"] for r in drift} == {"age", "income", "score", "color"}
    assert {r["metric"]["job"] for r in drift} == {"monitor-service"}
    with served.api() as api:
        for row in drift:
            feature = row["metric"]["feature"]
            newest = api.get(f"/api/v1/schedules/{served.dq_schedule}/features/{feature}/history",
                             params={"limit": 1}).json()["points"][-1]["metrics"]
            assert float(row["value"][1]) == pytest.approx(newest["drift_distance"])
        completeness = {r["metric"]["feature"]: float(r["value"][1])
                        for r in _series(prometheus, 'feature_non_null{schedule="churn-hourly"}', 4)}
        auc = {r["metric"]["estimated"]: float(r["value"][1])
               for r in _series(prometheus, 'model_metrics_auc{schedule="churn-quality"}', 2)}
        newest_auc = api.get(f"/api/v1/schedules/{served.mq_schedule}/model-metrics/auc/history",
                             params={"limit": 1}).json()["points"][-1]
        runs = api.get("/api/v1/executions", params={"schedule_id": served.dq_schedule, "limit": 1000}).json()
    assert set(completeness) == {"age", "income", "score", "color"} and all(0 <= v <= 1 for v in completeness.values())
    assert auc == pytest.approx({"false": newest_auc["value"], "true": newest_auc["estimated"]})
    counts = {r["metric"]["status"]: int(r["value"][1])
              for r in _series(prometheus, 'monitor_executions{schedule="churn-hourly"}', 1)}
    expected: dict[str, int] = {}
    for run in runs["items"]:
        expected[run["status"]] = expected.get(run["status"], 0) + 1
    assert counts == expected
    (duration,) = _series(prometheus, 'monitor_execution_duration_seconds_count{schedule="churn-hourly"}', 1)
    assert int(duration["value"][1]) == len(runs["items"])


def test_documented_alerts_fire(served: Served, prometheus: str) -> None:
    def firing() -> list[dict[str, Any]]:
        alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
        return [a for a in alerts if a["state"] == "firing"]

    alerts = _until(lambda: (found := firing()) and any(a["labels"]["alertname"] == "FeatureDrift" for a in found)
                    and found, "FeatureDrift firing")
    drifting = {a["labels"]["feature"] for a in alerts if a["labels"]["alertname"] == "FeatureDrift"}
    assert "age" in drifting  # the generated history always drifts on age
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert [g["name"] for g in groups] == ["monitor-service"]
    assert all(rule["health"] == "ok" for rule in groups[0]["rules"])
