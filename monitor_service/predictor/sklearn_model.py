"""scikit-learn estimators (and pipelines): skops files, or joblib/pickle files when trusted.

Loading a pickle (joblib included) runs whatever code the file names, so those formats need
`"trusted": true`. A skops file is loaded with skops' default trusted types plus the types of
scikit-learn, NumPy and SciPy themselves (skops rebuilds those from data, without running code
from the file, but does not trust e.g. `sklearn.tree._tree.Tree` by default); any other type the
file holds (a third-party estimator, a custom function) is listed in the error, and `trusted`
accepts them.
"""

from __future__ import annotations

import io as _io
from typing import Any

import numpy as np

from monitor_service.errors import ModelError
from monitor_service.predictor.base import Predictor, _first_line, class_names, require
from monitor_service.predictor.source import ModelSource

PICKLE_SUFFIXES = ("joblib", "pkl", "pickle")
LIBRARY_MODULES = ("sklearn", "numpy", "scipy")


def load(source: ModelSource) -> SklearnModel:
    if source.suffix in PICKLE_SUFFIXES or (not source.data.startswith(b"PK") and source.suffix != "skops"):
        estimator = _load_pickle(source)
    else:
        estimator = _load_skops(source)
    return SklearnModel(estimator, source.uri)


def _load_skops(source: ModelSource) -> Any:
    sio = require("skops.io", "sklearn", source.uri)
    try:
        untrusted = sio.get_untrusted_types(data=source.data)
    except Exception as exc:
        raise ModelError(
            f"sklearn model {source.uri} is not a readable skops file: {_first_line(exc)}",
            hint="save it with skops.io.dump(model, path), or use a .joblib file with trusted: true",
        ) from exc
    foreign = [t for t in untrusted if t.split(".", 1)[0] not in LIBRARY_MODULES]
    if foreign and not source.trusted:
        raise ModelError(
            f"sklearn model {source.uri} holds types skops does not trust by default: {', '.join(foreign[:10])}",
            hint='if you trust this file, set "trusted": true in the predictor block',
        )
    try:
        return sio.loads(source.data, trusted=untrusted)
    except Exception as exc:
        raise ModelError(f"cannot load sklearn model {source.uri}: {_first_line(exc)}") from exc


def _load_pickle(source: ModelSource) -> Any:
    if not source.trusted:
        raise ModelError(
            f"sklearn model {source.uri} is a joblib/pickle file; loading one runs code from the file",
            hint='set "trusted": true in the predictor block if you trust it, or save the model with skops',
        )
    try:
        import joblib

        return joblib.load(_io.BytesIO(source.data))
    except Exception as exc:
        raise ModelError(
            f"cannot load sklearn model {source.uri} with joblib: {_first_line(exc)}",
            hint="is the file a joblib/pickle dump made with a compatible scikit-learn version?",
        ) from exc


class SklearnModel(Predictor):
    framework = "sklearn"
    numeric_only = False  # a pipeline may encode strings itself

    def __init__(self, estimator: Any, name: str) -> None:
        from sklearn.base import is_classifier

        if not hasattr(estimator, "predict"):
            raise ModelError(f"sklearn model {name} holds a {type(estimator).__name__}, which cannot predict")
        self._native = self._estimator = estimator
        self.name = name
        self.is_classifier = bool(is_classifier(estimator)) and hasattr(estimator, "predict_proba")
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = [str(n) for n in names] if names is not None else None
        count = getattr(estimator, "n_features_in_", None)
        self.n_features = int(count) if count is not None else None
        if self.is_classifier:
            classes = getattr(estimator, "classes_", None)
            self.output_names = [str(c) for c in classes] if classes is not None else class_names(2)
        else:
            self.output_names = ["prediction"]


    def _predict(self, X: np.ndarray) -> np.ndarray:
        data: Any = X
        if self.feature_names is not None:
            import pandas as pd

            data = pd.DataFrame(X, columns=self.feature_names)
        if self.is_classifier:
            return np.asarray(self._estimator.predict_proba(data))
        return np.asarray(self._estimator.predict(data), dtype=float)
