"""ONNX graphs run by onnxruntime on the CPU.

Inputs: one tensor of shape [rows, features] (the usual export), or one [rows, 1] tensor per
feature (then the input names are the feature names). Outputs: a classifier exported by
skl2onnx / onnxmltools has a label output and a probability output, either a tensor
[rows, classes] or a sequence of {class: probability} maps (ZipMap); a model with one numeric
output is a regressor. Class names come from the ZipMap keys when there are any.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor_service.errors import ModelError
from monitor_service.predictor.base import Predictor, _first_line, class_names, require
from monitor_service.predictor.source import ModelSource

_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(float16)": np.float16,
}


def load(source: ModelSource) -> OnnxModel:
    ort = require("onnxruntime", "onnx", source.uri)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(source.data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(
            f"onnx model {source.uri} cannot be opened by onnxruntime: {_first_line(exc)}",
            hint="is it an .onnx file exported for an opset this onnxruntime supports?",
        ) from exc
    return OnnxModel(session, source.uri)


class OnnxModel(Predictor):
    framework = "onnx"

    def __init__(self, session: Any, name: str) -> None:
        self._native = self._session = session
        self.name = name
        inputs = session.get_inputs()
        self._inputs = [(i.name, _NUMPY_TYPES.get(i.type)) for i in inputs]
        unsupported = [f"{i.name} ({i.type})" for i in inputs if i.type not in _NUMPY_TYPES]
        if unsupported:
            raise ModelError(
                f"onnx model {name} has inputs of types this predictor cannot feed: {', '.join(unsupported)}",
                hint="export the model with numeric tensor inputs",
            )
        if len(inputs) == 1:
            shape = inputs[0].shape
            width = shape[1] if len(shape) == 2 else None
            self.n_features = width if isinstance(width, int) else None
            self.feature_names = None
        else:
            self.n_features = len(inputs)
            self.feature_names = [i.name for i in inputs]
        outputs = session.get_outputs()
        self._proba_output: str | None = None
        self._value_output = outputs[0].name
        for out in outputs:
            if out.type.startswith("seq(map") or "prob" in out.name.lower():
                self._proba_output = out.name
        self.is_classifier = self._proba_output is not None and len(outputs) >= 2
        if self.is_classifier:
            proba = next(o for o in outputs if o.name == self._proba_output)
            width = proba.shape[1] if proba.type.startswith("tensor") and len(proba.shape) == 2 else None
            self.output_names = class_names(width) if isinstance(width, int) else class_names(2)
        else:
            self._proba_output = None
            self.output_names = ["prediction"]


    def _predict(self, X: np.ndarray) -> np.ndarray:
        if len(self._inputs) == 1:
            name, dtype = self._inputs[0]
            feeds = {name: np.ascontiguousarray(X, dtype=dtype)}
        else:
            feeds = {n: np.ascontiguousarray(X[:, [i]], dtype=t) for i, (n, t) in enumerate(self._inputs)}
        wanted = self._proba_output or self._value_output
        (out,) = self._session.run([wanted], feeds)
        if self._proba_output is None:
            return np.asarray(out, dtype=float).reshape(X.shape[0], -1)
        if isinstance(out, list):  # ZipMap: one {class: probability} map per row
            if not out:
                return np.zeros((0, len(self.output_names)))
            keys = list(out[0].keys())
            self.output_names = [str(k) for k in keys]
            return np.asarray([[row[k] for k in keys] for row in out], dtype=float)
        probabilities = np.asarray(out, dtype=float)
        if probabilities.shape[1] != len(self.output_names):
            self.output_names = class_names(probabilities.shape[1])
        return probabilities
