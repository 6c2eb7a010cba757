"""The `script` framework: a Python file with SageMaker's inference-toolkit hooks.

The hooks and their defaults are the toolkit's: `model_fn(model_dir)` loads the model (the folder
of `ModelDataUrl`, or the script's folder without one); then either `transform_fn(model, body,
content_type, accept)`, or `input_fn(body, content_type)` -> `predict_fn(data, model)` ->
`output_fn(prediction, accept)`. Missing hooks fall back to the default serialisation (CSV / JSON
/ JSON Lines) and `model.predict`. `output_fn` may return the body (bytes or text) or
`(body, content_type)`. A hook that raises answers the model's 500 (400 when `input_fn` raised,
or the exception's own `status_code` attribute when it has one), with the exception's message.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from monitor_service.capture.record import media_type
from monitor_service.errors import ModelError, ModelInvocationError
from monitor_service.gateway import serde
from monitor_service.gateway.artifacts import local_artifact
from monitor_service.gateway.config import ContainerDefinition
from monitor_service.gateway.invokers import FRAMEWORKS, BuildContext, Invocation, Invoker, Reply

_import_lock = threading.Lock()


def load_script(path: Path, model_name: str) -> ModuleType:
    """Import the script under a private module name (two models may use files of the same name)."""
    if not path.is_file():
        raise ModelError(f"EntryPoint {path} does not exist", hint="check the EntryPoint path")
    name = f"monitor_gateway_script_{model_name.replace('-', '_')}_{abs(hash(str(path.resolve())))}"
    with _import_lock:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ModelError(f"EntryPoint {path} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ModelError(f"EntryPoint {path} failed to import: {exc.__class__.__name__}: {exc}",
                             hint=_where(exc)) from exc
        finally:
            sys.path.remove(str(path.parent))
    return module


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _failure(exc: Exception, hook: str, default_status: int) -> ModelInvocationError:
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) and 400 <= status <= 599 else default_status
    return ModelInvocationError(status, f"{hook} raised {exc.__class__.__name__}: {exc}", hint=_where(exc))


class ScriptInvoker(Invoker):
    def __init__(self, container: ContainerDefinition, model_name: str, context: BuildContext) -> None:
        super().__init__()
        assert container.EntryPoint is not None
        self.name = model_name
        model_dir = (local_artifact(container.ModelDataUrl, context.cache_dir) if container.ModelDataUrl
                     else Path(container.EntryPoint).parent)
        entry = Path(container.EntryPoint)
        if not entry.is_absolute() and not entry.exists() and model_dir.is_dir():
            entry = model_dir / "code" / entry if (model_dir / "code" / entry).exists() else model_dir / entry
        self.module = load_script(entry, model_name)
        self.model_dir = model_dir if model_dir.is_dir() else model_dir.parent
        self.model: Any = None
        model_fn = getattr(self.module, "model_fn", None)
        if model_fn is not None:
            try:
                self.model = model_fn(str(self.model_dir))
            except Exception as exc:
                raise ModelError(f"model_fn of {entry} raised {exc.__class__.__name__}: {exc}",
                                 hint=_where(exc)) from exc

    def call(self, invocation: Invocation) -> Reply:
        m = self.module
        wanted = invocation.accept if media_type(invocation.accept) not in ("", "*/*") else None
        accept = wanted or invocation.content_type or serde.JSON
        if hasattr(m, "transform_fn"):
            try:
                result = m.transform_fn(self.model, invocation.body, invocation.content_type, accept)
            except ModelInvocationError:
                raise
            except Exception as exc:
                raise _failure(exc, "transform_fn", 500) from exc
            return _reply(result, accept)
        try:
            data = (m.input_fn(invocation.body, invocation.content_type) if hasattr(m, "input_fn")
                    else serde.decode(invocation.body, invocation.content_type))
        except ModelInvocationError:
            raise
        except Exception as exc:
            raise _failure(exc, "input_fn", 400) from exc
        try:
            if hasattr(m, "predict_fn"):
                prediction = m.predict_fn(data, self.model)
            elif self.model is not None and hasattr(self.model, "predict"):
                prediction = self.model.predict(data)
            else:
                raise ModelInvocationError(500, "the script has no predict_fn and model_fn returned no model with "
                                           "a predict method")
        except ModelInvocationError:
            raise
        except Exception as exc:
            raise _failure(exc, "predict_fn", 500) from exc
        if hasattr(m, "output_fn"):
            try:
                return _reply(m.output_fn(prediction, accept), accept)
            except Exception as exc:
                raise _failure(exc, "output_fn", 500) from exc
        body, content_type = serde.encode(prediction, accept, invocation.content_type)
        return Reply(body, content_type)


def _reply(result: Any, accept: str) -> Reply:
    content_type = accept
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    if isinstance(result, str):
        result = result.encode("utf-8")
    if not isinstance(result, bytes | bytearray):
        raise ModelInvocationError(500, f"the script returned {type(result).__name__}; return bytes, a string or "
                                   "(body, content_type)")
    return Reply(bytes(result), str(content_type))


FRAMEWORKS.register("script", ScriptInvoker)
