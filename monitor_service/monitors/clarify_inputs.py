"""Files a Clarify analysis config makes a job read: the config itself when given as a path, the
predictor's `model_uri`, and `methods.shap.baseline` when it names a file.

The service checks these against its input roots before a job runs (as it checks `input.path`):
otherwise anyone holding an admin key could make a worker open any file on its machine as a
model, and a `trusted` joblib model file runs code when loaded. Shared by the bias and the
attribution monitors, whose requests both carry an `analysis_config`.
"""

from __future__ import annotations

from typing import Any


def analysis_config_files(analysis_config: str | dict[str, Any] | None,
                          field: str = "analysis_config") -> list[tuple[str, str]]:
    """(field, path) of every file the config names; a config given as a path is itself one."""
    if analysis_config is None:
        return []
    if isinstance(analysis_config, str):
        return [(field, analysis_config)]
    found: list[tuple[str, str]] = []
    predictor = analysis_config.get("predictor")
    if isinstance(predictor, dict) and isinstance(predictor.get("model_uri"), str):
        found.append((f"{field}.predictor.model_uri", predictor["model_uri"]))
    methods = analysis_config.get("methods")
    shap = methods.get("shap") if isinstance(methods, dict) else None
    if isinstance(shap, dict) and isinstance(shap.get("baseline"), str):
        found.append((f"{field}.methods.shap.baseline", shap["baseline"]))
    return found
