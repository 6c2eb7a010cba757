"""Multi-model endpoints: many models under one `ModelDataUrl` prefix, loaded on first use.

`X-Amzn-SageMaker-Target-Model` names a path below the prefix (`churn/v3.tar.gz`). The first call
loads it (one load per model even when many requests ask at once) into an LRU cache whose memory
budget is `Gateway.MultiModelCacheBytes`; a model's memory is estimated by its artifact's bytes on
disk (extracted). Loading one more model unloads the least recently used ones until the budget holds (a model
bigger than the whole budget is still served, alone). Hits, misses, evictions and loading time go
to the metrics (CloudWatch's `ModelCacheHit`, `LoadedModelCount`, `ModelLoadingTime`).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

from monitor_service.errors import ModelError, ModelInvocationError
from monitor_service.gateway.artifacts import artifact_bytes, local_artifact
from monitor_service.gateway.config import ContainerDefinition
from monitor_service.gateway.invokers import FRAMEWORKS, BuildContext, Invocation, Invoker, Reply

_TARGET = re.compile(r"^[A-Za-z0-9._\-/]{1,1024}$")


class MultiModelInvoker(Invoker):
    def __init__(self, container: ContainerDefinition, model_name: str, context: BuildContext) -> None:
        super().__init__()
        assert container.ModelDataUrl is not None
        self.name = model_name
        self.prefix = container.ModelDataUrl.rstrip("/")
        self.single = container.model_copy(update={"Mode": "SingleModel"})
        self.context = context
        self.budget = context.cache_bytes
        self._models: OrderedDict[str, Invoker] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def loaded(self) -> list[str]:
        """Loaded target models, least recently used first."""
        with self._lock:
            return list(self._models)

    def _event(self, kind: str, value: float = 1.0) -> None:
        if self.context.on_cache_event is not None:
            self.context.on_cache_event(kind, value)

    def _model(self, target: str | None) -> Invoker:
        if not target:
            raise ModelInvocationError(400, "this is a multi-model endpoint: name the model with the "
                                       "X-Amzn-SageMaker-Target-Model header")
        if not _TARGET.match(target) or ".." in target.split("/") or target.startswith("/"):
            raise ModelInvocationError(400, f"target model {target!r} must be a relative path below the "
                                       "endpoint's model prefix (letters, digits, . _ - /; no ..)")
        with self._lock:
            model = self._hit(target)
            if model is not None:
                return model
            gate = self._loading.setdefault(target, threading.Lock())
        with gate:  # one load per model, however many requests wait for it
            with self._lock:
                model = self._hit(target)
            if model is not None:
                return model
            self._event("miss")
            started = time.perf_counter()
            url = f"{self.prefix}/{target}"
            try:
                model = FRAMEWORKS.get(self.single.Framework)(self.single.model_copy(update={"ModelDataUrl": url}),
                                                              f"{self.name}/{target}", self.context)
                size = model.size_bytes() or artifact_bytes(local_artifact(url, self.context.cache_dir))
            except ModelError as exc:
                raise ModelInvocationError(404 if "does not exist" in exc.message else 500,
                                           f"cannot load target model {target!r}: {exc.message}") from exc
            self._event("loading_us", (time.perf_counter() - started) * 1e6)
            with self._lock:
                self._models[target] = model
                self._sizes[target] = size
                self._loading.pop(target, None)
                self._evict()
        return model

    def _hit(self, target: str) -> Invoker | None:
        """The loaded model, now the most recently used (lock held)."""
        model = self._models.get(target)
        if model is not None:
            self._models.move_to_end(target)
            self._event("hit")
        return model

    def _evict(self) -> None:
        """Unload least recently used models until the budget holds (lock held)."""
        total = sum(self._sizes[t] for t in self._models)
        while total > self.budget and len(self._models) > 1:
            target, victim = self._models.popitem(last=False)
            total -= self._sizes.pop(target)
            victim.close()
            self._event("eviction")
        self._event("loaded", len(self._models))
        self._event("bytes", total)

    def call(self, invocation: Invocation) -> Reply:
        return self._model(invocation.target_model).call(invocation)

    def close(self) -> None:
        with self._lock:
            for model in self._models.values():
                model.close()
            self._models.clear()
