"""Shared by the spark-submit entry points: find the package, then run one CLI command.

`monitor_service` is used from the installed package when there is one (on a cluster, ship it
with `--py-files` or install it on every node); from a checkout it is found next to `jobs/`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def run(command: str) -> None:
    """Run `monitor <command> <argv...>` and exit with its exit code (0, 1, 2 or 3)."""
    try:
        import monitor_service  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from monitor_service.cli.main import main

    sys.exit(main([command, *sys.argv[1:]], spark_submit=True))
