"""Shared fixtures: ONE session-scoped local SparkSession for every Spark test, and fixture paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("MONITOR_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures" / "sagemaker"))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"SageMaker fixtures not found at {FIXTURES}; clone ../shared beside the repo")
    return FIXTURES


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The admin URL of a private PostgreSQL server started for this test session (see tests/pg_server.py)."""
    from tests.pg_server import PostgresUnavailable, private_postgres

    try:
        with private_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium (Debian's, driven by Playwright) for every page test."""
    from tests.browser import BrowserMissing, chromium

    try:
        with chromium() as launched:
            yield launched
    except BrowserMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """local[2], UI off, 2 shuffle partitions, AQE off, loopback bind (aesthetics rule 4)."""
    from monitor_service.spark.session import get_session

    session = get_session(
        master="local[2]",
        app_name="monitor-service-tests",
        conf={
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.adaptive.enabled": "false",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "2g",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def deequ_runtime() -> Iterator[None]:
    """ONE Deequ sidecar JVM for the whole session (the jobs reuse the process's sidecar), ended at the end."""
    from monitor_service.deequ.client import close_shared, shared_sidecar
    from monitor_service.errors import DeequUnavailable

    try:
        shared_sidecar()
    except DeequUnavailable as exc:
        pytest.fail(str(exc))
    yield
    close_shared()
