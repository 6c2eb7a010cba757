"""XGBoost boosters saved as JSON or UBJSON (`save_model("m.json")` / `"m.ubj"`).

The objective decides what `predict` returns: `binary:logistic` / `binary:logitraw` give the
positive-class probability (as two columns), `multi:softprob` / `multi:softmax` one probability
per class (softmax of the margins for `multi:softmax`, which would otherwise return labels),
everything else (regression, ranking, counts) one column of values.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from monitor_service.errors import ModelError
from monitor_service.predictor.base import Predictor, _first_line, binary_columns, class_names, require
from monitor_service.predictor.source import ModelSource


def load(source: ModelSource) -> XGBoostModel:
    xgb = require("xgboost", "xgboost", source.uri)
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(source.data))
    except Exception as exc:
        raise ModelError(
            f"xgboost model {source.uri} is not a JSON or UBJSON booster: {_first_line(exc)}",
            hint='save it with model.save_model("model.json") (or .ubj); pickles are not accepted',
        ) from exc
    return XGBoostModel(booster, source.uri)


class XGBoostModel(Predictor):
    framework = "xgboost"

    def __init__(self, booster: Any, name: str) -> None:
        self._native = self._booster = booster
        self.name = name
        learner = json.loads(booster.save_config())["learner"]
        self.objective = str(learner["objective"]["name"])
        num_class = int(float(learner["learner_model_param"].get("num_class", "0")))
        names = booster.feature_names
        self.feature_names = list(names) if names else None
        self.n_features = int(booster.num_features())
        if self.objective.startswith("binary:"):
            self.is_classifier, self.output_names = True, class_names(2)
        elif self.objective.startswith("multi:"):
            self.is_classifier, self.output_names = True, class_names(max(num_class, 2))
        else:
            self.is_classifier, self.output_names = False, ["prediction"]


    def _predict(self, X: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        matrix = xgb.DMatrix(X, feature_names=self.feature_names)
        if self.objective == "binary:logitraw":
            return binary_columns(1.0 / (1.0 + np.exp(-self._booster.predict(matrix))))
        if self.objective == "multi:softmax":
            margins = self._booster.predict(matrix, output_margin=True)
            shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        out = self._booster.predict(matrix)
        if self.objective.startswith("binary:"):
            return binary_columns(out)
        return np.asarray(out)
