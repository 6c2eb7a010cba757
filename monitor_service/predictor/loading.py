"""`load_model`: from a model file (local path or fsspec URL) to a `LoadedModel`.

`load_source` loads from bytes already read (a Spark broadcast) and keeps one loaded model per
process and file content, so the executors of a job load each model once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from monitor_service.errors import ConfigError
from monitor_service.predictor import lightgbm_model, onnx_model, sklearn_model, xgboost_model
from monitor_service.predictor.base import Predictor
from monitor_service.predictor.config import FRAMEWORKS
from monitor_service.predictor.source import ModelSource, read_source

LoadedModel = Predictor
_LOADERS: dict[str, Callable[[ModelSource], Predictor]] = {
    "sklearn": sklearn_model.load,
    "xgboost": xgboost_model.load,
    "lightgbm": lightgbm_model.load,
    "onnx": onnx_model.load,
}
_CACHE: dict[tuple[str, str, bool], Predictor] = {}
_LOCK = threading.Lock()
_CACHE_SIZE = 4


def load_model(model_uri: str, framework: str, trusted: bool = False) -> LoadedModel:
    """Load a model file; `trusted` allows joblib/pickle and skops types outside skops' defaults."""
    _check_framework(framework)
    return load_source(read_source(model_uri, framework, trusted))


def load_source(source: ModelSource) -> LoadedModel:
    """Load (once per process and content) the model held in `source`."""
    _check_framework(source.framework)
    key = (source.digest, source.framework, source.trusted)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    model = _LOADERS[source.framework](source)
    with _LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = model
    return model


def _check_framework(framework: str) -> None:
    if framework not in _LOADERS:
        raise ConfigError(
            f"unknown model framework {framework!r}", hint=f"use one of {', '.join(FRAMEWORKS)}"
        )
