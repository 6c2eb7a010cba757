"""Generated data for the bias-drift demo and tests: a labelled baseline, a fair hour and an unfair hour of capture.

Records have a sensitive attribute `sex` (0 = the group d the config names), an `age_band`
(0-4, the group variable for CDDL / CDDPL) and an `income` score. The label depends on income
only. The model's prediction depends on income and the label; in the unfair hour it also
favours `sex` 1 (+0.3 on its acceptance probability) and disfavours `sex` 0 (-0.15), which moves
DPPL up and DI down. The baseline and the fair hour come from the same distribution.

Capture: `capture_fair/` and `capture_unfair/` with SageMaker endpoint lines in hour folder
2024/05/01/10 (CSV input `sex,age_band,income`, CSV output `prediction`), keyed by inferenceId;
ground truth for both in `gt/2024/05/01/10/` (collected during the hour, available from 11:00).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

WINDOW_START = "2024-05-01T10:00:00Z"
WINDOW_END = "2024-05-01T11:00:00Z"
EXECUTION_TIME = "2024-05-01T12:00:00Z"
CONFIG: dict[str, Any] = {
    "version": "1.0",
    "dataset_type": "text/csv",
    "headers": ["sex", "age_band", "income", "label", "prediction"],
    "label": "label",
    "label_values_or_threshold": [1],
    "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}],
    "group_variable": "age_band",
    "methods": {"pre_training_bias": {"methods": "all"}, "post_training_bias": {"methods": "all"},
                "report": {"name": "report", "title": "Bias report"}},
}
DATASET_CONFIG: dict[str, Any] = {"input": {"names": ["sex", "age_band", "income"]},
                                  "output": {"names": ["prediction"]}}


def draw_records(rng: np.random.Generator, n: int, favour: float) -> dict[str, np.ndarray]:
    """n records; `favour` > 0 makes the model accept sex 1 more and sex 0 less (see the module docstring)."""
    sex = rng.integers(0, 2, n)
    age_band = rng.integers(0, 5, n)
    income = np.round(rng.normal(0, 1, n), 4)
    label = (rng.random(n) < 1 / (1 + np.exp(-(income - 0.2)))).astype(int)
    accept = 0.15 + 0.5 * label + 0.1 * (income > 0) + np.where(sex == 1, favour, -favour / 2)
    prediction = (rng.random(n) < np.clip(accept, 0.01, 0.99)).astype(int)
    return {"sex": sex, "age_band": age_band, "income": income, "label": label, "prediction": prediction}


def _capture(folder: Path, prefix: str, rows: dict[str, np.ndarray]) -> None:
    hour = folder / "2024" / "05" / "01" / "10"
    hour.mkdir(parents=True)
    n = len(rows["sex"])
    lines = [json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "encoding": "CSV",
                              "data": f"{rows['sex'][i]},{rows['age_band'][i]},{rows['income'][i]}"},
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "encoding": "CSV",
                               "data": str(rows["prediction"][i])}},
        "eventMetadata": {"eventId": f"evt-{prefix}-{i}", "inferenceId": f"{prefix}-{i}",
                          "inferenceTime": f"2024-05-01T10:{i * 60 // n:02d}:{i % 60:02d}Z"},
        "eventVersion": "0"}) for i in range(n)]
    (hour / "capture.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_bias_data(root: Path, *, records: int = 4000, seed: int = 0, favour: float = 0.3) -> dict[str, Any]:
    """Write `baseline.csv`, both capture folders, `gt/` and `analysis_config.json`; return paths and labels."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = draw_records(rng, records, 0.0)
    columns = CONFIG["headers"]
    lines = [",".join(columns)] + [",".join(str(base[c][i]) for c in columns) for i in range(records)]
    (root / "baseline.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fair, unfair = draw_records(rng, records, 0.0), draw_records(rng, records, favour)
    _capture(root / "capture_fair", "fair", fair)
    _capture(root / "capture_unfair", "unfair", unfair)
    labels = {"fair": {f"fair-{i}": int(v) for i, v in enumerate(fair["label"])},
              "unfair": {f"unfair-{i}": int(v) for i, v in enumerate(unfair["label"])}}
    gt = root / "gt" / "2024" / "05" / "01" / "10"
    gt.mkdir(parents=True)
    for name, batch in labels.items():
        (gt / f"{name}.jsonl").write_text("".join(json.dumps({
            "groundTruthData": {"data": str(v), "encoding": "CSV"}, "eventMetadata": {"eventId": k},
            "eventVersion": "0"}) + "\n" for k, v in batch.items()), encoding="utf-8")
    (root / "analysis_config.json").write_text(json.dumps(CONFIG, indent=2), encoding="utf-8")
    (root / "dataset_config.json").write_text(json.dumps(DATASET_CONFIG, indent=2), encoding="utf-8")
    return {
        "baseline": str(root / "baseline.csv"), "config": CONFIG, "config_path": str(root / "analysis_config.json"),
        "dataset_config": DATASET_CONFIG, "dataset_config_path": str(root / "dataset_config.json"),
        "fair_capture": str(root / "capture_fair"), "unfair_capture": str(root / "capture_unfair"),
        "ground_truth": str(root / "gt"), "fair_labels": labels["fair"], "unfair_labels": labels["unfair"],
    }
