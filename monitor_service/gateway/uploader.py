"""Moving closed spool segments to the capture destination, verified, with retries.

A segment goes to `{destination}/{EndpointName}/{VariantName}/yyyy/mm/dd/hh/{file}.jsonl` (a local
folder or any fsspec URL). Locally it is written to a hidden temporary name in the target folder,
fsynced and renamed (readers skip names starting with '.'); on other file systems it is one PUT.
Then it is read back and compared (size and SHA-256) before the spool copy is deleted, so a
segment leaves the spool only once the destination really holds it. Uploading a segment again
(a crash between upload and delete) rewrites the same name with the same bytes: no duplicates.
Failures are retried with exponential backoff; nothing is ever dropped here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from monitor_service.gateway.config import GatewaySettings
from monitor_service.gateway.metrics import GatewayMetrics
from monitor_service.gateway.spool import ClosedSegment

log = logging.getLogger(__name__)


class Uploader:
    """One background thread draining closed segments to their destinations."""

    def __init__(self, settings: GatewaySettings, metrics: GatewayMetrics,
                 released: Callable[[int], None], clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.metrics = metrics
        self.released = released
        self.clock = clock
        self._queue: queue.Queue[ClosedSegment] = queue.Queue()
        self._pending: dict[Path, ClosedSegment] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def submit(self, segment: ClosedSegment) -> None:
        with self._lock:
            if segment.path in self._pending:
                return
            self._pending[segment.path] = segment
        self._queue.put(segment)
        self._update_lag()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="capture-uploader", daemon=True)
        self._thread.start()

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted segment is uploaded (or `timeout` passes); True if all were."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(timeout=min(left, 0.2))
        return True

    def stop(self) -> None:
        self._stop.set()
        self._queue.put_nowait(None)  # type: ignore[arg-type]
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _update_lag(self) -> None:
        with self._lock:
            oldest = min((s.closed_at for s in self._pending.values()), default=None)
        self.metrics.upload_lag.set(0 if oldest is None else max(0.0, self.clock() - oldest))
        self.metrics.spooled_segments.set(len(self._pending))

    def _run(self) -> None:
        delay = self.settings.UploadRetryInitialSeconds
        while not self._stop.is_set():
            try:
                segment = self._queue.get(timeout=1.0)
            except queue.Empty:
                self._update_lag()
                continue
            if segment is None:
                return
            try:
                lines, size = upload_segment(segment)
            except Exception as exc:  # any file-system error: keep the segment, retry later
                self.metrics.upload_failures.inc()
                log.warning("capture upload of %s to %s failed (%s: %s); retrying in %.1f s", segment.path,
                            segment.destination, exc.__class__.__name__, exc, delay)
                self._queue.put(segment)
                self._update_lag()
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.settings.UploadRetryMaxSeconds)
                continue
            delay = self.settings.UploadRetryInitialSeconds
            self.metrics.uploaded_segments.labels(segment.endpoint, segment.variant).inc()
            self.metrics.uploaded_lines.labels(segment.endpoint, segment.variant).inc(lines)
            self.metrics.uploaded_bytes.inc(size)
            self.released(size)
            with self._lock:
                self._pending.pop(segment.path, None)
                self._idle.notify_all()
            self._update_lag()


def target_url(segment: ClosedSegment) -> str:
    return f"{segment.destination.rstrip('/')}/{segment.relative}"


def upload_segment(segment: ClosedSegment) -> tuple[int, int]:
    """Copy, verify, then delete one segment; returns (lines, bytes)."""
    data = segment.path.read_bytes()
    digest = hashlib.sha256(data).digest()
    target = target_url(segment)
    if "://" not in target or target.startswith("file://"):
        put_local(Path(target.removeprefix("file://")), data)
        back = Path(target.removeprefix("file://")).read_bytes()
    else:
        import fsspec

        fs, path = fsspec.core.url_to_fs(target)
        parent = path.rsplit("/", 1)[0]
        fs.makedirs(parent, exist_ok=True)
        fs.pipe_file(path, data)
        back = fs.cat_file(path)
    if len(back) != len(data) or hashlib.sha256(back).digest() != digest:
        raise OSError(f"verification failed: {target} holds {len(back)} bytes, expected {len(data)}")
    segment.path.unlink()
    return data.count(b"\n"), len(data)


def put_local(target: Path, data: bytes) -> None:
    """Write a local file whole or not at all: a hidden temporary name, fsync, rename, fsync the folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
