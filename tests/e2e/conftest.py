"""One served history per test session: a real `monitor serve` and 30 h of windows per schedule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Served, served_history


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_history(tmp_path_factory.mktemp("served")) as history:
        yield history


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Screenshots of the pages the browser tests saw (kept in pytest's temporary folder)."""
    return tmp_path_factory.mktemp("test-artifacts")
