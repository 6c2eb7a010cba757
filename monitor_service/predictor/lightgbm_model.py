"""LightGBM boosters saved as text (`booster.save_model("model.txt")`).

Binary objectives give the positive-class probability (as two columns), `multiclass` /
`multiclassova` one probability per class, everything else one column of values.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from monitor_service.errors import ModelError
from monitor_service.predictor.base import Predictor, _first_line, binary_columns, class_names, require
from monitor_service.predictor.source import ModelSource

_DEFAULT_NAME = re.compile(r"Column_\d+")


def load(source: ModelSource) -> LightGBMModel:
    lgb = require("lightgbm", "lightgbm", source.uri)
    try:
        text = source.data.decode("utf-8")
        booster = lgb.Booster(model_str=text)
    except Exception as exc:
        raise ModelError(
            f"lightgbm model {source.uri} is not a LightGBM text model: {_first_line(exc)}",
            hint='save it with booster.save_model("model.txt")',
        ) from exc
    return LightGBMModel(booster, source.uri)


class LightGBMModel(Predictor):
    framework = "lightgbm"

    def __init__(self, booster: Any, name: str) -> None:
        self._native = self._booster = booster
        self.name = name
        self.objective = str(booster.dump_model(num_iteration=0).get("objective", "regression")).split()[0]
        names = [str(n) for n in booster.feature_name()]
        # LightGBM invents Column_0.. for unnamed features: those say nothing about the data.
        self.feature_names = None if all(_DEFAULT_NAME.fullmatch(n) for n in names) else names
        self.n_features = int(booster.num_feature())
        per_iteration = int(booster.num_model_per_iteration())
        if self.objective == "binary":
            self.is_classifier, self.output_names = True, class_names(2)
        elif self.objective.startswith("multiclass"):
            self.is_classifier, self.output_names = True, class_names(per_iteration)
        else:
            self.is_classifier, self.output_names = False, ["prediction"]


    def _predict(self, X: np.ndarray) -> np.ndarray:
        out = np.asarray(self._booster.predict(X))
        if self.objective == "binary":
            return binary_columns(out)
        return out
