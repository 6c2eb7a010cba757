"""Bias-drift benchmark: the ModelBias baseline and analysis jobs on N records, beside smclarify on the same data.

One run generates two CSV datasets of N rows (`demo.model_bias_data.draw_records`: sex, age_band,
income, label, prediction; the second from a model that favours one group) and measures, each in
its own process:

  ours baseline  `monitor baseline --monitor-type ModelBias --input base.csv --format csv --header
                 --analysis-config ... --inference-attribute prediction` (all 21 metrics, FT on a
                 10,000-record sample)
  ours analyze   the same on window.csv with `--baseline-constraints` (200 bootstrap resamples)
  smclarify      `bias_report` pre- and post-training on the whole frame, every metric except FT,
                 plus FT on a 10,000-row sample as we do (its kNN over N rows does not finish in
                 reasonable time); the CSV is read into pandas first, untimed

It also counts chance violations on clean windows (pure numpy, no Spark): the plain "farther
than the baseline" comparison against the bootstrap-interval rule.

"wall s" is the whole process; "engine s" is the work (ours: summary.json `engine_seconds`, i.e.
without JVM start-up; smclarify: the bias_report calls); "rows/s" = rows / engine s; peak RSS is
the process tree's (the CLI's Python + the JVM), polled every 0.2 s.

Usage: .venv/bin/python bench/bias_bench.py --rows 1000000 [--record] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from profile_bench import VENV_PY, host, load_note, run_measured  # noqa: E402

MONITOR = REPO / ".venv" / "bin" / "monitor"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
SECTION = "## Bias drift (ModelBias)"
FT_SAMPLE = 10_000
SEED = 20261201


def generate(folder: Path, rows: int) -> dict[str, str]:
    import numpy as np
    import pandas as pd

    from demo.model_bias_data import CONFIG, draw_records

    rng = np.random.default_rng(SEED)
    paths = {}
    for name, favour in (("base", 0.0), ("window", 0.3)):
        frame = pd.DataFrame(draw_records(rng, rows, favour))[CONFIG["headers"]]
        paths[name] = str(folder / f"{name}.csv")
        frame.to_csv(paths[name], index=False)
    paths["config"] = str(folder / "analysis_config.json")
    Path(paths["config"]).write_text(json.dumps(CONFIG))
    return paths


def worker_smclarify(path: str) -> None:
    """Runs inside its own process: time smclarify's bias_report on the CSV (read untimed)."""
    import logging

    import pandas as pd
    from smclarify.bias.metrics import posttraining
    from smclarify.bias.report import FacetColumn, LabelColumn, StageType, bias_report

    logging.disable(logging.CRITICAL)
    frame = pd.read_csv(path)
    facet, label = FacetColumn("sex", [0]), LabelColumn("label", frame["label"], [1])
    started = time.perf_counter()
    bias_report(frame.drop(columns=["prediction"]), facet, label, StageType.PRE_TRAINING,
                group_variable=frame["age_band"])
    post = [m.__name__ for m in posttraining.__dict__.values() if callable(m) and getattr(m, "__module__", "")
            == posttraining.__name__ and m.__name__.isupper() and m.__name__ != "FT"]
    bias_report(frame, facet, label, StageType.POST_TRAINING, metrics=post,
                predicted_label_column=LabelColumn("prediction", frame["prediction"], [1]),
                group_variable=frame["age_band"])
    sample = frame.sample(n=min(FT_SAMPLE, len(frame)), random_state=0).reset_index(drop=True)
    bias_report(sample, facet, LabelColumn("label", sample["label"], [1]), StageType.POST_TRAINING, metrics=["FT"],
                predicted_label_column=LabelColumn("prediction", sample["prediction"], [1]))
    print(json.dumps({"engine_seconds": time.perf_counter() - started, "rows": len(frame)}))


