"""The built-in frameworks (`sklearn`, `xgboost`, `lightgbm`, `onnx`) on the shared predictor port.

Loading and calling the model is `monitor_service.predictor` (shared with the attribution monitor):
one loader per format, safe formats by default (skops; joblib/pickle only with `Trusted: true`).
Here only SageMaker's default serialisation is added around it: CSV / JSON / JSON Lines records in,
predictions out, as SageMaker's XGBoost container answers: one score per record for a binary
classifier (the positive class's probability), every class's probability for a multiclass one,
the value for a regressor. A `model.tar.gz` or a folder must hold exactly one model file.
"""

from __future__ import annotations

from typing import Any

from monitor_service.errors import ModelError, ModelInvocationError
from monitor_service.gateway import serde
from monitor_service.gateway.artifacts import find_model_file, local_artifact
from monitor_service.gateway.config import ContainerDefinition
from monitor_service.gateway.invokers import FRAMEWORKS, BuildContext, Invocation, Invoker, Reply

MODEL_SUFFIXES = {
    "sklearn": (".skops", ".joblib", ".pkl", ".pickle"),
    "xgboost": (".json", ".ubj", ".model", ".bst"),
    "lightgbm": (".txt", ".model", ".lgb"),
    "onnx": (".onnx",),
}


def model_source(container: ContainerDefinition, cache_dir: Any) -> Any:
    """The model file's bytes (`predictor.ModelSource`): what batch transform broadcasts."""
    from pathlib import Path

    from monitor_service.predictor import read_source

    assert container.ModelDataUrl is not None
    path = local_artifact(container.ModelDataUrl, Path(cache_dir))
    path = find_model_file(path, MODEL_SUFFIXES[container.Framework], container.Framework)
    return read_source(str(path), container.Framework, container.Trusted)


def _loaded(source: Any) -> Any:
    from monitor_service.predictor import load_source

    try:
        return load_source(source)
    except ModelError as exc:
        if "trusted" in exc.message.lower() and not source.trusted:
            raise ModelError(exc.message, hint="in the gateway configuration, set Trusted: true on the model "
                             "if you trust the file") from exc
        raise


class BuiltinInvoker(Invoker):
    def __init__(self, container: ContainerDefinition, model_name: str, context: BuildContext,
                 source: Any = None) -> None:
        super().__init__()
        self.name = model_name
        source = source if source is not None else model_source(container, context.cache_dir)
        self._size = len(source.data)
        self.model = _loaded(source)
        self._columns = self.model.explained_outputs()

    def call(self, invocation: Invocation) -> Reply:
        features = serde.decode(invocation.body, invocation.content_type)
        try:
            predictions = self.model.predict(features)
        except ModelError as exc:
            raise ModelInvocationError(400 if "feature" in exc.message.lower() else 500, exc.message,
                                       hint=exc.hint) from exc
        body, content_type = serde.encode(predictions[:, self._columns], invocation.accept, invocation.content_type)
        return Reply(body, content_type)

    def size_bytes(self) -> int:
        return self._size


for _name in MODEL_SUFFIXES:
    FRAMEWORKS.register(_name, BuiltinInvoker)
