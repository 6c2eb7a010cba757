"""Which SHAP explainer explains a model, and explaining a batch of rows with it.

Tree SHAP (`shap.TreeExplainer`, interventional, against the background) is exact and fast; it
is used for tree models (scikit-learn tree ensembles, XGBoost, LightGBM) when it reproduces the
explained output: the class probability (or its logit with `use_logit`) or the regression value.
We check that on the background rows (additivity: expected value + sum of SHAP values = model
output) instead of trusting a list of objectives, so e.g. a multiclass softmax booster, whose
probabilities Tree SHAP cannot explain, falls back to Kernel SHAP with the reason recorded.

Kernel SHAP (`shap.KernelExplainer`) explains any predictor, an HTTP endpoint included:
`num_samples` coalitions per row (shap's "auto", 2·M + 2048, when absent), no L1 feature
selection (shap's default keeps only 10 features non-zero, which would rank every other feature
last), the `logit` link with `use_logit`. Each row is explained with its own seed, derived from
`seed` and the record, so the result does not depend on how rows fall into Spark partitions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from monitor_service.errors import ConfigError, ModelError
from monitor_service.monitors.model_explainability.background import Background
from monitor_service.monitors.model_explainability.config import ShapConfig
from monitor_service.predictor import Predictor

Method = Literal["tree_shap", "kernel_shap"]
ADDITIVITY_TOLERANCE = 1e-4
_TREE_FRAMEWORKS = ("sklearn", "xgboost", "lightgbm")
_LOGIT_CLIP = 1e-12


@dataclass(frozen=True)
class ExplainerPlan:
    """What explains the model and how; travels to the executors with the background."""

    method: Method
    reason: str
    outputs: tuple[int, ...]  # columns of predict() explained
    labels: tuple[str, ...]  # their names in analysis.json
    use_logit: bool
    tree_output: str | None = None  # TreeExplainer model_output ("probability" or "raw")
    nsamples: int | None = None  # Kernel SHAP coalitions per row (None: shap's auto)


def label_names(model: Predictor, label_headers: list[str] | None) -> tuple[str, ...]:
    """Clarify's keys: `label_headers`, else label0, label1, ... per explained output."""
    outputs = model.explained_outputs()
    if label_headers is None:
        return tuple(f"label{i}" for i in range(len(outputs)))
    if len(label_headers) == len(outputs):
        return tuple(label_headers)
    if len(label_headers) == len(model.output_names):
        return tuple(label_headers[i] for i in outputs)
    raise ConfigError(
        f"predictor.label_headers names {len(label_headers)} outputs but the model explains {len(outputs)} "
        f"(it predicts {len(model.output_names)}: {model.output_names})",
        hint="give one name per explained output (the positive class only, for a binary classifier)",
    )


def plan_explainer(model: Predictor, shap: ShapConfig, background: Background,
                   label_headers: list[str] | None) -> ExplainerPlan:
    outputs = tuple(model.explained_outputs())
    labels = label_names(model, label_headers)
    if shap.use_logit and not model.is_classifier:
        raise ConfigError(f"use_logit applies to probabilities, but {model.describe()} is a regressor",
                          hint="set use_logit to false")
    kernel = ExplainerPlan("kernel_shap", "", outputs, labels, shap.use_logit, nsamples=shap.num_samples)
    if shap.explainer == "kernel":
        return _with_reason(kernel, "explainer: kernel in the analysis config")
    if model.framework not in _TREE_FRAMEWORKS:
        if shap.explainer == "tree":
            raise ConfigError(f"explainer: tree needs a tree model; {model.describe()} is not one",
                              hint='use "explainer": "auto" or "kernel"')
        return _with_reason(kernel, f"{model.framework} models are explained by Kernel SHAP")
    tree_output = "raw" if shap.use_logit or not model.is_classifier else "probability"
    tree = ExplainerPlan("tree_shap", "", outputs, labels, shap.use_logit, tree_output=tree_output)
    problem = _tree_problem(model, tree, background)
    if problem is None:
        return _with_reason(tree, f"{model.describe()} is a tree model: exact Tree SHAP")
    if shap.explainer == "tree":
        raise ConfigError(f"explainer: tree cannot explain {model.describe()}: {problem}",
                          hint='use "explainer": "auto" to fall back to Kernel SHAP')
    return _with_reason(kernel, f"Tree SHAP cannot explain this model ({problem}): Kernel SHAP")


