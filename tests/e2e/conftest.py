"""One served history per test session: a real `monitor serve` and 30 h of windows per schedule."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Served, served_history


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_history(tmp_path_factory.mktemp("served")) as history:
        yield history


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of the pages the browser tests saw: in pytest's temporary folder, or in
    $MONITOR_TEST_ARTIFACTS (e.g. `test-artifacts/`, ignored by git) for CI to keep."""
    chosen = os.environ.get("MONITOR_TEST_ARTIFACTS")
    if chosen:
        folder = Path(chosen).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("test-artifacts")
