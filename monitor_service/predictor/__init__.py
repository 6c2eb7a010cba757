"""The predictor port: call a model, wherever it lives, as `predict(X) -> (rows, outputs)`.

Shared by the monitors (SHAP explanations) and the inference gateway:

- `load_model(model_uri, framework, trusted=False)` loads a local or fsspec model file
  (scikit-learn via skops, or joblib/pickle when trusted; XGBoost JSON/UBJSON; LightGBM text;
  ONNX via onnxruntime);
- `HttpPredictor(EndpointConfig(...))` calls a model server with Clarify's content conventions;
- `parse_predictor(block)` validates an analysis config's `predictor` block and
  `build_predictor(config)` turns it into one of the above.

Heavy runtimes are imported only when a model of their framework is loaded (extra `models`).
"""

from __future__ import annotations

from monitor_service.predictor.base import Predictor
from monitor_service.predictor.config import (
    FRAMEWORKS,
    EndpointConfig,
    ModelFileConfig,
    PredictorConfig,
    parse_predictor,
)
from monitor_service.predictor.endpoint import HttpPredictor
from monitor_service.predictor.loading import LoadedModel, load_model, load_source
from monitor_service.predictor.source import ModelSource, read_source


def build_predictor(config: PredictorConfig, feature_names: list[str] | None = None) -> Predictor:
    """A ready predictor for a validated config (`feature_names` name the columns an endpoint gets)."""
    if isinstance(config, ModelFileConfig):
        return load_model(config.model_uri, config.framework, config.trusted)
    return HttpPredictor(config, feature_names=feature_names)


__all__ = [
    "FRAMEWORKS",
    "EndpointConfig",
    "HttpPredictor",
    "LoadedModel",
    "ModelFileConfig",
    "ModelSource",
    "Predictor",
    "PredictorConfig",
    "build_predictor",
    "load_model",
    "load_source",
    "parse_predictor",
    "read_source",
]
