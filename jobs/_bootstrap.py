"""Make `monitor_service` importable when a job runs from a checkout without `pip install`."""

from __future__ import annotations

import sys
from pathlib import Path


def ensure_package() -> None:
    try:
        import monitor_service  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