def false_alarms(pairs: int = 30, rows: int = 4000) -> str:
    """Chance violations on windows drawn from the baseline's own distribution: plain rule vs interval rule."""
    import numpy as np

    from demo.model_bias_data import draw_records
    from monitor_service.monitors.model_bias.catalog import POST_TRAINING, PRE_TRAINING
    from monitor_service.monitors.model_bias.counts import CountTable, bootstrap_tables
    from monitor_service.monitors.model_bias.drift import DriftSettings, allowed_range, check_metric
    from monitor_service.monitors.model_bias.metrics import compute_metrics, replicate_values

    names = sorted((set(PRE_TRAINING) | set(POST_TRAINING)) - {"FT"})

    def table(r: dict[str, np.ndarray]) -> CountTable:
        groups = [str(g) for g in range(5)]
        return CountTable.from_rows(zip(r["sex"] == 0, r["label"] == 1, r["prediction"] == 1,
                                        r["age_band"].astype(str), np.ones(len(r["sex"])), strict=True), groups)

    counts: dict[str, list[int]] = {"plain": [], "0.95": [], "0.99": []}
    for seed in range(pairs):
        rng = np.random.default_rng(seed)
        base, window = table(draw_records(rng, rows, 0.0)), table(draw_records(rng, rows, 0.0))
        b = {m.name: m.value for m in compute_metrics(base, names)}
        w = {m.name: m.value for m in compute_metrics(window, names)}
        replicates = bootstrap_tables(window, 200, np.random.default_rng(seed))
        outside = [n for n in names if w[n] is not None and b[n] is not None
                   and not allowed_range(n, b[n])[0] <= w[n] <= allowed_range(n, b[n])[1]]
        counts["plain"].append(len(outside))
        for level in ("0.95", "0.99"):
            settings = DriftSettings(confidence_level=float(level))
            checks = [check_metric(n, w[n], b[n], replicate_values(replicates, n, True), settings) for n in names]
            counts[level].append(sum(1 for c in checks if c is not None and c.violated))
    lines = [f"Chance violations on {pairs} windows drawn from the baseline's own distribution ({rows:,} records "
             f"each, {len(names)} count metrics, 200 resamples):", "",
             "| rule | violations per window (mean) | min | max |", "|---|---:|---:|---:|"]
    for rule, label in (("plain", "farther from the ideal than the baseline"), ("0.95", "interval rule, 95 %"),
                        ("0.99", "interval rule, 99 %")):
        values = counts[rule]
        lines.append(f"| {label} | {sum(values) / len(values):.2f} | {min(values)} | {max(values)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--driver-memory", default="2g")
    p.add_argument("--record", action="store_true", help="write the table into BENCHMARKS.md")
    p.add_argument("--keep", action="store_true", help="keep the generated data")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker_smclarify(args.worker)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bias-bench-"))
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    paths = generate(work, args.rows)
    generated = time.perf_counter() - t0
    size = Path(paths["base"]).stat().st_size / 1e6
    common = ["--monitor-type", "ModelBias", "--format", "csv", "--header", "--analysis-config", paths["config"],
              "--inference-attribute", "prediction", "--flip-test-sample", str(FT_SAMPLE),
              "--spark-conf", f"spark.driver.memory={args.driver_memory}"]
    runs = {
        "ours baseline": [str(MONITOR), "baseline", "--input", paths["base"], *common, "--output", str(work / "b")],
        "ours analyze": [str(MONITOR), "analyze", "--input", paths["window"], *common, "--baseline-constraints",
                         str(work / "b" / "analysis.json"), "--output", str(work / "a")],
        "smclarify 0.5": [str(VENV_PY), __file__, "--worker", paths["base"]],
    }
    rows = []
    for name, cmd in runs.items():
        load = load_note()
        result = run_measured(cmd, log_prefix=work / name.replace(" ", "_"))
        if name.startswith("ours"):
            summary = json.loads((work / ("b" if "baseline" in name else "a") / "summary.json").read_text())
            engine, ok = summary.get("engine_seconds"), summary["status"] != "Failed"
            note = f"{summary['status']}, {summary['violations']} violations; FT sample {FT_SAMPLE:,}; {load}"
        else:
            lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
            engine = json.loads(lines[-1])["engine_seconds"] if lines else None
            ok = bool(lines)
            note = f"all metrics but FT on every row, FT on {FT_SAMPLE:,}; CSV read untimed; {load}"
        if not ok:
            note = f"FAILED: {result.stderr.strip().splitlines()[-1:] or result.stdout[-300:]}"
        rate = f"{args.rows / engine:,.0f}" if ok and engine else "–"
        engine_text = f"{engine:.1f}" if engine else "–"
        rows.append(f"| {name} | {args.rows:,} | {result.wall:.1f} | {engine_text} | {result.cpu_seconds:.1f} | "
                    f"{rate} | {result.peak_rss_mb:,.0f} | {note} |")
        print(rows[-1], flush=True)
    table = "\n".join([
        f"### {args.rows:,} rows ({size:.0f} MB CSV per dataset)", "",
        f"Run {started} on {host()}; driver memory {args.driver_memory}; data generated in {generated:.0f} s.", "",
        "| job | rows | wall s | engine s | CPU s | rows/s (engine) | peak RSS MB | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|", *rows, "", false_alarms()])
    print(table)
    if args.record:
        _record(table)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _record(table: str) -> None:
    intro = ("Written by `bench/bias_bench.py --record`. \"engine s\" is the work without JVM start-up (ours) or "
             "the bias_report calls (smclarify); peak RSS is the whole process tree.")
    text = BENCHMARKS_MD.read_text()
    block = f"{SECTION}\n\n{intro}\n\n{table}"
    if f"\n{SECTION}\n" in text:
        start = text.index(f"\n{SECTION}\n") + 1
        rest = text[start + len(SECTION):]
        nxt = rest.find("\n## ")
        end = start + len(SECTION) + nxt + 1 if nxt >= 0 else len(text)
        text = text[:start] + block + ("\n" + text[end:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    BENCHMARKS_MD.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
