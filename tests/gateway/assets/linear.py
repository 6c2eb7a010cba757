"""A script model for the gateway tests: y = X @ w, with w read from `weights.txt` in the model folder."""

from pathlib import Path

import numpy as np


def model_fn(model_dir):
    path = Path(model_dir) / "weights.txt"
    return np.array([float(v) for v in path.read_text().split(",")]) if path.exists() else np.array([1.0, 2.0, 3.0])


def predict_fn(data, model):
    return np.asarray(data, dtype=float) @ model
