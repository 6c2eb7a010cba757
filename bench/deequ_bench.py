"""Native one-pass profiler vs Amazon Deequ (`--engine deequ`) on the same capture file.

One run generates N SageMaker data-capture lines with the generator `bench/profile_bench.py`
uses (`demo.synthetic.write_capture_file`, `CaptureShape()`: 20 numeric features + 1
categorical + the model output), then runs, in turns (`--repeat` rounds, medians reported):

  native  `monitor baseline --input FILE --output DIR --spark-conf spark.driver.memory=2g`
  deequ   `monitor baseline --engine deequ ...` (our Spark 4.1 reads and quarantines, writes the
          good records as Parquet, the Deequ sidecar's Spark 3.5 runs ColumnProfilerRunner with
          KLL and ConstraintSuggestionRunner)

Each as a whole process: wall time, CPU and peak RSS of the process tree (the CLI's Python, its
JVM, the sidecar's Python and its JVM, RSS summed, polled every 0.2 s); engine seconds from
summary.json. Passes: the native engine reads the file once in ONE Spark job (the one-pass
aggregation; see monitor_service/spark/onepass.py); for Deequ, summary.json's
`deequ_spark_jobs` is the number of Spark jobs Deequ ran over the Parquet copy (counted by the
sidecar with Spark's status tracker), after our reader's passes (its count-and-quarantine
aggregation over the disk-cached parsed rows, the field-name query, the Parquet write).

Usage (under the shared lock):
  flock /tmp/spark-tests.lock .venv/bin/python bench/deequ_bench.py --rows 1000000 [--repeat 1] [--record]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from profile_bench import MONITOR, SEED, fmt, host, load_note, run_measured, versions  # noqa: E402

BENCHMARKS_MD = BENCH.parent / "BENCHMARKS.md"
SECTION = "## Profiling engines: native vs Deequ"
ENGINES = ("native", "deequ")


def run_engine(engine: str, path: Path, workdir: Path, timeout: float | None) -> dict[str, object]:
    out = workdir / f"{engine}-output"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(MONITOR), "baseline", "--input", str(path), "--output", str(out),
           "--spark-conf", "spark.driver.memory=2g"]
    if engine == "deequ":
        cmd += ["--engine", "deequ"]
    note = load_note()
    print(f"[{engine}] {' '.join(cmd)}", file=sys.stderr, flush=True)
    res = run_measured(cmd, timeout=timeout, log_prefix=workdir / engine)
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    ok = summary.get("status") == "Completed" and not res.timed_out
    return {"engine": engine, "ok": ok, "wall": res.wall, "cpu": res.cpu_seconds, "rss": res.peak_rss_mb,
            "engine_s": summary.get("engine_seconds"), "startup": summary.get("startup_seconds"),
            "rows": summary.get("records_analyzed"), "features": summary.get("features"),
            "deequ_jobs": summary.get("deequ_spark_jobs"), "load": note,
            "failure": None if ok else (summary.get("failure_reason") or res.stderr[-800:])}


def _median(rows: list[dict[str, object]], key: str) -> float | None:
    values = [float(r[key]) for r in rows if r["ok"] and r[key] is not None]  # type: ignore[arg-type]
    return statistics.median(values) if values else None


def render(rows_requested: int, size: int, runs: dict[str, list[dict[str, object]]], started: str,
           repeat: int) -> str:
    v = versions()
    lines = [
        f"### {rows_requested:,} rows ({size / 1e6:,.0f} MB capture JSONL)", "",
        f"Run {started} on {host()}; driver memory 2g (both JVMs); {repeat} round(s), medians. Versions: "
        f"pyspark {v.get('pyspark', '?')} (ours), pyspark 3.5.7 + Deequ 2.1.0-spark-3.5 (sidecar), "
        f"java {v.get('java', '?')}.", "",
        "| engine | rows | wall s | engine s | CPU s | peak RSS MB | passes over the data | note |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    native_engine = _median(runs["native"], "engine_s")
    for engine in ENGINES:
        rows = runs[engine]
        good = [r for r in rows if r["ok"]]
        if not good:
            lines.append(f"| {engine} | | | | | | | failed: {rows[-1]['failure']} |")
            continue
        last = good[-1]
        if engine == "native":
            passes = "1 read + 1 Spark job (one-pass aggregation)"
        else:
            passes = (f"our reader (count/quarantine job, names query, Parquet write) + "
                      f"{last['deequ_jobs']} Deequ Spark jobs on the Parquet copy")
        engine_s = _median(rows, "engine_s")
        ratio = f"; {engine_s / native_engine:.1f}× the native engine time" if engine == "deequ" and engine_s \
            and native_engine else ""
        lines.append(
            f"| {engine} | {last['rows']:,} | {fmt(_median(rows, 'wall'))} | {fmt(engine_s, 2)} | "
            f"{fmt(_median(rows, 'cpu'))} | {fmt(_median(rows, 'rss'), 0)} | {passes} | "
            f"{last['features']} features; start-up {fmt(_median(rows, 'startup'))} s{ratio}; "
            f"{last['load']} at start |")
    return "\n".join(lines) + "\n"


def record(text: str, rows_requested: int) -> None:
    content = BENCHMARKS_MD.read_text()
    heading = f"### {rows_requested:,} rows"
    intro = (f"{SECTION}\n\nWritten by `bench/deequ_bench.py --record`: `monitor baseline` on the native one-pass "
             "profiler and on `--engine deequ` (Deequ in its sidecar, docs/deequ.md), the same synthetic capture "
             "(`demo.synthetic.write_capture_file`, `CaptureShape()`, as `bench/profile_bench.py`). Peak RSS sums "
             "the process tree: for Deequ that is two Pythons and two JVMs.\n\n")
    if SECTION not in content:
        content = content.rstrip() + "\n\n" + intro
    start = content.index(SECTION)
    following = content.find("\n## ", start + len(SECTION))
    section = content[start: following if following != -1 else len(content)]
    if heading in section:
        a = section.index(heading)
        b = section.find("\n### ", a + 1)
        section = section[:a] + text + (section[b + 1:] if b != -1 else "")
    else:
        section = section.rstrip() + "\n\n" + text
    rest = content[following:] if following != -1 else ""
    BENCHMARKS_MD.write_text(content[:start] + section.rstrip() + "\n" + rest)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--record", action="store_true", help="write the figures into BENCHMARKS.md")
    p.add_argument("--keep", action="store_true", help="keep the generated capture and outputs")
    args = p.parse_args(argv)
    from demo.synthetic import CaptureShape, write_capture_file

    workdir = BENCH / "out" / f"deequ-{args.rows}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    path = workdir / "capture.jsonl"
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    t = time.perf_counter()
    size = write_capture_file(path, args.rows, CaptureShape(), SEED, datetime(2026, 11, 1, tzinfo=UTC))
    print(f"generated {args.rows:,} lines, {size / 1e6:,.0f} MB in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    runs: dict[str, list[dict[str, object]]] = {e: [] for e in ENGINES}
    for _ in range(args.repeat):
        for engine in ENGINES:
            result = run_engine(engine, path, workdir, args.timeout)
            print(json.dumps(result), file=sys.stderr, flush=True)
            runs[engine].append(result)
    text = render(args.rows, size, runs, started, args.repeat)
    print(text)
    if args.record:
        record(text, args.rows)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r["ok"] for rows in runs.values() for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
