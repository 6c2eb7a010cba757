"""The bias-drift monitor end to end through the `monitor` command line, on generated data.

A baseline `analysis.json` is computed from 4,000 labelled rows of a fair model; then two hours
of its captured traffic are analyzed with their ground truth: one from the same fair model (no
violation), one from a model that favours `sex` 1 (DPPL and DI violations, with a report).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from demo.model_bias_data import EXECUTION_TIME, WINDOW_END, WINDOW_START, write_bias_data
from monitor_service.cli.main import main as monitor
from monitor_service.runner.summary import EXIT_FAILED, EXIT_VIOLATIONS

OWNED = ("data", "baseline", "fair", "unfair")
SHOWN = ("DPPL", "DI", "CDDPL", "FT")


def _run(argv: list[str]) -> int:
    print("   $ monitor " + " ".join(argv))
    return monitor(argv)


def run_model_bias_demo(workdir: Path, spark: Any) -> int:
    """Generate, baseline, analyze both hours; return 1 if a run failed or the verdicts are not the expected ones."""
    del spark  # the CLI reuses the active session
    workdir = Path(workdir).resolve()
    for name in OWNED:
        shutil.rmtree(workdir / name, ignore_errors=True)
    data = write_bias_data(workdir / "data")
    baseline = workdir / "baseline"
    code = _run(["baseline", "--monitor-type", "ModelBias", "--input", data["baseline"], "--format", "csv",
                 "--header", "--analysis-config", data["config_path"], "--inference-attribute", "prediction",
                 "--output", str(baseline)])
    if code == EXIT_FAILED:
        return code
    print(f"   baseline {_metrics(baseline / 'analysis.json')}")
    codes = {}
    for name, capture in (("fair", data["fair_capture"]), ("unfair", data["unfair_capture"])):
        out = workdir / name
        codes[name] = _run([
            "analyze", "--monitor-type", "ModelBias", "--input", capture, "--dataset-config",
            data["dataset_config_path"], "--ground-truth", data["ground_truth"], "--analysis-config",
            data["config_path"], "--inference-attribute", "prediction", "--baseline-constraints",
            str(baseline / "analysis.json"), "--start", WINDOW_START, "--end", WINDOW_END, "--execution-time",
            EXECUTION_TIME, "--output", str(out)])
        print(f"   {name} window {_metrics(out / 'analysis.json')}")
        violations = out / "constraint_violations.json"
        if violations.exists():
            for v in json.loads(violations.read_text())["violations"]:
                print(f"   - {v['facet']}={v['facet_value']} {v['metric_name']}: {v['description']}")
        print(f"   report: {out / 'report.html'}")
    if EXIT_FAILED in codes.values():
        return EXIT_FAILED
    expected = codes["fair"] == 0 and codes["unfair"] == EXIT_VIOLATIONS
    print("   as expected: the fair hour passes, the unfair hour is flagged" if expected
          else f"   UNEXPECTED verdicts: {codes}")
    return EXIT_VIOLATIONS if expected else EXIT_FAILED


def _metrics(path: Path) -> str:
    doc = json.loads(path.read_text())
    entry = doc["post_training_bias_metrics"]["facets"]["sex"][0]
    values = {m["name"]: m["value"] for m in entry["metrics"]}
    shown = ", ".join(f"{n}={values[n]:.3f}" if isinstance(values.get(n), float) else f"{n}={values.get(n)}"
                      for n in SHOWN)
    return f"(sex = {entry['value_or_threshold']}): {shown}"
