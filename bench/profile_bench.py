"""Profiling benchmark: both of our engines vs DuckDB, a minimal Spark profile, whylogs and Evidently.

One run generates N SageMaker data-capture lines (20 numeric features + 1 categorical in a CSV
payload, plus the model output) with `demo.synthetic.write_capture_file`, then on that SAME
file measures, in turns (A B C ... A B C ..., `--repeat` rounds, medians reported):

  ours duckdb   `monitor baseline --engine duckdb --input FILE --output DIR`: the JVM-free engine.
  ours spark    `monitor baseline --input FILE --output DIR --spark-conf spark.driver.memory=2g`.
                Both as whole processes: wall time and peak RSS of the process tree (the CLI's
                Python plus the JVM child, RSS summed, polled every 0.2 s); `engine_seconds` and
                `records_analyzed` come from DIR/summary.json (engine time = without start-up;
                for Spark also without the JVM's first query, `startup_seconds`).
  spark minimal the yardstick of the Spark target (issue 12): a local[2] session with 2 GB of
                driver memory reads the text, `from_json` with the envelope schema, `split`, and
                ONE aggregation of count/min/max/mean/std, `kll_sketch_agg_double` and
                `hll_sketch_agg` per column. Engine time is that query (warm session).
  duckdb SUMMARIZE over the JSONL with the payload split into typed columns
                (reference/performance.md section 9 projection), `SET threads=2`, own process.
  duckdb one-pass the section 9 one-pass profile query (count/mean/std/min/max/quantiles/HLL/top-k).
  whylogs / evidently (--peers)
                the first min(N, 200k) rows parsed into a pandas frame, then only the profiling call
                is timed (`why.log(pandas=df)`; Evidently `Dataset.from_pandas` + DataSummaryPreset
                `Report.run`). They run in bench/.venv-peers (their pins conflict with ours); create
                it with `--setup-peers`. A peer that does not install or import prints "skipped".

"wall s" is the whole process (start-up included); "engine s" is the part that does the work.
"CPU s" is user+sys of the whole process tree (JVM included). Ratios are engine seconds, taken
round by round (each round runs every engine once, back to back) and the median of them given,
which keeps a ratio meaningful while the shared machine's speed drifts.

Usage:
  .venv/bin/python bench/profile_bench.py --rows 200000 [--repeat 3] [--peers] [--keep] [--record]
  .venv/bin/python bench/profile_bench.py --setup-peers      # create bench/.venv-peers once

Only the standard library is imported at module level: the same file is the worker that runs
inside the DuckDB / Spark process and inside the peers' virtualenv (`--worker ...`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_PY = REPO / ".venv" / "bin" / "python"
MONITOR = REPO / ".venv" / "bin" / "monitor"
PEERS_VENV = BENCH / ".venv-peers"
PEERS_PY = PEERS_VENV / "bin" / "python"
PEERS_STATUS = PEERS_VENV / "install-status.json"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
SECTION = "## Profiling"
PEER_ROW_CAP = 200_000
POLL_SECONDS = 0.2
SEED = 20261101
NUMERIC = 20  # CaptureShape() default: f0..f19, then "color"
PEERS = ("whylogs", "evidently")


# ---------------------------------------------------------------------------------------------
# Measurement of a child process tree
# ---------------------------------------------------------------------------------------------

@dataclass
class ProcResult:
    returncode: int | None
    wall: float
    peak_rss_mb: float
    cpu_seconds: float
    timed_out: bool
    stdout: str
    stderr: str
    # Names of the processes seen in the tree (e.g. whether a JVM was started at all).
    processes: frozenset[str] = frozenset()


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None,
                 log_prefix: Path | None = None) -> ProcResult:
    """Run `cmd`, polling the RSS of it and all its descendants every 0.2 s (summed)."""
    import psutil

    out_path = log_prefix.with_suffix(".stdout") if log_prefix else None
    err_path = log_prefix.with_suffix(".stderr") if log_prefix else None
    stdout = open(out_path, "w+b") if out_path else subprocess.PIPE  # noqa: SIM115
    stderr = open(err_path, "w+b") if err_path else subprocess.PIPE  # noqa: SIM115
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Own session, so a timeout can stop exactly this tree (by its process-group id).
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env, start_new_session=True)
    root = psutil.Process(proc.pid)
    peak = 0
    cpu_seen: dict[int, float] = {}
    names: set[str] = set()
    timed_out = False
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        total = 0
        for p in tree:
            try:
                total += p.memory_info().rss
                names.add(p.name())
                t = p.cpu_times()
                cpu_seen[p.pid] = t.user + t.system + t.children_user + t.children_system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak = max(peak, total)
        if timeout and time.perf_counter() - started > timeout:
            timed_out = True
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(POLL_SECONDS)
    proc.wait()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Reaped descendants are in RUSAGE_CHILDREN; the poll catches ones re-parented elsewhere.
    cpu_rusage = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(cpu_rusage, sum(cpu_seen.values()))
    # A process shorter than one poll interval: fall back to the kernel's max RSS of one child.
    peak = max(peak, (after.ru_maxrss if after.ru_maxrss > before.ru_maxrss else 0) * 1024)

    def text(handle: object, path: Path | None) -> str:
        if path is None:
            return ""
        handle.close()  # type: ignore[attr-defined]
        return path.read_text(errors="replace")

    if out_path:
        out_text, err_text = text(stdout, out_path), text(stderr, err_path)
    else:
        raise RuntimeError("run_measured needs log_prefix")  # pipes could deadlock on big output
    return ProcResult(proc.returncode, wall, peak / 2**20, cpu, timed_out, out_text, err_text, frozenset(names))


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------

@dataclass
class Row:
    engine: str
    rows: int | None = None
    wall: float | None = None
    engine_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mb: float | None = None
    status: str = "ok"
    note: str = ""

    @property
    def rate(self) -> float | None:
        if self.status != "ok" or not self.rows or not self.engine_s:
            return None
        return self.rows / self.engine_s


@dataclass
class Report:
    rows_requested: int
    file_bytes: int
    generate_s: float
    driver_memory: str
    started: str
    host: str
    repeat: int = 1
    versions: dict[str, str] = field(default_factory=dict)
    # engine -> one Row per round (in round order)
    runs: dict[str, list[Row]] = field(default_factory=dict)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.runs.setdefault(row.engine, []).append(row)

    def median(self, engine: str) -> Row | None:
        """The engine's median figures over its successful rounds (its last failure if none succeeded)."""
        rows = self.runs.get(engine, [])
        ok = [r for r in rows if r.status == "ok"]
        if not ok:
            return rows[-1] if rows else None

        def mid(name: str) -> float | None:
            values = [getattr(r, name) for r in ok if getattr(r, name) is not None]
            return statistics.median(values) if values else None

        notes = ok[-1].note + (f"; {len(ok)} of {len(rows)} rounds" if len(rows) > 1 else "")
        return Row(engine, rows=ok[-1].rows, wall=mid("wall"), engine_s=mid("engine_s"), cpu_s=mid("cpu_s"),
                   peak_rss_mb=max(r.peak_rss_mb or 0 for r in ok), note=notes)

    def ratio(self, engine: str, yardstick: str) -> float | None:
        """Median over rounds of engine seconds ÷ the yardstick's engine seconds in the same round."""
        rounds = zip(self.runs.get(engine, []), self.runs.get(yardstick, []), strict=False)
        pairs = [(a.engine_s, b.engine_s) for a, b in rounds
                 if a.status == b.status == "ok" and a.engine_s and b.engine_s]
        return statistics.median(a / b for a, b in pairs) if pairs else None


def fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


TARGETS = (
    # (engine, yardstick, bound, what)
    ("ours duckdb", "duckdb SUMMARIZE", 2.0, "DuckDB engine within 2× of DuckDB SUMMARIZE (engine time)"),
    ("ours spark", "spark minimal", 1.5, "Spark engine within 1.5× of the minimal Spark profile (engine time)"),
    ("ours spark", "duckdb SUMMARIZE", 8.0, "Spark engine within 8× of DuckDB SUMMARIZE (engine time)"),
)


def markdown(report: Report) -> str:
    mb = report.file_bytes / 1e6
    lines = [
        f"### {report.rows_requested:,} rows ({mb:,.0f} MB capture JSONL)",
        "",
        f"Run {report.started} on {report.host}; {report.repeat} round(s), medians; driver memory "
        f"{report.driver_memory}; file generated in {report.generate_s:.0f} s. Versions: "
        + ", ".join(f"{k} {v}" for k, v in report.versions.items()) + ".",
        "",
        "| engine | rows | wall s | engine s | CPU s | rows/s (engine) | peak RSS MB | engine s ÷ SUMMARIZE | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for engine in report.runs:
        r = report.median(engine)
        assert r is not None
        if r.status != "ok":
            lines.append(f"| {engine} | {fmt(r.rows)} | {fmt(r.wall)} | – | {fmt(r.cpu_s)} | – | "
                         f"{fmt(r.peak_rss_mb, 0)} | – | **{r.status}**: {r.note} |")
            continue
        ratio = report.ratio(engine, "duckdb SUMMARIZE")
        lines.append(f"| {engine} | {fmt(r.rows)} | {fmt(r.wall)} | {fmt(r.engine_s, 2)} | {fmt(r.cpu_s)} | "
                     f"{fmt(r.rate, 0)} | {fmt(r.peak_rss_mb, 0)} | {fmt(ratio, 2)} | {r.note} |")
    lines.append("")
    warm = report.median("warm spark")
    if warm is not None and warm.status == "ok" and warm.engine_s is not None:
        verdict = "**meets**" if warm.engine_s < 5 else "**misses**"
        lines.append(f"- Warm analysis of a {fmt(warm.rows)}-record window on Spark under 5 s: "
                     f"{warm.engine_s:.2f} s → {verdict} the target.")
    for engine, yardstick, bound, what in TARGETS:
        ratio = report.ratio(engine, yardstick)
        if ratio is None:
            lines.append(f"- {what}: not measured in this run ({engine} or {yardstick} did not complete).")
        else:
            verdict = "**meets**" if ratio <= bound else "**misses**"
            lines.append(f"- {what}: {ratio:.2f}× → {verdict} the target.")
    for engine in ("ours duckdb", "ours spark"):
        r = report.median(engine)
        if r is None:
            continue
        if r.status == "ok":
            extra = f" with spark.driver.memory={report.driver_memory}" if engine == "ours spark" else ""
            lines.append(f"- Memory, {engine}: completed {fmt(r.rows)} records{extra}; peak RSS of the process tree "
                         f"{fmt(r.peak_rss_mb, 0)} MB.")
        else:
            lines.append(f"- Memory, {engine}: did **not** complete ({r.status}); peak RSS seen "
                         f"{fmt(r.peak_rss_mb, 0)} MB.")
    for engine, details in report.failures.items():
        lines += ["", f"Failure details ({engine}):", ""]
        for key, value in details.items():
            lines += [f"* {key}:", "", "  ```", *("  " + v for v in value.splitlines()), "  ```"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The engines
# ---------------------------------------------------------------------------------------------

def run_ours(engine: str, path: Path, workdir: Path, driver_memory: str, timeout: float | None,
             report: Report) -> Row:
    """`monitor baseline` on one engine as a whole process; engine time from its summary.json."""
    name = engine.split()[-1]
    out = workdir / f"ours-{name}-output"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(MONITOR), "baseline", "--engine", name, "--input", str(path), "--output", str(out)]
    if name == "spark":
        cmd += ["--spark-conf", f"spark.driver.memory={driver_memory}"]
    print(f"[{engine}] {' '.join(cmd)}", file=sys.stderr, flush=True)
    res = run_measured(cmd, timeout=timeout, log_prefix=workdir / f"ours-{name}")
    row = Row(engine, wall=res.wall, cpu_s=res.cpu_seconds, peak_rss_mb=res.peak_rss_mb)
    summary_path = out / "summary.json"
    summary: dict = {}
    if summary_path.exists():
        try:
            summary = json.loads(summary_path.read_text())
        except ValueError as exc:
            summary = {"status": "Failed", "failure_reason": f"unreadable summary.json: {exc}"}
    if res.timed_out:
        row.status = "timed out"
        row.note = f"stopped after {res.wall:.0f} s (--timeout {timeout:.0f})"
    elif not summary:
        row.status = "error"
        row.note = f"no summary.json; exit code {res.returncode}"
    elif summary.get("status") == "Failed" or res.returncode not in (0, 3):
        row.status = "failed"
        row.note = f"exit {res.returncode}: {summary.get('failure_reason')}"
    if summary and row.status == "ok":
        row.rows = summary.get("records_analyzed")
        row.engine_s = summary.get("engine_seconds")
        startup = summary.get("startup_seconds") or 0.0
        row.note = (f"start-up (wall − engine) {res.wall - (row.engine_s or 0):.1f} s"
                    + (f", of which {'JVM + first query' if name == 'spark' else 'engine load'} {startup:.1f} s"
                       if startup else "")
                    + f"; {summary.get('features')} features"
                    + ("" if name == "spark" else
                       "; a JVM was started" if "java" in res.processes else "; no JVM in the process tree"))
    if row.status != "ok":
        report.failures[engine] = {
            "exit code": str(res.returncode),
            "summary.json status / failure_reason": f"{summary.get('status')} / {summary.get('failure_reason')}",
            "summary.json exit_message": str(summary.get("exit_message")),
            "stderr (errors, last lines)": _error_lines(res.stderr),
            "stdout (last lines)": "\n".join(res.stdout.strip().splitlines()[-5:]),
        }
        print(f"[{engine}] FAILED: {row.note}\n  logs: {workdir}/ours-{name}.stderr, {summary_path}",
              file=sys.stderr)
    print(f"[{engine}] {row}", file=sys.stderr, flush=True)
    return row


def _error_lines(stderr: str, frames: int = 24) -> str:
    """The interesting part of a Spark stderr: the distinct ERROR lines, then the first stack trace."""
    lines = stderr.splitlines()
    keep: list[str] = []
    for ln in lines:
        if re.search(r"\bERROR\b|Traceback|Killed", ln) and ln[:400] not in keep:
            keep.append(ln[:400])
    first = next((i for i, ln in enumerate(lines)
                  if re.search(r"^\S*(Exception|Error)\b.*|OutOfMemoryError", ln) and "ERROR" not in ln), None)
    if first is not None:
        keep += ["first stack trace:", *(ln[:400] for ln in lines[first:first + frames])]
    elif lines:
        keep += ["last lines:", *(ln[:400] for ln in lines[-10:])]
    return "\n".join(keep)


def run_worker_proc(engine: str, python: Path, path: Path, rows: int, workdir: Path,
                    timeout: float | None, driver_memory: str = "2g") -> Row:
    env = dict(os.environ, WHYLOGS_NO_ANALYTICS="True", DO_NOT_TRACK="1", EVIDENTLY_DISABLE_TELEMETRY="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [str(python), str(Path(__file__).resolve()), "--worker", engine, "--input", str(path), "--rows", str(rows),
           "--driver-memory", driver_memory]
    print(f"[{engine}] {' '.join(cmd)}", file=sys.stderr, flush=True)
    res = run_measured(cmd, env=env, timeout=timeout, log_prefix=workdir / engine.replace(" ", "_"))
    row = Row(engine, wall=res.wall, cpu_s=res.cpu_seconds, peak_rss_mb=res.peak_rss_mb)
    payload = None
    for line in reversed(res.stdout.strip().splitlines()):
        if line.startswith("{"):
            payload = json.loads(line)
            break
    if res.timed_out:
        row.status, row.note = "timed out", f"stopped after {res.wall:.0f} s"
    elif payload is None:
        row.status = "error"
        row.note = (res.stderr.strip().splitlines() or [f"exit {res.returncode}"])[-1][:300]
    elif "skipped" in payload:
        row.status, row.note = "skipped", payload["skipped"]
    else:
        row.rows, row.engine_s, row.note = payload["rows"], payload["seconds"], payload.get("note", "")
    print(f"[{engine}] {row}", file=sys.stderr, flush=True)
    return row


# ---------------------------------------------------------------------------------------------
# Worker side (runs in its own process; standard library + the engine only)
# ---------------------------------------------------------------------------------------------

def _duckdb_columns_sql() -> tuple[str, list[str], list[str]]:
    """The section 9 projection: `_c0` model output, `_c1.._c20` numeric, `_c21` categorical."""
    numeric = ["_c0", *(f"_c{i + 1}" for i in range(NUMERIC))]
    projection = ["TRY_CAST(NULLIF(o, '') AS DOUBLE) AS _c0"]
    projection += [f"TRY_CAST(NULLIF(s[{i + 1}], '') AS DOUBLE) AS _c{i + 1}" for i in range(NUMERIC)]
    projection.append(f"NULLIF(s[{NUMERIC + 1}], '') AS _c{NUMERIC + 1}")
    return ", ".join(projection), numeric, [f"_c{NUMERIC + 1}"]


def _duckdb_source(path: str) -> str:
    proj, _, _ = _duckdb_columns_sql()
    return (f"SELECT {proj} FROM (SELECT string_split(captureData.endpointInput.data, ',') AS s, "
            f"captureData.endpointOutput.data AS o FROM read_ndjson('{path}', columns={{captureData: "
            f"'STRUCT(endpointInput STRUCT(data VARCHAR), endpointOutput STRUCT(data VARCHAR))'}}))")


def worker_duckdb(path: str, one_pass: bool) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads=2")
    source = _duckdb_source(path)
    if one_pass:
        _, numeric, categorical = _duckdb_columns_sql()
        aggs = ["count(*)"]
        for f in numeric:
            aggs += [f"count({f})", f"avg({f})", f"stddev_samp({f})", f"min({f})", f"max({f})",
                     f"approx_quantile({f}, [0.25, 0.5, 0.75])", f"approx_count_distinct({f})"]
        for c in categorical:
            aggs += [f"count({c})", f"approx_count_distinct({c})", f"approx_top_k({c}, 10)"]
        sql = f"SELECT {', '.join(aggs)} FROM ({source})"
    else:
        sql = f"SUMMARIZE {source}"
    t = time.perf_counter()
    result = con.execute(sql).fetchall()
    seconds = time.perf_counter() - t
    # SUMMARIZE rows: name, type, min, max, approx_unique, avg, std, q25, q50, q75, count, null_percentage
    rows = int(result[0][0]) if one_pass else int(result[0][10])
    return {"rows": rows, "seconds": seconds, "note": f"duckdb {duckdb.__version__}, threads=2"
            + ("; §9 one-pass query" if one_pass else f"; SUMMARIZE, {len(result)} columns")}


def worker_spark_minimal(path: str, driver_memory: str) -> dict:
    """The minimal Spark profile of issue 12 on a warm local[2] session (session start not timed)."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("minimal-profile")
             .config("spark.driver.memory", driver_memory).config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1").config("spark.sql.files.maxPartitionBytes", str(32 << 20))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # the first query of a fresh JVM is start-up, as in our CLI
    side = "struct<data:string>"
    schema = f"captureData struct<endpointInput:{side},endpointOutput:{side}>"
    values = spark.read.text(path).selectExpr(f"from_json(value, '{schema}') AS e").selectExpr(
        "split(e.captureData.endpointInput.data, ',') AS s", "e.captureData.endpointOutput.data AS o")
    columns = [("_c0", "o")] + [(f"_c{i + 1}", f"s[{i}]") for i in range(NUMERIC + 1)]
    projected = values.selectExpr(*[f"nullif({expr}, '') AS {name}" for name, expr in columns])
    aggs = ["count(1)"]
    for name, _ in columns:
        number = f"try_cast({name} AS double)"  # (the categorical column has no numbers: NULL, as in SUMMARIZE)
        aggs += [f"count({name})", f"min({number})", f"max({number})", f"avg({number})", f"stddev_pop({number})",
                 f"kll_sketch_agg_double({number}, 2048)", f"hll_sketch_agg({name})"]
    t = time.perf_counter()
    row = projected.selectExpr(*aggs).collect()[0]
    seconds = time.perf_counter() - t
    version = spark.version
    spark.stop()
    return {"rows": int(row[0]), "seconds": seconds,
            "note": f"pyspark {version} local[2]; from_json + split + one aggregation with KLL and HLL"}


def _read_frame(path: str, rows: int):
    """The first `rows` capture lines as a typed pandas frame (same columns as ours / DuckDB)."""
    import numpy as np
    import pandas as pd

    outputs: list[str] = []
    payloads: list[list[str]] = []
    with open(path, encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            if i >= rows:
                break
            capture = json.loads(line)["captureData"]
            outputs.append(capture["endpointOutput"]["data"])
            payloads.append(capture["endpointInput"]["data"].split(","))
    cols = list(zip(*payloads, strict=True))
    frame: dict[str, object] = {"_c0": pd.to_numeric(pd.Series(outputs), errors="coerce").astype(np.float64)}
    for j in range(NUMERIC):
        frame[f"_c{j + 1}"] = pd.to_numeric(pd.Series(cols[j]).replace("", None), errors="coerce").astype(np.float64)
    frame[f"_c{NUMERIC + 1}"] = pd.Series(cols[NUMERIC], dtype=object)
    return pd.DataFrame(frame)


def worker_peer(engine: str, path: str, rows: int) -> dict:
    try:
        if engine == "whylogs":
            import whylogs as why
            version = why.__version__
        else:
            import evidently
            from evidently import DataDefinition, Dataset
            from evidently import Report as EvReport
            from evidently.presets import DataSummaryPreset
            version = evidently.__version__
    except Exception as exc:
        return {"skipped": f"{engine} does not import in {sys.prefix}: {type(exc).__name__}: {exc}"[:300]}
    t = time.perf_counter()
    df = _read_frame(path, rows)
    parse_s = time.perf_counter() - t
    n = len(df)
    if engine == "whylogs":
        t = time.perf_counter()
        result = why.log(pandas=df)
        result.view()
        seconds = time.perf_counter() - t
        note = f"whylogs {version}; why.log(pandas=df); parse to pandas {parse_s:.1f} s untimed"
    else:
        numeric = [c for c in df.columns if df[c].dtype.kind == "f"]
        categorical = [c for c in df.columns if c not in numeric]
        t = time.perf_counter()
        ds = Dataset.from_pandas(df, data_definition=DataDefinition(numerical_columns=numeric,
                                                                    categorical_columns=categorical))
        EvReport([DataSummaryPreset()]).run(current_data=ds, reference_data=None)
        seconds = time.perf_counter() - t
        note = f"evidently {version}; DataSummaryPreset; parse to pandas {parse_s:.1f} s untimed"
    return {"rows": n, "seconds": seconds, "note": note}


def worker_warm_window(engine: str, path: str, rows: int, driver_memory: str) -> dict:
    """A scheduler's warm window: baseline once, then analyses of a `rows`-record window in one process.

    The first analysis warms the session (JIT, code generation); the figure is the median of the
    next three (engine seconds from their summaries), as a scheduler with a warm session sees it.
    """
    import tempfile

    sys.path.insert(0, str(REPO))
    from monitor_service.monitors.data_quality.analysis_job import run_analysis
    from monitor_service.monitors.data_quality.baseline_job import run_baseline
    from monitor_service.monitors.data_quality.requests import AnalyzeRequest, BaselineRequest
    from monitor_service.specs import InputSpec

    name = engine.split()[1]
    spark = None
    if name == "spark":
        from monitor_service.spark.session import get_session

        spark = get_session(master="local[2]", conf={"spark.driver.memory": driver_memory})
    work = Path(tempfile.mkdtemp(prefix="warm-window-"))
    window = work / "window.jsonl"
    with open(path, encoding="utf-8") as source, open(window, "w", encoding="utf-8") as target:
        for i, line in enumerate(source):
            if i >= rows:
                break
            target.write(line)
    # The same baseline twice: the first is this process's first real query (for Spark: JIT and
    # code generation of the plan), the second is what a warm session pays; the difference is the
    # first-query cost a CLI run carries inside its engine time.
    firsts = []
    for attempt in range(2):
        base = run_baseline(spark, BaselineRequest(input=InputSpec(path=str(window)),
                                                   output_dir=str(work / f"b{attempt}"), engine=name))
        firsts.append(base.engine_seconds)
    times = []
    for round_no in range(4):
        summary = run_analysis(spark, AnalyzeRequest(
            input=InputSpec(path=str(window)), baseline_statistics=base.artifacts["statistics"],
            baseline_constraints=base.artifacts["constraints"], output_dir=str(work / f"a{round_no}"), engine=name))
        if summary.status == "Failed":
            return {"skipped": f"analysis failed: {summary.failure_reason}"}
        times.append(summary.engine_seconds)
    shutil.rmtree(work, ignore_errors=True)
    return {"rows": summary.records_analyzed, "seconds": statistics.median(times[1:]),
            "note": f"warm analysis (median of 3 after 1 warm-up): {', '.join(f'{t:.2f}' for t in times)} s; "
                    f"baseline of the window first {firsts[0]:.2f} s, again {firsts[1]:.2f} s (first-query cost "
                    f"{firsts[0] - firsts[1]:.2f} s)"}


def worker_main(engine: str, path: str, rows: int, driver_memory: str) -> None:
    if engine.startswith("warm "):
        payload = worker_warm_window(engine, path, rows, driver_memory)
    elif engine == "spark minimal":
        payload = worker_spark_minimal(path, driver_memory)
    elif engine == "duckdb SUMMARIZE":
        payload = worker_duckdb(path, one_pass=False)
    elif engine == "duckdb one-pass":
        payload = worker_duckdb(path, one_pass=True)
    else:
        payload = worker_peer(engine, path, rows)
    print(json.dumps(payload), flush=True)


# ---------------------------------------------------------------------------------------------
# Peers' virtualenv
# ---------------------------------------------------------------------------------------------

def setup_peers() -> None:
    """Create bench/.venv-peers: whylogs with its pins, then Evidently separately."""
    status: dict[str, str] = {}
    if not PEERS_PY.exists():
        subprocess.run(["python3", "-m", "venv", str(PEERS_VENV)], check=True)
    pip = [str(PEERS_PY), "-m", "pip", "install", "-q"]
    for name, spec in (("whylogs", ["whylogs", "numpy<2", "pandas<3"]), ("evidently", ["evidently", "pandas<3"])):
        proc = subprocess.run([*pip, *spec], capture_output=True, text=True)
        errors = [ln for ln in proc.stderr.splitlines() if "ERROR" in ln]
        status[name] = "ok" if proc.returncode == 0 else f"pip install failed: {(errors or ['?'])[-1][:200]}"
        print(f"[setup-peers] {name}: {status[name]}", file=sys.stderr)
    PEERS_STATUS.write_text(json.dumps(status, indent=2))


def peer_skip_reason(engine: str) -> str | None:
    if not PEERS_PY.exists():
        return f"no {PEERS_VENV.relative_to(REPO)} (run with --setup-peers)"
    if PEERS_STATUS.exists():
        state = json.loads(PEERS_STATUS.read_text()).get(engine, "ok")
        if state != "ok":
            return state
    return None  # the worker reports an import failure itself


# ---------------------------------------------------------------------------------------------
# BENCHMARKS.md
# ---------------------------------------------------------------------------------------------

SECTION_INTRO = """\
Written by `bench/profile_bench.py --record` (one subsection per row count; a re-run replaces its own).
Synthetic SageMaker capture (`demo.synthetic.write_capture_file`, `CaptureShape()`:
20 numeric features + 1 categorical in the CSV payload, plus the model output = 22 columns).
Every engine runs once per round, back to back, for `--repeat` rounds; figures are medians.
"wall s" is the whole process incl. start-up; "engine s" is the work only (ours: `engine_seconds`
from summary.json, i.e. without process start-up and, for Spark, without the JVM and its first
query; DuckDB and the minimal Spark profile: the query; peers: the profiling call on a pre-parsed
pandas frame, at most 200k rows). "CPU s" is user+sys of the whole process tree. Peak RSS is the
sum over the process tree (the CLI's Python + the JVM), polled every 0.2 s. "engine s ÷ SUMMARIZE"
is the median over rounds of the ratio within a round. Targets (issue 12): the DuckDB engine within
2× of DuckDB SUMMARIZE with peak memory under 1 GB for a 1 GB capture, no JVM; the Spark engine
within 1.5× of the minimal Spark profile and 8× of SUMMARIZE; a 1 GB capture with 2 GB driver memory.

**Caveat: the VM has 2 cores shared with other workers (load average noted per run), so wall times
swing; the ratios within a round are what to compare.**
"""


def record(report: Report, table: str) -> None:
    new_file = "# Benchmarks\n\nMeasured results, one section per area.\n"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else new_file
    if f"\n{SECTION}\n" in text:
        start = text.find(f"\n{SECTION}\n") + 1
    else:
        start = 0 if text.startswith(f"{SECTION}\n") else -1
    if start >= 0:
        end_match = re.search(r"^## (?!#)", text[start + len(SECTION):], flags=re.M)
        end = start + len(SECTION) + end_match.start() if end_match else len(text)
        body = text[start:end]
    else:
        start = end = len(text)
        body = ""
    subsections: dict[int, str] = {}
    for m in re.finditer(r"^### ([\d,]+) rows.*?(?=^### |\Z)", body, flags=re.M | re.S):
        subsections[int(m.group(1).replace(",", ""))] = m.group(0).rstrip() + "\n"
    subsections[report.rows_requested] = table.rstrip() + "\n"
    new_body = f"{SECTION}\n\n{SECTION_INTRO}\n" + "\n".join(subsections[k] for k in sorted(subsections))
    before = text[:start]
    if before and not before.endswith("\n\n"):
        before = before.rstrip("\n") + "\n\n"
    after = text[end:]
    BENCHMARKS_MD.write_text(before + new_body + ("\n" + after if after else ""))
    print(f"recorded in {BENCHMARKS_MD}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

def versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, code in (("pyspark", "import pyspark; print(pyspark.__version__)"),
                       ("duckdb", "import duckdb; print(duckdb.__version__)")):
        proc = subprocess.run([str(VENV_PY), "-c", code], capture_output=True, text=True)
        out[name] = proc.stdout.strip() or "?"
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    out["java"] = java[0].split('"')[1] if java and '"' in java[0] else "?"
    out["python"] = platform.python_version()
    return out


def host() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} vCPU ({cpu}), {mem:.0f} GiB RAM"


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


ENGINES = ("ours duckdb", "duckdb SUMMARIZE", "ours spark", "spark minimal", "duckdb one-pass")
WARM_ROWS = 100_000  # the warm window of the Spark target (issue 12)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000, help="capture lines to generate (default 200000)")
    p.add_argument("--repeat", type=int, default=3, help="rounds of every engine, in turns (default 3)")
    p.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated subset of {', '.join(ENGINES)}")
    p.add_argument("--peers", action="store_true", help="also run whylogs and Evidently once (≤ 200k rows)")
    p.add_argument("--warm-window", action="store_true",
                   help=f"also time warm analyses of a {WARM_ROWS:,}-record window in one process per engine")
    p.add_argument("--keep", action="store_true", help="keep the generated file and outputs in bench/out/")
    p.add_argument("--record", action="store_true", help="write the table into BENCHMARKS.md (## Profiling)")
    p.add_argument("--driver-memory", default="2g", help="spark.driver.memory for the Spark runs (default 2g)")
    p.add_argument("--timeout", type=float, default=0, help="stop a run after this many seconds (0 = never)")
    p.add_argument("--setup-peers", action="store_true", help="create bench/.venv-peers and exit")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        worker_main(args.worker, args.input, args.rows, args.driver_memory)
        return 0
    if args.setup_peers:
        setup_peers()
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        p.error(f"unknown engines {unknown}; use {', '.join(ENGINES)}")

    sys.path.insert(0, str(REPO))
    from demo.synthetic import CaptureShape, write_capture_file

    workdir = BENCH / "out" / f"profile-{args.rows}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    path = workdir / "capture.jsonl"
    print(f"generating {args.rows:,} capture lines into {path}", file=sys.stderr, flush=True)
    t = time.perf_counter()
    size = write_capture_file(path, args.rows, CaptureShape(), SEED, datetime(2026, 11, 1, tzinfo=UTC))
    gen_s = time.perf_counter() - t
    print(f"  {size / 1e6:,.1f} MB in {gen_s:.1f} s", file=sys.stderr, flush=True)

    report = Report(rows_requested=args.rows, file_bytes=size, generate_s=gen_s, driver_memory=args.driver_memory,
                    started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), host=host(), repeat=args.repeat,
                    versions=versions())
    # Read the file once so every engine starts from a warm page cache.
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass

    timeout = args.timeout or None
    for round_no in range(args.repeat):
        for engine in engines:
            note = load_note()
            if engine.startswith("ours"):
                row = run_ours(engine, path, workdir, args.driver_memory, timeout, report)
            else:
                row = run_worker_proc(engine, VENV_PY, path, args.rows, workdir, timeout, args.driver_memory)
            row.note = f"{row.note}; {note} at start" if row.note else f"{note} at start"
            print(f"  round {round_no + 1}/{args.repeat} {engine}: engine {fmt(row.engine_s, 2)} s", file=sys.stderr)
            report.add(row)
    if args.warm_window:
        for engine in ("warm spark", "warm duckdb"):
            report.add(run_worker_proc(engine, VENV_PY, path, min(args.rows, WARM_ROWS), workdir, timeout,
                                       args.driver_memory))
    if args.peers:
        peer_rows = min(args.rows, PEER_ROW_CAP)
        for engine in PEERS:
            reason = peer_skip_reason(engine)
            if reason:
                print(f"[{engine}] skipped: {reason}", file=sys.stderr)
                report.add(Row(engine, status="skipped", note=reason))
                continue
            note = load_note()
            row = run_worker_proc(engine, PEERS_PY, path, peer_rows, workdir, None)
            if row.status == "skipped":
                print(f"[{engine}] skipped: {row.note}", file=sys.stderr)
            row.note = f"{row.note}; {note} at start"
            report.add(row)

    table = markdown(report)
    print(table)
    (workdir.parent / f"profile-{args.rows}.json").write_text(json.dumps(asdict(report), indent=2))
    if args.record:
        record(report, table)
    if not args.keep:  # the small logs and outputs stay in bench/out/ (gitignored)
        path.unlink(missing_ok=True)
    failed = [e for e in ("ours duckdb", "ours spark") if (m := report.median(e)) is not None and m.status != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
