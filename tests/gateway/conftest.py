"""Fixtures of the gateway tests (the harness itself is `gateway_harness.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_harness import gateways  # noqa: F401

from tests.pg_server import fresh_database


@pytest.fixture(params=["sqlite", "postgres"])
def gateway_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test on SQLite and on the private PostgreSQL server."""
    with fresh_database(request.param, sqlite_dir=tmp_path, prefix="gateway_test",
                        admin_url=lambda: request.getfixturevalue("postgres_admin_url")) as url:
        yield url
