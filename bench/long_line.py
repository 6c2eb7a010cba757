"""One 50 MB capture line among good ones, with a 2 GB driver: does the job complete, and at what cost?

Writes a capture file of `--good` CSV lines with one line of `--mb` MB in the middle, runs
`monitor baseline` on it as its own process with `spark.driver.memory=2g` (local[2]), and
records the exit code, status, quarantine counts, wall time and peak RSS of the process tree.
`--source DIR` runs another checkout of the code (e.g. an export of main before the fix) for a
side-by-side figure.

    flock /tmp/spark-tests.lock .venv/bin/python bench/long_line.py [--source /tmp/old] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
SECTION = "## One over-long capture line"


def write_capture(path: Path, good: int, mb: int) -> None:
    def line(features: str, event: int) -> str:
        return json.dumps({"captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": features, "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5", "encoding": "CSV"}},
            "eventMetadata": {"eventId": f"e{event}", "inferenceTime": "2024-05-01T00:00:00Z"}, "eventVersion": "0"})

    with path.open("w", encoding="utf-8") as out:
        for i in range(good):
            out.write(line(f"{i},{i % 7},{i * 0.5}", i) + "\n")
            if i == good // 2:
                out.write(line("1," + "9" * (mb * 1024 * 1024), -1) + "\n")


def run(source: Path, capture: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    code = "import sys; from monitor_service.cli.main import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "baseline", "--input", str(capture), "--output", str(out),
            "--spark-master", "local[2]", "--spark-conf", "spark.driver.memory=2g"]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=source, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0

    def poll() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            except psutil.Error:
                rss = 0
            peak = max(peak, rss)
            time.sleep(0.2)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        stderr += "\n(killed after 900 s)"
    watcher.join()
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return {"exit": process.returncode, "wall": time.perf_counter() - started, "peak_mb": peak / 2**20,
            "status": summary.get("status", "(no summary.json)"), "summary": summary,
            "oom": "OutOfMemoryError" in stderr or "Java heap space" in stderr,
            "stderr_lines": len(stderr.splitlines()), "stdout": stdout.strip()[-300:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--good", type=int, default=20_000)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--source", action="append", default=[], help="another checkout to run side by side")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="long-line-"))
    capture = work / "capture.jsonl"
    write_capture(capture, args.good, args.mb)
    rows = []
    for label, source in [("this branch", REPO), *((f"code at {s}", Path(s)) for s in args.source)]:
        result = run(source, capture, work / f"out-{len(rows)}")
        quarantined = result["summary"].get("records_quarantined", {}).get("by_reason", {})
        rows.append(f"| {label} | {result['exit']} | {result['status']} | "
                    f"{result['summary'].get('records_analyzed', '-')} | {quarantined or '-'} | "
                    f"{'yes' if result['oom'] else 'no'} | {result['wall']:.1f} | {result['peak_mb']:,.0f} |")
        print(rows[-1], flush=True)
    text = (f"{SECTION}\n\nWritten by `bench/long_line.py --record`: {args.good:,} good CSV capture lines and one "
            f"line of {args.mb} MB ({capture.stat().st_size / 2**20:.0f} MB file), `monitor baseline` with "
            "`spark.driver.memory=2g`, local[2], each run its own process; peak RSS is the whole process tree "
            "(Python + JVM), polled every 0.2 s. The over-long line is quarantined as `line_too_long` by its byte "
            "length before any parser sees it (default `max_line_bytes` 16 MiB).\n\n"
            "| code | exit | status | records analyzed | quarantined | Java OOM | wall s | peak RSS MB |\n"
            "|---|---:|---|---:|---|---|---:|---:|\n" + "\n".join(rows) + "\n")
    print(text)
    if args.record:
        path = REPO / "BENCHMARKS.md"
        content = path.read_text(encoding="utf-8")
        if SECTION in content:
            head, _, rest = content.partition(SECTION)
            content = head + text + (rest[rest.find("\n## "):] if "\n## " in rest else "")
        else:
            content = content.rstrip("\n") + "\n\n" + text
        path.write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
