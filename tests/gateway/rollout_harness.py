"""Rollout test harness: a database, the REST API in-process and a gateway process following the database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gateway_harness import Client, GatewayProcess, gateway_block, script_model, wait_for, write_config

from monitor_service.api import create_app
from monitor_service.service.apikeys import create_key
from monitor_service.settings import Settings
from monitor_service.store.db import make_engine, make_sessionmaker, transaction, upgrade

VARIANT = "x-amzn-invoked-production-variant"


@dataclass
class Rig:
    api: TestClient
    admin: dict[str, str]
    database_url: str
    folder: Path

    def start_gateway(self, document: dict[str, Any], gateways: list[GatewayProcess],
                      name: str = "gateway.yaml") -> GatewayProcess:
        """A gateway following the database; `document` seeds it (and gives its process settings)."""
        seed = write_config(self.folder, document, name)
        gateway = GatewayProcess(self.folder, seed, extra=["--database"],
                                 env={"MONITOR_DATABASE_URL": self.database_url})
        gateways.append(gateway.start())
        return gateway

    def start_rollout(self, endpoint: str, spec: dict[str, Any]) -> dict[str, Any]:
        answer = self.api.post(f"/api/v1/gateway/endpoints/{endpoint}/rollouts", headers=self.admin,
                               json={"Spec": spec})
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def rollout(self, rollout_id: str) -> dict[str, Any]:
        return self.api.get(f"/api/v1/gateway/rollouts/{rollout_id}", headers=self.admin).json()  # type: ignore

    def page(self, path: str) -> str:
        """A dashboard page, signed in with the admin key."""
        import re

        if not self.api.cookies:
            token = re.search(r'name="login_token" value="([^"]+)"', self.api.get("/ui/login").text)
            assert token is not None
            signed = self.api.post("/ui/login", data={"key": self.admin["Authorization"].split()[1],
                                                      "login_token": token.group(1), "next": "/ui/"},
                                   follow_redirects=False)
            assert signed.status_code == 303
        answer = self.api.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text

    def events(self, rollout_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        query = f"?kind={kind}" if kind else ""
        return self.api.get(f"/api/v1/gateway/rollouts/{rollout_id}/events{query}",  # type: ignore[no-any-return]
                            headers=self.admin).json()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """SQLite."""
    yield from _rig(f"sqlite:///{tmp_path}/monitor.db", tmp_path)


@pytest.fixture
def any_rig(gateway_database_url: str, tmp_path: Path) -> Iterator[Rig]:
    """SQLite and the private PostgreSQL server."""
    yield from _rig(gateway_database_url, tmp_path)


def _rig(url: str, tmp_path: Path) -> Iterator[Rig]:
    settings = Settings(database_url=url, artifact_root=str(tmp_path / "artifacts"))
    engine = make_engine(settings)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        admin = {"Authorization": f"Bearer {create_key(session, role='admin', name='a', now=datetime.now(UTC))[1]}"}
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        yield Rig(client, admin, url, tmp_path)


def two_variants(folder: Path, green_script: str = "linear.py", green_weights: str | None = None,
                 capture: dict[str, Any] | None = None, extra_variants: tuple[str, ...] = ()) -> dict[str, Any]:
    """Endpoint `churn`: Blue (y = 1 x1 + 2 x2 + 3 x3) at weight 1, Green (the new version) at weight 0."""
    green_extra: dict[str, Any] = {}
    if green_weights is not None:
        model_dir = folder / "green-model"
        model_dir.mkdir(exist_ok=True)
        (model_dir / "weights.txt").write_text(green_weights)
        green_extra["ModelDataUrl"] = str(model_dir)
    variants = [{"VariantName": "Blue", "ModelName": "model-a", "InitialVariantWeight": 1.0},
                {"VariantName": "Green", "ModelName": "model-b", "InitialVariantWeight": 0.0}]
    variants += [{"VariantName": v, "ModelName": "model-a", "InitialVariantWeight": 0.0} for v in extra_variants]
    endpoint: dict[str, Any] = {"EndpointName": "churn", "ProductionVariants": variants}
    if capture is not None:
        endpoint["DataCaptureConfig"] = capture
    return {"Models": [script_model("model-a"), script_model("model-b", green_script, **green_extra)],
            "Endpoints": [endpoint], "Gateway": gateway_block(folder)}


def drive(client: Client, until: Any, limit: int, pause: float = 0.0, **headers: str) -> list[tuple[float, str, int]]:
    """Send requests until `until()` or `limit`; returns (time, variant, status) per request."""
    seen = []
    for i in range(limit):
        answer = client.invoke("churn", "1,2,3\n", **headers)
        seen.append((time.monotonic(), answer.headers.get(VARIANT, ""), answer.status))
        if i % 20 == 0 and until():
            break
        if pause:
            time.sleep(pause)
    return seen


__all__ = ["Client", "Rig", "any_rig", "drive", "rig", "two_variants", "wait_for"]
