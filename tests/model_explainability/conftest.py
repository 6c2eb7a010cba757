"""Helpers for the attribution tests: data, models saved in their own formats, running the jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitor_service.monitors.model_explainability.job import run_analysis, run_baseline
from monitor_service.monitors.model_explainability.requests import (
    ModelExplainabilityAnalyzeRequest,
    ModelExplainabilityBaselineRequest,
)
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import DatasetConfig, InputSpec


def frame(rows: int, features: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(rows, len(features))).round(4), columns=features)


def write_config(path: Path, features: list[str], predictor: dict[str, Any], **shap: Any) -> Path:
    doc = {"version": "1.0", "headers": features, "methods": {"shap": shap}, "predictor": predictor}
    path.write_text(json.dumps(doc))
    return path


def csv_spec(path: Path) -> InputSpec:
    return InputSpec(path=str(path), format="csv", dataset_config=DatasetConfig(header=True))


def baseline(spark: Any, data: Path, config: Path, out: Path, **kw: Any) -> RunSummary:
    request = ModelExplainabilityBaselineRequest(input=csv_spec(data), output_dir=str(out),
                                                 analysis_config=str(config), **kw)
    return run_baseline(spark, request)


def analyze(spark: Any, data: Path, config: Path, out: Path, baseline_file: Path | None, **kw: Any) -> RunSummary:
    request = ModelExplainabilityAnalyzeRequest(
        input=kw.pop("spec", None) or csv_spec(data), output_dir=str(out), analysis_config=str(config),
        baseline_constraints=None if baseline_file is None else str(baseline_file), **kw)
    return run_analysis(spark, request)


def global_values(analysis: Path, label: str = "label0") -> tuple[str, dict[str, float], float]:
    doc = json.loads(analysis.read_text())
    (method, labels), = doc["explanations"].items()
    return method, labels[label]["global_shap_values"], labels[label]["expected_value"]
