"""Tiny models trained in the test session, saved in each framework's own file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FEATURES = ["age", "income", "tenure", "score"]


@pytest.fixture(scope="session")
def tabular() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Features, a binary label, a three-class label and a regression target."""
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(400, 4)), columns=FEATURES)
    logit = 1.5 * X["age"] - X["income"] + 0.5 * X["tenure"]
    binary = (logit + rng.normal(scale=0.5, size=400) > 0).astype(int).to_numpy()
    three = np.digitize(logit, [-1.0, 1.0])
    target = (2.0 * X["age"] + X["score"] ** 2 + rng.normal(scale=0.1, size=400)).to_numpy()
    return X, binary, three, target


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")
