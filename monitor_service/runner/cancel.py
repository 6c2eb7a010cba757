"""Stopping a running job from another thread, whatever engine runs it.

The scheduler's worker runs each execution inside `run_scope(execution_id)`; a stop (by hand,
past the maximum runtime, at shutdown) calls `request_cancel(execution_id)`. Spark jobs are
cancelled through their job group; the DuckDB engine checks `cancelled()` between batches and
raises `RunCancelled`, which the job turns into a Failed summary like any other failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from monitor_service.errors import RunCancelled

_lock = threading.Lock()
_requested: set[str] = set()
_local = threading.local()


__all__ = ["RunCancelled", "cancelled", "request_cancel", "run_scope"]


@contextmanager
def run_scope(run_id: str) -> Iterator[None]:
    """Mark the current thread as running `run_id` (until the block ends)."""
    previous = getattr(_local, "run_id", None)
    _local.run_id = run_id
    try:
        yield
    finally:
        _local.run_id = previous
        with _lock:
            _requested.discard(run_id)


def request_cancel(run_id: str) -> None:
    with _lock:
        _requested.add(run_id)


def cancelled() -> bool:
    """Whether the run of the current thread was asked to stop."""
    run_id = getattr(_local, "run_id", None)
    if run_id is None:
        return False
    with _lock:
        return run_id in _requested
