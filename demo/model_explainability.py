"""The feature-attribution-drift monitor end to end with a scikit-learn model trained here.

A gradient-boosting classifier approves loans from five applicant features; it leans on
`income`, then `debt_ratio` and `age`. The demo saves it with skops, writes the analysis config
(headers, methods.shap, predictor), baselines the attributions on the training data (Tree SHAP),
then analyzes two hours of SageMaker-style capture: in the first the applicants look like the
training data, so the ranking of the features is the baseline's (nDCG about 1, no violation);
in the second the lender only sees applicants of one income band while their debt varies far
more, so `debt_ratio` and `credit_lines` now drive the decisions instead of `income` and the
nDCG falls below 0.9 (a `feature_attribution_drift_check` violation).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from monitor_service.monitors.model_explainability.job import run_analysis, run_baseline
from monitor_service.monitors.model_explainability.requests import (
    ModelExplainabilityAnalyzeRequest,
    ModelExplainabilityBaselineRequest,
)
from monitor_service.runner.summary import EXIT_FAILED
from monitor_service.specs import DatasetConfig, InputSpec, Window

FEATURES = ["income", "debt_ratio", "age", "credit_lines", "tenure_years"]
WINDOW_START = datetime(2024, 6, 1, 10, tzinfo=UTC)
OWNED = ("data", "baseline", "same", "shifted")


def applicants(rows: int, rng: np.random.Generator, *, shifted: bool = False) -> np.ndarray:
    """Applicant features; `shifted`: one income band, debt ratio and credit lines spread far wider."""
    income = rng.normal(60.0, 20.0, rows)
    debt = rng.normal(0.35, 0.10, rows)
    lines = rng.poisson(4, rows).astype(float)
    if shifted:
        income = rng.normal(60.0, 1.0, rows)
        debt = rng.normal(0.35, 0.30, rows)
        lines = rng.poisson(4, rows) * 3.0
    age = rng.normal(42.0, 12.0, rows)
    tenure = rng.exponential(5.0, rows)
    return np.column_stack([income, debt, age, lines, tenure]).round(3)


def approved(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    score = 0.08 * (X[:, 0] - 60) - 6.0 * (X[:, 1] - 0.35) + 0.03 * (X[:, 2] - 42) - 0.15 * (X[:, 3] - 4)
    return (score + rng.normal(0, 0.5, len(X)) > 0).astype(int)


def _capture(folder: Path, X: np.ndarray, start: datetime, scores: np.ndarray) -> None:
    hour = folder / start.strftime("%Y/%m/%d/%H")
    hour.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (row, score) in enumerate(zip(X, scores, strict=True)):
        when = (start + timedelta(seconds=i * 3600 / len(X))).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(json.dumps({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": ",".join(str(v) for v in row), "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                   "data": f"{score:.6f}", "encoding": "CSV"}},
            "eventMetadata": {"eventId": f"{start:%H}-{i}", "inferenceTime": when}, "eventVersion": "0"}))
    (hour / "capture.jsonl").write_text("\n".join(lines) + "\n")


def prepare(workdir: Path) -> dict[str, Path]:
    """Train and save the model, write the training CSV, two capture hours and the analysis config."""
    import skops.io as sio
    from sklearn.ensemble import GradientBoostingClassifier

    data = workdir / "data"
    data.mkdir(parents=True)
    rng = np.random.default_rng(2024)
    X = applicants(3000, rng)
    model = GradientBoostingClassifier(n_estimators=80, max_depth=3, random_state=0).fit(X, approved(X, rng))
    sio.dump(model, data / "loan_model.skops")
    np.savetxt(data / "train.csv", X, delimiter=",", header=",".join(FEATURES), comments="", fmt="%.3f")
    capture = data / "capture" / "loans" / "AllTraffic"
    same, shifted = applicants(1500, rng), applicants(1500, rng, shifted=True)
    _capture(capture, same, WINDOW_START, model.predict_proba(same)[:, 1])
    _capture(capture, shifted, WINDOW_START + timedelta(hours=1), model.predict_proba(shifted)[:, 1])
    config = {"version": "1.0", "headers": FEATURES,
              "methods": {"shap": {"agg_method": "mean_abs", "max_records": 1000, "seed": 7}},
              "predictor": {"model_uri": str(data / "loan_model.skops"), "framework": "sklearn"}}
    (data / "analysis_config.json").write_text(json.dumps(config, indent=2))
    return {"train": data / "train.csv", "capture": data / "capture", "config": data / "analysis_config.json"}


def _ranking(path: str) -> str:
    doc = json.loads(Path(path).read_text())
    (labels,) = doc["explanations"].values()
    values: dict[str, float] = labels["label0"]["global_shap_values"]
    return ", ".join(f"{f} {v:.3f}" for f, v in sorted(values.items(), key=lambda kv: -kv[1]))


def run_model_explainability_demo(workdir: Path, spark: Any) -> int:
    """Baseline and two windows; returns EXIT_FAILED unless the same-data window passes and the shifted one drifts."""
    workdir = Path(workdir).resolve()
    for name in OWNED:
        shutil.rmtree(workdir / name, ignore_errors=True)
    files = prepare(workdir)
    print(f"   trained a GradientBoostingClassifier on {files['train']}; analysis config {files['config']}")
    baseline = run_baseline(spark, ModelExplainabilityBaselineRequest(
        input=InputSpec(path=str(files["train"]), format="csv", dataset_config=DatasetConfig(header=True)),
        output_dir=str(workdir / "baseline"), analysis_config=str(files["config"])))
    print(f"   baseline: {baseline.one_line()}")
    if baseline.status == "Failed":
        return EXIT_FAILED
    print(f"   baseline attributions (mean |SHAP|): {_ranking(baseline.artifacts['analysis'])}")
    outcomes = []
    for name, hour in (("same", 0), ("shifted", 1)):
        start = WINDOW_START + timedelta(hours=hour)
        window = Window(start=start, end=start + timedelta(hours=1))
        summary = run_analysis(spark, ModelExplainabilityAnalyzeRequest(
            input=InputSpec(path=str(files["capture"]), window=window), output_dir=str(workdir / name),
            analysis_config=str(files["config"]), baseline_constraints=baseline.artifacts["analysis"]))
        print(f"   window {window.label()} ({name}): {summary.one_line()}")
        if summary.status == "Failed":
            return EXIT_FAILED
        ndcg = summary.feature_metrics["label0"]["ndcg"]
        print(f"      attributions: {_ranking(summary.artifacts['analysis'])}")
        print(f"      nDCG against the baseline {ndcg:.3f} (threshold 0.9); report {summary.artifacts['report']}")
        for violation in json.loads(Path(summary.artifacts["constraint_violations"]).read_text())["violations"]:
            print(f"      violation: {violation['label']} {violation['constraint_check_type']}: "
                  f"{violation['description']}")
        outcomes.append(summary.violations)
    if outcomes != [0, 1]:
        print(f"   unexpected: violations per window {outcomes}, expected [0, 1]")
        return EXIT_FAILED
    return 0
