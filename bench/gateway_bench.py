"""Inference gateway benchmark: requests/s and the latency the gateway adds over calling the model directly.

    python bench/gateway_bench.py [--rate 200] [--seconds 20] [--record]

Set-up: a small scikit-learn model (logistic regression, 4 features, skops) and an upstream
container (`tests/gateway/assets/upstream.py`, a plain asyncio server implementing SageMaker's
container contract) behind one gateway process on loopback. The load generator is a second
process (this file with `--generate`): an open loop at `--rate` requests/s over keep-alive
connections (a raw asyncio HTTP/1.1 client, so the client itself adds little), timing each request
from send to the last byte of the answer.

Baselines, the same payload: the model called in-process (the gateway's own invoker for the
framework: CSV parse + predict + CSV encode, timed in this process) and the upstream container
called directly by the same load generator. "added" = gateway minus baseline at the same
percentile. Capture at 100 % runs with `FsyncPolicy: interval` (the default: a 2xx is sent once the
line is written to the spool) and with `always` (a 2xx only after an fsync; group-committed).
Then a closed loop (8 connections, as fast as it goes) gives the throughput. `--record` writes the
figures to BENCHMARKS.md (section "Inference gateway"). Run it alone on the machine (under the
team's lock): both processes share 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
UPSTREAM = REPO / "tests" / "gateway" / "assets" / "upstream.py"
PAYLOAD = b"0.5,-1.25,2.0,0.75\n"
SECTION = "## Inference gateway"


# -- the load generator (runs in its own process) ------------------------------------------------
async def _connection(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _request(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], head: bytes) -> int:
    reader, writer = conn
    writer.write(head)
    header = await reader.readuntil(b"\r\n\r\n")
    status = int(header[9:12])
    length = 0
    for line in header.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


def _head(path: str, port: int, extra: dict[str, str]) -> bytes:
    headers = {"Host": f"127.0.0.1:{port}", "Content-Type": "text/csv", "Content-Length": str(len(PAYLOAD)), **extra}
    return (f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode() \
        + PAYLOAD


async def _open_loop(port: int, path: str, rate: float, seconds: float, connections: int) -> dict[str, Any]:
    pool = [await _connection(port) for _ in range(connections)]
    free: asyncio.Queue[Any] = asyncio.Queue()
    for conn in pool:
        free.put_nowait(conn)
    latencies: list[float] = []
    errors = 0
    late = 0
    n = int(rate * seconds)
    counter = iter(range(10**9))

    async def one() -> None:
        nonlocal errors
        conn = await free.get()
        head = _head(path, port, {"X-Amzn-SageMaker-Inference-Id": f"bench-{next(counter)}"})
        started = time.perf_counter()
        try:
            status = await _request(conn, head)
            latencies.append(time.perf_counter() - started)
            errors += status != 200
        finally:
            free.put_nowait(conn)

    tasks = []
    start = time.perf_counter() + 0.2
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    for _, writer in pool:
        writer.close()
    return {"latencies_ms": [x * 1000 for x in latencies], "errors": errors, "late_sends": late,
            "achieved_rate": n / (time.perf_counter() - start)}


async def _closed_loop(port: int, path: str, seconds: float, connections: int) -> dict[str, Any]:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        conn = await _connection(port)
        head = _head(path, port, {})
        while time.perf_counter() < stop:
            await _request(conn, head)
            done += 1
        conn[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return {"requests_per_second": done / (time.perf_counter() - started)}


def generate(args: argparse.Namespace) -> None:
    if args.closed:
        result = asyncio.run(_closed_loop(args.port, args.path, args.seconds, args.connections))
    else:
        result = asyncio.run(_open_loop(args.port, args.path, args.rate, args.seconds, args.connections))
    print(json.dumps(result))


# -- the driver ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, path: str, timeout: float = 60.0) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


def _load(port: int, path: str, *extra: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--generate", "--port", str(port), "--path", path, *extra],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _percentiles(values: list[float]) -> tuple[float, float]:
    data = np.asarray(values)
    return float(np.percentile(data, 50)), float(np.percentile(data, 99))


def _in_process(model_path: Path, count: int) -> list[float]:
    from monitor_service.gateway.config import parse_config
    from monitor_service.gateway.invokers import BuildContext, Invocation, build_model

    config = parse_config({"Models": [{"ModelName": "m", "Framework": "sklearn", "ModelDataUrl": str(model_path)}]})
    invoker = build_model(config.Models[0], BuildContext(cache_dir=model_path.parent / "cache"))
    invocation = Invocation(PAYLOAD, "text/csv")
    for _ in range(200):
        invoker.call(invocation)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        invoker.call(invocation)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _config(work: Path, model: Path, upstream_port: int) -> Path:
    import yaml

    def capture(name: str) -> dict[str, Any]:
        return {"InitialSamplingPercentage": 100, "DestinationS3Uri": str(work / "capture" / name),
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}

    models = [{"ModelName": "sk", "Framework": "sklearn", "ModelDataUrl": str(model)},
              {"ModelName": "byoc", "Framework": "container", "Url": f"http://127.0.0.1:{upstream_port}"}]
    endpoints = []
    for name, model_name, cap in (("sk", "sk", None), ("sk-capture", "sk", "sk"),
                                  ("byoc", "byoc", None), ("byoc-capture", "byoc", "byoc")):
        endpoint: dict[str, Any] = {"EndpointName": name, "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": model_name}]}
        if cap:
            endpoint["DataCaptureConfig"] = capture(cap)
        endpoints.append(endpoint)
    path = work / "gateway.yaml"
    path.write_text(yaml.safe_dump({"Models": models, "Endpoints": endpoints,
                                    "Gateway": {"SpoolDirectory": str(work / "spool"),
                                                "ModelCacheDirectory": str(work / "models"),
                                                "FsyncPolicy": "interval"}}))
    return path


def _start_gateway(config: Path, port: int, fsync: str) -> subprocess.Popen[bytes]:
    text = config.read_text().replace("FsyncPolicy: interval", f"FsyncPolicy: {fsync}")
    variant = config.with_name(f"gateway-{fsync}.yaml")
    variant.write_text(text)
    proc = subprocess.Popen([sys.executable, "-m", "monitor_service.cli.main", "gateway", "--config", str(variant),
                             "--port", str(port), "--log-level", "warning"], cwd=config.parent,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    _wait_ready(port, "/ping")
    return proc


def run(args: argparse.Namespace) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    work = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    model_path = work / "model.skops"
    sio.dump(LogisticRegression().fit(X, (X[:, 0] - X[:, 1] > 0).astype(int)), model_path)
    upstream_port = _free_port()
    upstream = subprocess.Popen([sys.executable, str(UPSTREAM), str(upstream_port)], stdout=subprocess.PIPE)
    assert upstream.stdout is not None and upstream.stdout.readline().strip() == b"ready"
    config = _config(work, model_path, upstream_port)
    rate, seconds = str(args.rate), str(args.seconds)
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    try:
        in_process = _in_process(model_path, int(args.rate * args.seconds))
        direct = _load(upstream_port, "/invocations", "--rate", rate, "--seconds", seconds)
        baselines = {"sklearn": _percentiles(in_process), "container": _percentiles(direct["latencies_ms"])}
        for fsync in ("interval", "always"):
            port = _free_port()
            gateway = _start_gateway(config, port, fsync)
            try:
                cases = [("sklearn", "sk", "off"), ("sklearn", "sk-capture", "100 %"),
                         ("container", "byoc", "off"), ("container", "byoc-capture", "100 %")]
                if fsync == "always":
                    cases = [c for c in cases if c[2] != "off"]
                for kind, endpoint, capture in cases:
                    path = f"/endpoints/{endpoint}/invocations"
                    _load(port, path, "--rate", rate, "--seconds", "3")  # warm-up
                    # Repeats, each its own window: the median is what the gateway does, the spread
                    # what the shared machine did to it.
                    runs = [_load(port, path, "--rate", rate, "--seconds", seconds) for _ in range(args.repeats)]
                    throughput = _load(port, path, "--closed", "--seconds", "8", "--connections", "8")
                    p50s, p99s = zip(*(_percentiles(r["latencies_ms"]) for r in runs), strict=True)
                    p50, p99 = statistics.median(p50s), statistics.median(p99s)
                    base50, base99 = baselines[kind]
                    rows.append({"model": kind, "capture": capture if capture == "off" else f"{capture} ({fsync})",
                                 "p50": p50, "p99": p99, "added50": p50 - base50, "added99": p99 - base99,
                                 "p99_range": (min(p99s), max(p99s)), "rps": throughput["requests_per_second"],
                                 "errors": sum(r["errors"] for r in runs),
                                 "n": sum(len(r["latencies_ms"]) for r in runs)})
            finally:
                gateway.terminate()
                gateway.wait(60)
    finally:
        upstream.kill()
    report = _report(args, rows, baselines, load_before)
    print(report)
    if args.record:
        _record(report)


def _report(args: argparse.Namespace, rows: list[dict[str, Any]], baselines: dict[str, tuple[float, float]],
            load: tuple[float, float, float]) -> str:
    import sklearn

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [SECTION, "",
             "Written by `bench/gateway_bench.py --record`. A small scikit-learn model (logistic regression, 4 "
             "features, skops) and an upstream container (a plain asyncio server implementing SageMaker's container "
             "contract) behind one gateway process; the load generator is a second process on loopback (open loop, "
             f"{args.rate:g} requests/s, {args.repeats} runs of {args.seconds:g} s per case, medians reported; "
             "keep-alive connections, timed from send to the last byte). In-process models whose calls average "
             "under 1 ms are called on the event loop (`InlineModelCallMaxMs`). Baselines: the model called "
             "in-process through the gateway's own sklearn invoker (CSV parse + predict + CSV encode), and the "
             "container called directly by the same load generator. \"added\" = gateway minus baseline at the "
             "same percentile. Throughput: closed loop, 8 connections.",
             "",
             f"Run {when} on {os.cpu_count()} vCPU ({platform.processor() or platform.machine()}), load average "
             f"{load[0]:.1f}/{load[1]:.1f} at start; python {platform.python_version()}, scikit-learn "
             f"{sklearn.__version__}.", "",
             f"Baselines: in-process sklearn p50 {baselines['sklearn'][0]:.3f} ms / p99 {baselines['sklearn'][1]:.3f} "
             f"ms; container called directly p50 {baselines['container'][0]:.3f} ms / p99 "
             f"{baselines['container'][1]:.3f} ms.", "",
             "| model | capture (fsync) | requests | p50 ms | p99 ms (runs: min-max) | added p50 ms | added p99 ms "
             "| max req/s | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        low, high = r["p99_range"]
        lines.append(f"| {r['model']} | {r['capture']} | {r['n']:,} | {r['p50']:.3f} | {r['p99']:.3f} "
                     f"({low:.2f}-{high:.2f}) | {r['added50']:.3f} | {r['added99']:.3f} | {r['rps']:,.0f} "
                     f"| {r['errors']} |")
    target = [r for r in rows if r["capture"] == "100 % (interval)"]
    verdicts = [f"{r['model']} {r['added99']:.2f} ms ({'meets' if r['added99'] < 2 else 'misses'})" for r in target]
    lines += ["", f"Target: added p99 under 2 ms at {args.rate:g} requests/s with capture at 100 %: "
              + "; ".join(verdicts) + ".", ""]
    return "\n".join(lines)


def _record(report: str) -> None:
    path = REPO / "BENCHMARKS.md"
    text = path.read_text()
    if SECTION in text:
        head, _, rest = text.partition(SECTION)
        tail = rest[rest.find("\n## ") + 1:] if "\n## " in rest else ""
        text = head + report + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + report
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of one measured run")
    parser.add_argument("--repeats", type=int, default=3, help="measured runs per case (the median is reported)")
    parser.add_argument("--record", action="store_true", help="write the figures to BENCHMARKS.md")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--closed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=16, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
