"""Fixtures of the gateway tests (the harness itself is `gateway_harness.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_harness import gateways  # noqa: F401


@pytest.fixture(params=["sqlite", "postgres"])
def gateway_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test on SQLite and on the private PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/monitor.db"
        return
    import psycopg

    admin_url: str = request.getfixturevalue("postgres_admin_url")
    name = f"gateway_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
