"""What every predictor offers, whatever runs the model: `predict` as a (rows, outputs) matrix.

A monitor (or the inference gateway) never needs to know whether a model is a scikit-learn
estimator, a booster, an ONNX graph or a remote server: it calls `predict` and reads
`output_names`. Classifiers return one probability column per class; regressors one column.
`explained_outputs` says which columns an explanation is about: for a binary classifier only
the positive class (the second column), for a multiclass model every class, for a regressor its
value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from monitor_service.errors import ModelError


class Predictor(ABC):
    """A callable model. Subclasses set the attributes in `__init__` and implement `_predict`."""

    framework: str
    name: str
    is_classifier: bool
    feature_names: list[str] | None
    output_names: list[str]
    n_features: int | None
    # Frameworks that take only numbers get object arrays converted (and a clear error if they can't be).
    numeric_only: bool = True

    _native: Any = None

    @property
    def native(self) -> Any:
        """The framework's own object (estimator, booster, session), e.g. for shap.TreeExplainer."""
        return self._native

    def predict(self, X: Any) -> np.ndarray:
        """Float matrix of shape (n_rows, n_outputs): class probabilities, or one column of values."""
        matrix = self._as_matrix(X)
        if matrix.shape[0] == 0:
            return np.zeros((0, max(len(self.output_names), 1)))
        try:
            out = self._predict(matrix)
        except ModelError:
            raise
        except Exception as exc:  # the framework's own errors, whatever their type
            raise ModelError(
                f"{self.describe()} failed to predict {matrix.shape[0]} rows of {matrix.shape[1]} features: "
                f"{_first_line(exc)}",
                hint="check that the features match what the model was trained on (names, order, types)",
            ) from exc
        out = np.asarray(out, dtype=float)
        if out.ndim == 1:
            out = out.reshape(-1, 1)
        if out.shape[0] != matrix.shape[0]:
            raise ModelError(f"{self.describe()} returned {out.shape[0]} predictions for {matrix.shape[0]} rows")
        return out

    def predict_labels(self, X: Any) -> np.ndarray:
        """Predicted class labels (as output names) for classifiers; the predicted values otherwise."""
        scores = self.predict(X)
        if not self.is_classifier:
            return scores[:, 0]
        if scores.shape[1] == 1:  # one score column: the positive-class probability
            return np.where(scores[:, 0] >= 0.5, "1", "0")
        return np.asarray(self.output_names, dtype=object)[np.argmax(scores, axis=1)]

    def explained_outputs(self) -> list[int]:
        """Columns of `predict` that an explanation covers (positive class only for binary models)."""
        width = len(self.output_names)
        if self.is_classifier and width == 2:
            return [1]
        return list(range(width))

    def describe(self) -> str:
        return f"{self.framework} model {self.name}"

    @abstractmethod
    def _predict(self, X: np.ndarray) -> np.ndarray:
        """Predict a validated 2-D array whose columns follow `feature_names`."""

    def _as_matrix(self, X: Any) -> np.ndarray:
        """Rows as a 2-D array in the model's feature order (a DataFrame is reordered by name)."""
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            if self.feature_names is not None:
                missing = [f for f in self.feature_names if f not in X.columns]
                if missing:
                    raise ModelError(
                        f"{self.describe()} needs features {missing} that the data does not have "
                        f"(it has {list(X.columns)[:20]})",
                        hint="name the columns as the model was trained (analysis config headers)",
                    )
                X = X[self.feature_names]
            matrix = X.to_numpy()
        else:
            matrix = np.asarray(X)
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        if matrix.ndim != 2:
            raise ModelError(f"{self.describe()} needs a 2-D table of rows, got an array of shape {matrix.shape}")
        if self.n_features is not None and matrix.shape[1] != self.n_features:
            raise ModelError(
                f"{self.describe()} expects {self.n_features} features per row, got {matrix.shape[1]}",
                hint="pass exactly the model's features, in its order (analysis config headers)",
            )
        if matrix.dtype == object and self.numeric_only:
            try:
                matrix = matrix.astype(float)
            except (TypeError, ValueError) as exc:
                raise ModelError(
                    f"{self.describe()} got non-numeric feature values: {_first_line(exc)}",
                    hint="encode categorical features as numbers before they reach the model",
                ) from exc
        return matrix


def require(module: str, framework: str, uri: str) -> Any:
    """Import a model runtime, or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelError(
            f"cannot load {framework} model {uri}: {module} is not installed",
            hint='install the models extra: pip install "monitor-service[models]"',
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def binary_columns(positive: np.ndarray) -> np.ndarray:
    """[P(0), P(1)] columns from a positive-class probability vector."""
    p = np.asarray(positive, dtype=float).reshape(-1)
    return np.column_stack([1.0 - p, p])


def class_names(count: int) -> list[str]:
    return [str(i) for i in range(count)]