def _with_reason(plan: ExplainerPlan, reason: str) -> ExplainerPlan:
    from dataclasses import replace

    return replace(plan, reason=reason)


def _tree_problem(model: Predictor, plan: ExplainerPlan, background: Background) -> str | None:
    """None when Tree SHAP reproduces the explained output on the background rows, else why not."""
    probe = background.rows[: min(len(background.rows), 20)]
    try:
        explainer = BatchExplainer(model, plan, background)
        values = explainer.explain(probe)
    except Exception as exc:  # shap's own errors for models it cannot read
        return str(exc).splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    target = explained_output(model, plan, probe)
    rebuilt = values.sum(axis=1) + np.asarray(explainer.expected_values)[None, :]
    error = float(np.max(np.abs(rebuilt - target))) if target.size else 0.0
    if not np.isfinite(error) or error > ADDITIVITY_TOLERANCE * max(1.0, float(np.max(np.abs(target)))):
        return f"its SHAP values do not add up to the model output (off by {error:.3g})"
    return None


def explained_output(model: Predictor, plan: ExplainerPlan, X: np.ndarray) -> np.ndarray:
    """The numbers the explanation decomposes: (rows, labels), logit-transformed with use_logit."""
    out = model.predict(X)[:, list(plan.outputs)]
    if plan.use_logit:
        clipped = np.clip(out, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
        out = np.log(clipped / (1 - clipped))
    return out


class BatchExplainer:
    """A shap explainer built once (per executor process) and applied to batches of rows."""

    def __init__(self, model: Predictor, plan: ExplainerPlan, background: Background) -> None:
        import shap

        self.model, self.plan = model, plan
        rows = np.asarray(background.rows, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if plan.method == "tree_shap":
                self._explainer = shap.TreeExplainer(model.native, data=rows, feature_perturbation="interventional",
                                                     model_output=plan.tree_output)
            else:
                from shap.utils._legacy import DenseData

                names = [str(i) for i in range(rows.shape[1])]
                weights = None if background.weights is None else np.array(background.weights, dtype=float)
                data = DenseData(rows, names, None, weights) if weights is not None else rows
                self._explainer = shap.KernelExplainer(self._kernel_function, data,
                                                       link="logit" if plan.use_logit else "identity")
        self.expected_values = self._expected()

    def _kernel_function(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)[:, list(self.plan.outputs)]

    def _expected(self) -> list[float]:
        value = np.atleast_1d(np.asarray(self._explainer.expected_value, dtype=float)).reshape(-1)
        return [float(v) for v in self._select(value[None, None, :])[0, 0]]

    def _select(self, values: np.ndarray) -> np.ndarray:
        """(rows, features, outputs) of every output the explainer produced -> the explained ones."""
        produced = values.shape[2]
        wanted = len(self.plan.outputs)
        if produced == wanted:
            return values
        if produced == len(self.model.output_names):
            return values[:, :, list(self.plan.outputs)]
        raise ModelError(
            f"SHAP explained {produced} outputs of {self.model.describe()}, which has {len(self.model.output_names)}"
        )

    def explain(self, X: np.ndarray, seeds: np.ndarray | None = None) -> np.ndarray:
        """Local SHAP values (rows, features, labels)."""
        X = np.asarray(X, dtype=float)
        if X.shape[0] == 0:
            return np.zeros((0, X.shape[1] if X.ndim == 2 else 0, len(self.plan.outputs)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.plan.method == "tree_shap":
                return self._select(_as_3d(self._explainer.shap_values(X, check_additivity=False), X.shape))
            return np.concatenate([self._kernel_row(X[i : i + 1], None if seeds is None else int(seeds[i]))
                                   for i in range(X.shape[0])])

    def _kernel_row(self, row: np.ndarray, seed: int | None) -> np.ndarray:
        if seed is not None:
            np.random.seed(seed)
        nsamples: Any = self.plan.nsamples if self.plan.nsamples is not None else "auto"
        values = self._explainer.shap_values(row, nsamples=nsamples, l1_reg=False, silent=True)
        return self._select(_as_3d(values, row.shape))


def _as_3d(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    """shap's several return shapes (list per output, (n, m), (n, m, k)) as (n, m, k)."""
    if isinstance(values, list):
        values = np.stack([np.asarray(v, dtype=float) for v in values], axis=-1)
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[0] != shape[0] or arr.shape[1] != shape[1]:
        raise ModelError(f"SHAP returned values of shape {arr.shape} for {shape[0]} rows of {shape[1]} features")
    return arr
