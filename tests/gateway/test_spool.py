"""The capture spool and uploader in-process: segment cuts, budget, recovery, verified upload."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gateway_harness import wait_for

from monitor_service.gateway.config import GatewaySettings
from monitor_service.gateway.metrics import GatewayMetrics
from monitor_service.gateway.spool import ClosedSegment, Spool, SpoolFull
from monitor_service.gateway.uploader import Uploader

T = datetime(2026, 11, 1, 13, 59, 58, tzinfo=UTC)


def _spool(tmp_path: Path, **settings: object) -> tuple[Spool, list[ClosedSegment]]:
    closed: list[ClosedSegment] = []
    spool = Spool(GatewaySettings(SpoolDirectory=str(tmp_path / "spool"), **settings), GatewayMetrics(),
                  on_closed=closed.append)
    spool.start()
    return spool, closed


def test_segments_are_cut_by_hour_and_size(tmp_path: Path) -> None:
    spool, closed = _spool(tmp_path, SegmentMaxBytes=1024)
    line = b'{"x": "' + b"a" * 90 + b'"}\n'  # 100 bytes
    for _i in range(25):
        spool.append("dest", "ep", "A", T.replace(second=58), line)
    spool.append("dest", "ep", "A", T.replace(hour=14, minute=0, second=1), line)  # a new hour: a new segment
    spool.close_all()
    hours = sorted(s.relative.split("/")[2:6] == ["2026", "11", "01", "13"] for s in closed)
    assert len(closed) == 4 and hours.count(True) == 3  # 25 lines of 100 bytes in <= 1024-byte segments
    assert sum(s.path.stat().st_size for s in closed) == 26 * len(line)
    assert all(s.path.stat().st_size <= 1024 for s in closed)
    assert {s.relative.split("/", 2)[0:2] == ["ep", "A"] for s in closed} == {True}


def test_budget_raises_before_writing(tmp_path: Path) -> None:
    spool, _ = _spool(tmp_path, SpoolMaxBytes=1024)
    for _ in range(10):
        spool.append("dest", "ep", "A", T, b"x" * 99 + b"\n")
    with pytest.raises(SpoolFull):
        spool.append("dest", "ep", "A", T, b"x" * 99 + b"\n")
    assert spool.used_bytes == 1000
    spool.released(500)
    spool.append("dest", "ep", "A", T, b"y" * 99 + b"\n")
    spool.close_all()


def test_age_closes_segments_and_recovery_cuts_a_torn_line(tmp_path: Path) -> None:
    spool, closed = _spool(tmp_path, SegmentMaxAgeSeconds=0.3)
    spool.append("dest", "ep", "A", T, b'{"a": 1}\n')
    wait_for(lambda: len(closed) == 1, timeout=5, what="the age cut")
    spool.append("dest", "ep", "A", T, b'{"a": 2}\n')
    spool.close_all()
    # A crashed writer leaves an open segment with half a line at its end.
    torn = closed[0].path.with_name("00-00-000-torn.jsonl.part")
    torn.write_bytes(b'{"a": 3}\n{"a": 4}\n{"a": ')
    again, _ = _spool(tmp_path)
    ready = again.ready()
    recovered = next(s for s in ready if s.path.name == "00-00-000-torn.jsonl")
    assert recovered.path.read_bytes() == b'{"a": 3}\n{"a": 4}\n'
    assert again.used_bytes == sum(s.path.stat().st_size for s in ready)
    again.close_all()


def test_uploader_verifies_then_deletes_and_retries(tmp_path: Path) -> None:
    destination = tmp_path / "blocked"
    destination.write_text("a file: uploads fail")
    spool, closed = _spool(tmp_path)
    spool.append(str(destination / "capture"), "ep", "A", T, b'{"a": 1}\n')
    spool.close_all()
    metrics = GatewayMetrics()
    uploader = Uploader(GatewaySettings(UploadRetryInitialSeconds=0.05, UploadRetryMaxSeconds=0.1), metrics,
                        released=spool.released)
    uploader.start()
    uploader.submit(closed[0])
    wait_for(lambda: metrics.upload_failures._value.get() >= 2, timeout=5, what="retries")
    assert closed[0].path.exists()  # kept while the destination fails
    destination.unlink()
    assert uploader.drain(10)
    uploader.stop()
    target = destination / "capture" / closed[0].relative
    assert target.read_bytes() == b'{"a": 1}\n'
    assert not closed[0].path.exists() and spool.used_bytes == 0
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert time.time() - closed[0].closed_at < 30


def test_one_gateway_per_spool_folder(tmp_path: Path) -> None:
    from monitor_service.errors import InputError

    first, _ = _spool(tmp_path)
    with pytest.raises(InputError, match="in use by another gateway process"):
        _spool(tmp_path)
    first.close_all()
    second, _ = _spool(tmp_path)  # free again once the first one stopped
    second.close_all()


def test_uploader_writes_fsspec_destinations(tmp_path: Path) -> None:
    import fsspec

    spool, closed = _spool(tmp_path)
    spool.append("memory://bucket/capture", "ep", "A", T, b'{"a": 1}\n')
    spool.append("memory://bucket/capture", "ep", "A", T, b'{"a": 2}\n')
    spool.close_all()
    metrics = GatewayMetrics()
    uploader = Uploader(GatewaySettings(), metrics, released=spool.released)
    uploader.start()
    uploader.submit(closed[0])
    assert uploader.drain(10)
    uploader.stop()
    fs = fsspec.filesystem("memory")
    assert fs.cat_file(f"/bucket/capture/{closed[0].relative}") == b'{"a": 1}\n{"a": 2}\n'
    assert closed[0].relative.startswith("ep/A/2026/11/01/13/")
    assert metrics.uploaded_lines.labels("ep", "A")._value.get() == 2
