"""The DuckDB connection every run of the engine uses: in memory, UTC, bounded threads and memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# DuckDB holds a line batch and its decoded records; the profile state is small. Keep its own
# buffers well under the 1 GB a run may use in all.
MEMORY_LIMIT = "512MB"


@contextmanager
def connect(threads: int | None = None) -> Iterator[Any]:
    """A fresh in-memory connection (no file, no extensions loaded from the network)."""
    import duckdb

    con = duckdb.connect(config={
        "threads": threads or max(1, min(os.cpu_count() or 1, 8)),
        "memory_limit": MEMORY_LIMIT,
        "autoinstall_known_extensions": False,
    })
    try:
        con.execute("SET TimeZone = 'UTC'")  # ICU is linked into DuckDB's wheel; nothing is downloaded
        yield con
    finally:
        con.close()
