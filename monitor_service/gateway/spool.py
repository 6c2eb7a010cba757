"""The capture spool: a local write-ahead log of capture lines, cut into segments for upload.

Why: the request path must never wait for S3 (or lose a line when S3 is down), yet a 2xx must
mean the line is safe. So each line is appended to an open segment file before the response
leaves (and, under `FsyncPolicy: always`, fsynced: group-committed, one fsync for every line
waiting). A segment is closed when the UTC hour changes, when it reaches `SegmentMaxBytes`, or
when it is `SegmentMaxAgeSeconds` old (60 s, so files appear within a minute as SageMaker's do);
closing fsyncs it and renames `*.jsonl.part` to `*.jsonl` atomically. The uploader takes closed
segments only. On start, leftover open segments (a crash, `kill -9`) are truncated after their
last complete line and closed, so nothing acknowledged is lost and nothing half-written is sent.

Layout: `{spool}/{key}/destination.txt` holds the destination URL of every segment below it;
segments live at `{spool}/{key}/{EndpointName}/{VariantName}/yyyy/mm/dd/hh/{MM-SS-mmm}-{uuid}.jsonl`,
exactly their path under the destination, so an endpoint whose capture config changed still
uploads what it captured to where it was going.

Threads: `append` may be called from any thread (the gateway's event loop, batch tasks); the
spool's own I/O thread does every fsync, close and rename, in order.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitor_service.errors import InputError
from monitor_service.gateway.config import GatewaySettings
from monitor_service.gateway.metrics import GatewayMetrics

log = logging.getLogger(__name__)
OPEN_SUFFIX = ".jsonl.part"
CLOSED_SUFFIX = ".jsonl"
DESTINATION_FILE = "destination.txt"


def destination_key(destination: str) -> str:
    return hashlib.sha256(destination.encode("utf-8")).hexdigest()[:16]


@dataclass
class _Segment:
    """One open segment file; `fd` is written by appenders and closed only by the I/O thread."""

    path: Path
    fd: int
    hour: tuple[int, int, int, int]
    opened: float
    endpoint: str
    variant: str
    size: int = 0
    lines: int = 0
    dirty: bool = False
    waiters: list[concurrent.futures.Future[None]] = field(default_factory=list)


@dataclass(frozen=True)
class ClosedSegment:
    """A segment ready for upload: its file, its destination and where it goes below it."""

    path: Path
    destination: str
    relative: str
    endpoint: str
    variant: str
    closed_at: float


class SpoolFull(Exception):
    """Internal signal: the budget is used up (the gateway turns it into a 429 or a counted drop)."""


class Spool:
    """Append-only capture segments with a byte budget; see the module docstring."""

    def __init__(self, settings: GatewaySettings, metrics: GatewayMetrics,
                 on_closed: Callable[[ClosedSegment], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(settings.SpoolDirectory)
        self.settings = settings
        self.metrics = metrics
        self.on_closed = on_closed
        self.clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._active: dict[tuple[str, str, str], _Segment] = {}
        self._closing: list[_Segment] = []
        self._destinations: dict[str, str] = {}
        self._bytes = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the capture spool folder {self.root}: {exc.strerror}",
                             hint="set Gateway.SpoolDirectory to a writable local folder") from exc

    # -- start / stop ---------------------------------------------------------------------------
    def start(self) -> list[ClosedSegment]:
        """Recover what a previous run left, start the I/O thread; returns every closed segment.

        The folder is locked first: a second gateway on the same spool would cut the first one's
        open segments as if they were left by a crash.
        """
        self._lock_folder()
        ready = self.recover()
        self._thread = threading.Thread(target=self._run, name="capture-spool", daemon=True)
        self._thread.start()
        return ready

    def _lock_folder(self) -> None:
        import fcntl

        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise InputError(f"the capture spool {self.root} is in use by another gateway process",
                             hint="give each gateway process its own Gateway.SpoolDirectory") from None

    def close_all(self) -> None:
        """Close every open segment (fsync + rename) and stop the I/O thread; used at shutdown."""
        with self._lock:
            self._closing.extend(self._active.values())
            self._active.clear()
            self._stopped = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join()
        self._process_closing()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the folder's lock
            self._lock_fd = None

    def recover(self) -> list[ClosedSegment]:
        """Close leftover open segments after their last complete line; list closed ones."""
        total = 0
        for dest_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            dest_file = dest_dir / DESTINATION_FILE
            if not dest_file.exists():
                continue
            self._destinations[dest_dir.name] = dest_file.read_text(encoding="utf-8").strip()
            for part in sorted(dest_dir.rglob(f"*{OPEN_SUFFIX}")):
                kept = _truncate_to_last_line(part)
                if kept == 0:
                    part.unlink()
                    continue
                log.info("capture spool: recovered %s (%d bytes) from a previous run", part, kept)
                _fsync_file(part)
                os.replace(part, part.with_name(part.name.removesuffix(OPEN_SUFFIX) + CLOSED_SUFFIX))
                _fsync_dir(part.parent)
        ready = self.ready()
        for segment in ready:
            total += segment.path.stat().st_size
        with self._lock:
            self._bytes = total
        self.metrics.spooled_bytes.set(total)
        self.metrics.spooled_segments.set(len(ready))
        return ready

    def ready(self) -> list[ClosedSegment]:
        """Closed segments on disk, oldest first (by their hour folder and file name)."""
        out = []
        for key, destination in self._destinations.items():
            base = self.root / key
            for path in base.rglob(f"*{CLOSED_SUFFIX}"):
                relative = path.relative_to(base).as_posix()
                parts = relative.split("/")
                if len(parts) < 7:
                    continue
                out.append(ClosedSegment(path, destination, relative, parts[0], parts[1], path.stat().st_mtime))
        return sorted(out, key=lambda s: s.relative.split("/", 2)[2])

    # -- the request path ----------------------------------------------------------------------
    @property
    def used_bytes(self) -> int:
        return self._bytes

    def has_room(self) -> bool:
        return self._bytes < self.settings.SpoolMaxBytes

    def append(self, destination: str, endpoint: str, variant: str, when: datetime,
               line: bytes) -> concurrent.futures.Future[None] | None:
        """Write one line; returns a future to wait on under `FsyncPolicy: always`, else None.

        Raises SpoolFull when the budget is used up and OSError when the disk refuses the write
        (the caller counts both); the line is then not in the spool.
        """
        hour = when.astimezone(UTC)
        hour_key = (hour.year, hour.month, hour.day, hour.hour)
        waiter: concurrent.futures.Future[None] | None = None
        with self._lock:
            if self._bytes + len(line) > self.settings.SpoolMaxBytes:
                raise SpoolFull
            key = (destination, endpoint, variant)
            segment = self._active.get(key)
            if segment is not None and (segment.hour != hour_key
                                        or segment.size + len(line) > self.settings.SegmentMaxBytes):
                self._retire(key)
                segment = None
            if segment is None:
                segment = self._open(destination, endpoint, variant, hour, hour_key)
                self._active[key] = segment
            _write_all(segment.fd, line)
            segment.size += len(line)
            segment.lines += 1
            segment.dirty = True
            self._bytes += len(line)
            if self.settings.FsyncPolicy == "always":
                waiter = concurrent.futures.Future()
                segment.waiters.append(waiter)
                self._wake.notify()
        self.metrics.captured.labels(endpoint, variant).inc()
        self.metrics.spooled_bytes.set(self._bytes)
        return waiter

    def released(self, size: int) -> None:
        """An uploaded segment was deleted: its bytes leave the budget."""
        with self._lock:
            self._bytes = max(0, self._bytes - size)
        self.metrics.spooled_bytes.set(self._bytes)

    # -- internals (lock held) -----------------------------------------------------------------
    def _open(self, destination: str, endpoint: str, variant: str, hour: datetime,
              hour_key: tuple[int, int, int, int]) -> _Segment:
        key = destination_key(destination)
        base = self.root / key
        if key not in self._destinations:
            base.mkdir(parents=True, exist_ok=True)
            tmp = base / f".{DESTINATION_FILE}.tmp"
            tmp.write_text(destination + "\n", encoding="utf-8")
            _fsync_file(tmp)
            os.replace(tmp, base / DESTINATION_FILE)
            _fsync_dir(base)
            self._destinations[key] = destination
        now = datetime.fromtimestamp(self.clock(), UTC)
        folder = base / endpoint / variant / f"{hour_key[0]:04d}/{hour_key[1]:02d}/{hour_key[2]:02d}/{hour_key[3]:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{now:%M-%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}"
        path = folder / f"{name}{OPEN_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        if self.settings.FsyncPolicy == "always":
            # The new file's name must survive a power loss too; otherwise the kernel's copy of the
            # folder is enough (a crashed process loses nothing) and closing fsyncs the folder.
            _fsync_dir(folder)
        return _Segment(path, fd, hour_key, self.clock(), endpoint, variant)

    def _retire(self, key: tuple[str, str, str]) -> None:
        self._closing.append(self._active.pop(key))
        self._wake.notify()

    # -- the I/O thread ------------------------------------------------------------------------
    def _run(self) -> None:
        interval = self.settings.FsyncIntervalMs / 1000
        last_sync = time.monotonic()
        while True:
            with self._lock:
                if not self._stopped and not self._closing and not any(s.waiters for s in self._active.values()):
                    self._wake.wait(timeout=min(0.1, interval))
                if self._stopped:
                    return
                now = self.clock()
                for key, segment in list(self._active.items()):
                    if now - segment.opened >= self.settings.SegmentMaxAgeSeconds:
                        self._retire(key)
                waiting = [(s, s.waiters) for s in self._active.values() if s.waiters]
                for segment, _ in waiting:
                    segment.waiters = []
                periodic = (self.settings.FsyncPolicy == "interval" and time.monotonic() - last_sync >= interval)
                dirty = [s for s in self._active.values() if s.dirty] if periodic else []
                for segment in dirty:
                    segment.dirty = False
            for segment, waiters in waiting:
                self._sync(segment, waiters)
            for segment in dirty:
                self._sync(segment, [])
            if periodic:
                last_sync = time.monotonic()
            self._process_closing()

    def _sync(self, segment: _Segment, waiters: list[concurrent.futures.Future[None]]) -> None:
        try:
            os.fdatasync(segment.fd)
        except OSError as exc:
            for waiter in waiters:
                waiter.set_exception(exc)
            return
        for waiter in waiters:
            waiter.set_result(None)

    def _process_closing(self) -> None:
        with self._lock:
            closing, self._closing = self._closing, []
            waiters = [w for s in closing for w in s.waiters]
            for segment in closing:
                segment.waiters = []
        for segment in closing:
            closed = self._close(segment)
            if closed is not None and self.on_closed is not None:
                self.on_closed(closed)
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _close(self, segment: _Segment) -> ClosedSegment | None:
        try:
            os.fsync(segment.fd)
        finally:
            os.close(segment.fd)
        final = segment.path.with_name(segment.path.name.removesuffix(OPEN_SUFFIX) + CLOSED_SUFFIX)
        os.replace(segment.path, final)
        _fsync_dir(final.parent)
        base = segment.path.parents[6]
        self.metrics.spooled_segments.inc()
        return ClosedSegment(final, self._destinations[base.name], final.relative_to(base).as_posix(),
                             segment.endpoint, segment.variant, self.clock())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _truncate_to_last_line(path: Path) -> int:
    """Cut a partial last line (a write cut short by a crash); returns the bytes kept."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        block = 65536
        end = size
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            chunk = handle.read(end - start)
            at = chunk.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                if keep != size:
                    handle.truncate(keep)
                return keep
            end = start
        handle.truncate(0)
        return 0


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
