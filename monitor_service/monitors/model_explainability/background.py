"""The SHAP background ("baseline" in Clarify): the rows that stand for an absent feature.

Where it comes from, in this order:
1. `methods.shap.baseline`: inline rows (`[[...]]`, or `[{"features": [...]}]` as for JSON Lines)
   or a file (CSV with or without a header line, JSON Lines, Parquet; local path or fsspec URL);
2. in an analysis job, the background the baseline job used, kept in its analysis.json, so that a
   window is explained against the same reference as the baseline;
3. computed from the data: `num_clusters` k-means centres weighted by cluster size
   (`shap.kmeans`; the default for Kernel SHAP, with 10 clusters), or, for Tree SHAP without
   `num_clusters`, a seeded uniform sample of `num_background` rows (100, shap's advice).

shap's TreeExplainer takes no weights: with k-means centres it weighs them equally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitor_service import io
from monitor_service.errors import ConfigError, FormatError


@dataclass
class Background:
    rows: np.ndarray  # (n, features) float
    weights: np.ndarray | None  # None: equal weights
    source: str  # "baseline" (config rows), "baseline_file", "baseline_job", "kmeans", "sample"

    def __post_init__(self) -> None:
        if self.weights is not None and len(self.weights) != len(self.rows):
            raise FormatError(f"background has {len(self.rows)} rows but {len(self.weights)} weights")

    def to_document(self, features: list[str]) -> dict[str, Any]:
        """Kept in the baseline's analysis.json (`monitor_service.background`) for analysis jobs."""
        doc: dict[str, Any] = {"source": self.source, "features": features, "rows": self.rows.tolist()}
        if self.weights is not None:
            doc["weights"] = self.weights.tolist()
        return doc

    @classmethod
    def from_document(cls, doc: Any, features: list[str], where: str) -> Background:
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise FormatError(f"{where}: monitor_service.background has no rows")
        if doc.get("features") != features:
            raise FormatError(
                f"{where}: the baseline's background has features {doc.get('features')}, the model now {features}"
            )
        rows = _matrix(doc["rows"], len(features), where)
        weights = doc.get("weights")
        return cls(rows, None if weights is None else np.asarray(weights, dtype=float), "baseline_job")


def _matrix(rows: list[Any], width: int, where: str) -> np.ndarray:
    values = []
    for i, row in enumerate(rows):
        if isinstance(row, dict) and "features" in row:
            row = row["features"]
        if not isinstance(row, list) or len(row) != width:
            raise ConfigError(
                f"{where}: background row {i} must be a list of {width} feature values",
                hint="give one value per feature, in the order of the features (headers without the label)",
            )
        values.append(row)
    try:
        matrix = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: background rows must be numbers: {exc}") from None
    return matrix


def inline_background(rows: list[Any], features: list[str]) -> Background:
    return Background(_matrix(rows, len(features), "methods.shap.baseline"), None, "baseline")


def file_background(path: str, features: list[str]) -> Background:
    """A background file in CSV (header optional), JSON Lines or Parquet."""
    frame = _read_frame(path, features)
    if set(features) <= set(frame.columns):
        frame = frame[features]
    elif frame.shape[1] != len(features):
        raise ConfigError(
            f"background file {path} has {frame.shape[1]} columns, not the {len(features)} features",
            hint="write one column per feature (with a header line naming them, or in feature order)",
        )
    try:
        rows = frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"background file {path} holds values that are not numbers: {exc}") from None
    if len(rows) == 0:
        raise ConfigError(f"background file {path} has no rows")
    return Background(rows, None, "baseline_file")


def _read_frame(path: str, features: list[str]) -> pd.DataFrame:
    lower = path.lower()
    try:
        if lower.endswith(".parquet"):
            import fsspec

            with fsspec.open(path, "rb") as handle:
                return pd.read_parquet(handle)
        text = io.read_text(path, "background file")
    except OSError as exc:
        raise ConfigError(f"cannot read background file {path}: {exc}") from None
    if lower.endswith((".jsonl", ".json")):
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        return pd.DataFrame([line.get("features", line) if isinstance(line, dict) else line for line in lines])
    from io import StringIO

    first = text.splitlines()[0].split(",") if text.strip() else []
    has_header = [f.strip().strip('"') for f in first] == features or any(_not_number(f) for f in first)
    return pd.read_csv(StringIO(text), header=0 if has_header else None)


def _not_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return bool(text.strip())
    return False


def kmeans_background(data: np.ndarray, clusters: int) -> Background:
    """k-means centres weighted by cluster size (shap.kmeans: fixed random state, values rounded to data)."""
    import shap

    k = min(clusters, len(data))
    dense = shap.kmeans(data, k)
    return Background(np.asarray(dense.data, dtype=float), np.asarray(dense.weights, dtype=float), "kmeans")


def sample_background(data: np.ndarray, size: int, seed: int) -> Background:
    rng = np.random.default_rng(seed)
    if len(data) > size:
        data = data[np.sort(rng.choice(len(data), size=size, replace=False))]
    return Background(np.asarray(data, dtype=float), None, "sample")
