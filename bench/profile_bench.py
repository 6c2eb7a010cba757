"""Profiling benchmark: our baseline job vs DuckDB (and optionally whylogs / Evidently) on one capture file.

One run generates N SageMaker data-capture lines (20 numeric features + 1 categorical in a CSV
payload, plus the model output) with `demo.synthetic.write_capture_file`, then on
that SAME file measures:

  ours      `monitor baseline --input FILE --output DIR --spark-conf spark.driver.memory=2g`
            as a whole process: wall time and peak RSS of the process tree (the CLI's Python
            plus the JVM child, RSS summed, polled every 0.2 s); `engine_seconds` and
            `records_analyzed` come from DIR/summary.json (engine time = without JVM start-up).
  duckdb    `SUMMARIZE` over the JSONL with the payload split into typed columns
            (reference/performance.md section 9 projection), `SET threads=2`, in its own process.
  duckdb-1p the section 9 one-pass profile query (count/mean/std/min/max/quantiles/HLL/top-k),
            the "near limit" yardstick of performance.md section 8, also in its own process.
  whylogs / evidently (--peers)
            the first min(N, 200k) rows parsed into a pandas frame, then only the profiling call
            is timed (`why.log(pandas=df)`; Evidently `Dataset.from_pandas` + DataSummaryPreset
            `Report.run`). They run in bench/.venv-peers (their pins conflict with ours); create it
            with `--setup-peers`. A peer that does not install or import prints "skipped: <reason>".

"wall s" is the whole process (start-up included); "engine s" is the part that does the work
(ours: summary.json engine_seconds; DuckDB: the query; peers: the profiling call). "rows/s" is
rows / engine s. "CPU s" is user+sys of the whole process tree (JVM included).

Usage:
  .venv/bin/python bench/profile_bench.py --rows 200000 [--peers] [--keep] [--record]
  .venv/bin/python bench/profile_bench.py --setup-peers      # create bench/.venv-peers once

Only the standard library is imported at module level: the same file is the worker that runs
inside the DuckDB process and inside the peers' virtualenv (`--worker ...`).
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
    return ProcResult(proc.returncode, wall, peak / 2**20, cpu, timed_out, out_text, err_text)


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
    versions: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    ours_failure: dict[str, str] = field(default_factory=dict)

    def get(self, engine: str) -> Row | None:
        return next((r for r in self.rows if r.engine == engine), None)


def fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def ratio_text(ours: Row | None, other: Row) -> str:
    if other.engine == "ours":
        return "1.00"
    if ours is None or ours.rate is None or other.rate is None:
        return "–"
    return f"{ours.rate / other.rate:.2f}"


def markdown(report: Report) -> str:
    ours = report.get("ours")
    mb = report.file_bytes / 1e6
    lines = [
        f"### {report.rows_requested:,} rows ({mb:,.0f} MB capture JSONL)",
        "",
        f"Run {report.started} on {report.host}; driver memory {report.driver_memory}; "
        f"file generated in {report.generate_s:.0f} s. Versions: "
        + ", ".join(f"{k} {v}" for k, v in report.versions.items()) + ".",
        "",
        "| engine | rows | wall s | engine s | CPU s | rows/s (engine) | peak RSS MB | ours ÷ this (rows/s) | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in report.rows:
        if r.status != "ok":
            lines.append(f"| {r.engine} | {fmt(r.rows)} | {fmt(r.wall)} | – | {fmt(r.cpu_s)} | – | "
                         f"{fmt(r.peak_rss_mb, 0)} | – | **{r.status}**: {r.note} |")
            continue
        lines.append(f"| {r.engine} | {fmt(r.rows)} | {fmt(r.wall)} | {fmt(r.engine_s, 2)} | {fmt(r.cpu_s)} | "
                     f"{fmt(r.rate, 0)} | {fmt(r.peak_rss_mb, 0)} | {ratio_text(ours, r)} | {r.note} |")
    lines.append("")
    duck = report.get("duckdb SUMMARIZE")
    if ours is not None and ours.rate is not None and duck is not None and duck.rate is not None:
        slower = duck.rate / ours.rate
        verdict = "meets" if slower <= 2 else "misses"
        lines.append(f"Target \"engine throughput within 2× of DuckDB\": ours is {slower:.1f}× slower than "
                     f"DuckDB SUMMARIZE in engine rows/s → **{verdict}** the target.")
    else:
        lines.append("Target \"engine throughput within 2× of DuckDB\": not measurable in this run "
                     "(ours or DuckDB did not complete).")
    if ours is not None and duck is not None and ours.rate is not None and duck.rate is not None \
            and ours.cpu_s and duck.cpu_s:
        ours_us, duck_us = ours.cpu_s / ours.rows * 1e6, duck.cpu_s / duck.rows * 1e6
        lines.append(f"By CPU (user+sys of the whole process tree, JVM start-up included for ours): ours "
                     f"{ours_us:,.0f} CPU-µs/row vs DuckDB SUMMARIZE {duck_us:,.0f} CPU-µs/row "
                     f"({ours_us / duck_us:.1f}×); less sensitive to the shared VM than wall time.")
    if ours is not None:
        if ours.status == "ok":
            lines.append(f"Memory: ours completed {fmt(ours.rows)} records with spark.driver.memory="
                         f"{report.driver_memory}; peak RSS of the process tree {fmt(ours.peak_rss_mb, 0)} MB.")
        else:
            lines.append(f"Memory: ours did **not** complete with spark.driver.memory={report.driver_memory} "
                         f"({ours.status}); peak RSS seen {fmt(ours.peak_rss_mb, 0)} MB.")
    if report.ours_failure:
        lines += ["", "Failure details (ours):", ""]
        for key, value in report.ours_failure.items():
            lines += [f"* {key}:", "", "  ```", *("  " + v for v in value.splitlines()), "  ```"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The engines
# ---------------------------------------------------------------------------------------------

def run_ours(path: Path, workdir: Path, driver_memory: str, timeout: float | None, report: Report) -> Row:
    out = workdir / "ours-output"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(MONITOR), "baseline", "--input", str(path), "--output", str(out),
           "--spark-conf", f"spark.driver.memory={driver_memory}"]
    print(f"[ours] {' '.join(cmd)}", file=sys.stderr, flush=True)
    res = run_measured(cmd, timeout=timeout, log_prefix=workdir / "ours")
    row = Row("ours", wall=res.wall, cpu_s=res.cpu_seconds, peak_rss_mb=res.peak_rss_mb)
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
        if row.status == "ok":
            row.note = (f"Spark local; start-up (wall − engine) {res.wall - row.engine_s:.1f} s; "
                        f"{summary.get('features')} features")
    if row.status != "ok":
        report.ours_failure = {
            "exit code": str(res.returncode),
            "summary.json status / failure_reason": f"{summary.get('status')} / {summary.get('failure_reason')}",
            "summary.json exit_message": str(summary.get("exit_message")),
            "stderr (errors, last lines)": _error_lines(res.stderr),
            "stdout (last lines)": "\n".join(res.stdout.strip().splitlines()[-5:]),
        }
        print(f"[ours] FAILED: {row.note}\n  logs: {workdir}/ours.stderr, {summary_path}", file=sys.stderr)
    print(f"[ours] {row}", file=sys.stderr, flush=True)
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
                    timeout: float | None) -> Row:
    env = dict(os.environ, WHYLOGS_NO_ANALYTICS="True", DO_NOT_TRACK="1", EVIDENTLY_DISABLE_TELEMETRY="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [str(python), str(Path(__file__).resolve()), "--worker", engine, "--input", str(path), "--rows", str(rows)]
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


def worker_main(engine: str, path: str, rows: int) -> None:
    if engine == "duckdb SUMMARIZE":
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
"wall s" is the whole process incl. start-up; "engine s" is the work only (ours: `engine_seconds`
from summary.json, i.e. without JVM/Spark start-up; DuckDB: the query; peers: the profiling call
on a pre-parsed pandas frame, at most 200k rows). "CPU s" is user+sys of the whole process tree.
Peak RSS is the sum over the process tree (the CLI's Python + the JVM), polled every 0.2 s.
"ours ÷ this" > 1 means we are faster. Targets: engine throughput within 2× of DuckDB; a 1 GB
capture profiles with 2 GB driver memory.

**Caveat: the VM has 2 cores shared with other workers running test suites during these runs
(load average noted per run), so wall times can swing by about 2×; CPU s is more stable.**
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000, help="capture lines to generate (default 200000)")
    p.add_argument("--peers", action="store_true", help="also run whylogs and Evidently (≤ 200k rows)")
    p.add_argument("--keep", action="store_true", help="keep the generated file and outputs in bench/out/")
    p.add_argument("--record", action="store_true", help="write the table into BENCHMARKS.md (## Profiling)")
    p.add_argument("--driver-memory", default="2g", help="spark.driver.memory for ours (default 2g)")
    p.add_argument("--timeout", type=float, default=0, help="stop ours after this many seconds (0 = never)")
    p.add_argument("--no-ours", action="store_true", help="skip our baseline (debugging the peers)")
    p.add_argument("--setup-peers", action="store_true", help="create bench/.venv-peers and exit")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        worker_main(args.worker, args.input, args.rows)
        return 0
    if args.setup_peers:
        setup_peers()
        return 0

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
                    started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), host=host(),
                    versions=versions())
    # Read the file once so every engine starts from a warm page cache.
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass

    timeout = args.timeout or None
    if not args.no_ours:
        note = load_note()
        row = run_ours(path, workdir, args.driver_memory, timeout, report)
        row.note = f"{row.note}; {note} at start" if row.note else f"{note} at start"
        report.rows.append(row)
    for engine in ("duckdb SUMMARIZE", "duckdb one-pass"):
        note = load_note()
        row = run_worker_proc(engine, VENV_PY, path, args.rows, workdir, None)
        row.note = f"{row.note}; {note} at start"
        report.rows.append(row)
    if args.peers:
        peer_rows = min(args.rows, PEER_ROW_CAP)
        for engine in PEERS:
            reason = peer_skip_reason(engine)
            if reason:
                print(f"[{engine}] skipped: {reason}", file=sys.stderr)
                report.rows.append(Row(engine, status="skipped", note=reason))
                continue
            note = load_note()
            row = run_worker_proc(engine, PEERS_PY, path, peer_rows, workdir, None)
            if row.status == "skipped":
                print(f"[{engine}] skipped: {row.note}", file=sys.stderr)
            row.note = f"{row.note}; {note} at start"
            report.rows.append(row)

    table = markdown(report)
    print(table)
    (workdir.parent / f"profile-{args.rows}.json").write_text(json.dumps(asdict(report), indent=2))
    if args.record:
        record(report, table)
    if not args.keep:  # the small logs and outputs stay in bench/out/ (gitignored)
        path.unlink(missing_ok=True)
    ours = report.get("ours")
    return 0 if ours is None or ours.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
