"""`kill -9` during load loses no acknowledged capture line; SIGTERM flushes; the spool replays on restart."""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path

import pytest
from gateway_harness import (
    Client,
    GatewayProcess,
    capture_config,
    capture_lines,
    gateway_block,
    script_model,
    wait_for,
    write_config,
)

from monitor_service import schemas


def _config(tmp_path: Path, destination: Path, fsync: str) -> Path:
    endpoint = {"EndpointName": "load", "ProductionVariants": [
        {"VariantName": "A", "ModelName": "m", "InitialVariantWeight": 1},
        {"VariantName": "B", "ModelName": "m", "InitialVariantWeight": 1}],
        "DataCaptureConfig": capture_config(destination)}
    # Long segments: at the kill most acknowledged lines sit in open segments, the case to prove.
    return write_config(tmp_path, {"Models": [script_model("m")], "Endpoints": [endpoint],
                                   "Gateway": gateway_block(tmp_path, FsyncPolicy=fsync, SegmentMaxAgeSeconds=30,
                                                            ShutdownUploadTimeoutSeconds=3, SegmentMaxBytes=20_000)})


@pytest.mark.parametrize("fsync", ["interval", "always"])
def test_kill_9_during_load_loses_no_acknowledged_line(tmp_path: Path, gateways: list[GatewayProcess],
                                                       fsync: str) -> None:
    destination = tmp_path / "capture"
    config = _config(tmp_path, destination, fsync)
    gateway = GatewayProcess(tmp_path, config)
    gateways.append(gateway.start())
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        client = Client(gateway.port, timeout=5)
        for i in range(100_000):  # bounded; the kill ends it long before
            if stop.is_set():
                break
            request_id = f"w{worker}-{i}"
            try:
                answer = client.invoke("load", f"{i},{worker},1\n", inference_id=request_id)
            except (OSError, http.client.HTTPException):  # the kill: not an acknowledgement
                break
            if 200 <= answer.status < 300:
                with lock:
                    acknowledged.append(request_id)
        client.close()

    workers = [threading.Thread(target=load, args=(w,)) for w in range(6)]
    for worker in workers:
        worker.start()
    wait_for(lambda: len(acknowledged) >= 1500, timeout=60, what="load")
    assert gateway.proc is not None
    gateway.proc.kill()  # SIGKILL: no shutdown code runs
    gateway.proc.wait(10)
    stop.set()
    for worker in workers:
        worker.join(30)
    assert list((tmp_path / "spool").rglob("*.jsonl.part")), "the kill should leave open segments behind"

    restarted = GatewayProcess(tmp_path, config)
    gateways.append(restarted.start())
    wanted = set(acknowledged)
    wait_for(lambda: wanted <= {line["eventMetadata"]["inferenceId"] for line in capture_lines(destination)},
             timeout=60, what="every acknowledged line in the destination")
    assert restarted.terminate() == 0
    lines = capture_lines(destination)  # every line parses: no torn line was uploaded
    ids = [line["eventMetadata"]["inferenceId"] for line in lines]
    assert wanted <= set(ids)
    assert len(ids) == len(set(ids))  # a recovered segment is uploaded once
    for line in lines[:200]:
        schemas.validate("capture_record", line)
    assert not [p for p in (tmp_path / "spool").rglob("*.jsonl*")], "the spool is empty once uploaded"


def test_unuploadable_segments_wait_in_the_spool_across_restarts(tmp_path: Path,
                                                                 gateways: list[GatewayProcess]) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a folder should be: every upload fails")
    destination = blocker / "capture"
    config = _config(tmp_path, destination, "interval")
    gateway = GatewayProcess(tmp_path, config)
    gateways.append(gateway.start())
    client = Client(gateway.port)
    for i in range(20):
        assert client.invoke("load", "1,2,3\n", inference_id=f"keep-{i}").status == 200
    client.close()
    started = time.monotonic()
    assert gateway.terminate() == 0  # gives up after ShutdownUploadTimeoutSeconds, keeping the segments
    assert time.monotonic() - started < 45
    assert "not uploaded before exit" in gateway.output()
    spooled = list((tmp_path / "spool").rglob("*.jsonl"))
    assert sum(len(p.read_text().splitlines()) for p in spooled) == 20
    # The destination comes back: the next gateway uploads what the first one kept.
    blocker.unlink()
    restarted = GatewayProcess(tmp_path, config)
    gateways.append(restarted.start())
    wait_for(lambda: len(capture_lines(destination)) == 20, what="the kept lines uploaded")
    assert restarted.terminate() == 0
    assert sorted(line["eventMetadata"]["inferenceId"] for line in capture_lines(destination)) == sorted(
        f"keep-{i}" for i in range(20))
