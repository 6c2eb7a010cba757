"""The built-in frameworks (`sklearn`, `xgboost`, `lightgbm`, `onnx`) on the shared predictor port.

Loading and calling the model is `monitor_service.predictor` (shared with the attribution monitor):
one loader per format, safe formats by default (skops; joblib/pickle only with `Trusted: true`).
Here only SageMaker's default serialisation is added around it: CSV / JSON / JSON Lines records in,
`predict` (probabilities for classifiers, as SageMaker's containers return), predictions out.
"""

from __future__ import annotations

from monitor_service.errors import ModelError, ModelInvocationError
from monitor_service.gateway import serde
from monitor_service.gateway.artifacts import artifact_bytes, local_artifact
from monitor_service.gateway.config import ContainerDefinition
from monitor_service.gateway.invokers import FRAMEWORKS, BuildContext, Invocation, Invoker, Reply


class BuiltinInvoker(Invoker):
    def __init__(self, container: ContainerDefinition, model_name: str, context: BuildContext) -> None:
        super().__init__()
        from monitor_service.predictor import load_model

        assert container.ModelDataUrl is not None
        self.name = model_name
        path = local_artifact(container.ModelDataUrl, context.cache_dir)
        self._size = artifact_bytes(path)
        self.model = load_model(str(path), container.Framework, container.Trusted)

    def call(self, invocation: Invocation) -> Reply:
        features = serde.decode(invocation.body, invocation.content_type)
        try:
            predictions = self.model.predict(features)
        except ModelError as exc:
            raise ModelInvocationError(400 if "feature" in exc.message.lower() else 500, exc.message,
                                       hint=exc.hint) from exc
        except Exception as exc:
            raise ModelInvocationError(500, f"{self.name} failed to predict: {exc.__class__.__name__}: {exc}") from exc
        body, content_type = serde.encode(predictions, invocation.accept, invocation.content_type)
        return Reply(body, content_type)

    def size_bytes(self) -> int:
        return self._size


for _name in ("sklearn", "xgboost", "lightgbm", "onnx"):
    FRAMEWORKS.register(_name, BuiltinInvoker)
