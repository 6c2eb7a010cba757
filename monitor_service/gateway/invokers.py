"""Calling a model: one interface for every framework, serial pipelines, and the framework registry.

Every container is an `Invoker`: request bytes and content type in, response bytes and content type
out (SageMaker's container contract), so a serial pipeline is just invokers chained, each response
becoming the next request. In-process frameworks implement the blocking `call`; `acall` runs it on
the gateway's model threads so the event loop keeps serving (and capturing) meanwhile. The
`container` framework implements `acall` natively over HTTP. Batch transform uses `call`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

from monitor_service.core.registry import Registry
from monitor_service.errors import ModelError, ModelInvocationError
from monitor_service.gateway.config import ContainerDefinition, ModelDefinition


@dataclass(frozen=True)
class Invocation:
    """What reaches a model: the payload and the SageMaker headers that concern it."""

    body: bytes
    content_type: str | None
    accept: str | None = None
    custom_attributes: str | None = None
    target_model: str | None = None
    inference_id: str | None = None


@dataclass(frozen=True)
class Reply:
    body: bytes
    content_type: str
    custom_attributes: str | None = None


@dataclass(frozen=True)
class BuildContext:
    """What building an invoker may need: where to cache artifacts, the model threads, the metrics hook."""

    cache_dir: Path
    executor: Executor | None = None
    cache_bytes: int = 512 * 1024 * 1024
    inline_max_seconds: float = 0.0
    on_cache_event: Callable[[str, float], None] | None = None  # ("hit"|"miss"|"eviction"|"size"|..., value)


class Invoker:
    """Base class: subclasses implement `call` (blocking) and may override `acall`, `ping`, `close`.

    `acall` runs `call` on the model threads, except for a model that has proven fast: once its
    recent calls average under `inline_max_seconds` (an exponential average over about ten calls,
    after twenty calls), it is called on the event loop itself, which spares two thread hand-offs
    (most of the gateway's added latency for a small model); when it slows down it goes back to
    the threads. `inline_max_seconds = 0` always uses the threads.
    """

    name: str = "model"
    executor: Executor | None = None
    inline_max_seconds: float = 0.0
    _INLINE_AFTER = 20

    def __init__(self) -> None:
        self.inflight = 0
        self._average: float | None = None
        self._calls = 0
        self._inline = False

    def call(self, invocation: Invocation) -> Reply:
        raise NotImplementedError

    def _timed(self, invocation: Invocation) -> Reply:
        started = time.perf_counter()
        try:
            return self.call(invocation)
        finally:
            seconds = time.perf_counter() - started
            self._average = seconds if self._average is None else 0.9 * self._average + 0.1 * seconds
            self._calls += 1
            self._inline = (self._calls >= self._INLINE_AFTER and self._average < self.inline_max_seconds)

    async def acall(self, invocation: Invocation) -> Reply:
        if self._inline:
            return self._timed(invocation)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._timed, invocation)

    async def ping(self) -> bool:
        return True

    def close(self) -> None:
        """Release what the invoker holds (connections, caches)."""

    def size_bytes(self) -> int:
        """Estimated memory held, for the multi-model cache's budget."""
        return 0


class PipelineInvoker(Invoker):
    """SageMaker's Serial inference pipeline: each container's response is the next one's request."""

    def __init__(self, stages: list[Invoker]) -> None:
        super().__init__()
        self.stages = stages

    def _request(self, i: int, original: Invocation, previous: Reply | None) -> Invocation:
        """Container i's request: the caller's for the first, the previous response after; the
        caller's Accept goes to the last container only (the others answer in their own type)."""
        accept = original.accept if i == len(self.stages) - 1 else None
        if previous is None:
            return replace(original, accept=accept)
        return replace(original, body=previous.body, content_type=previous.content_type, accept=accept,
                       custom_attributes=previous.custom_attributes or original.custom_attributes)

    def call(self, invocation: Invocation) -> Reply:
        reply: Reply | None = None
        for i, stage in enumerate(self.stages):
            reply = _in_stage(i, stage, self._request(i, invocation, reply), stage.call)
        assert reply is not None
        return reply

    async def acall(self, invocation: Invocation) -> Reply:
        reply: Reply | None = None
        for i, stage in enumerate(self.stages):
            try:
                reply = await stage.acall(self._request(i, invocation, reply))
            except ModelInvocationError as exc:
                raise _stage_error(i, stage, exc) from exc
        assert reply is not None
        return reply

    async def ping(self) -> bool:
        return all([await s.ping() for s in self.stages])

    def close(self) -> None:
        for stage in self.stages:
            stage.close()


def _stage_error(i: int, stage: Invoker, exc: ModelInvocationError) -> ModelInvocationError:
    return ModelInvocationError(exc.status, f"pipeline container {i + 1} ({stage.name}): {exc.message}",
                                hint=exc.hint)


def _in_stage(i: int, stage: Invoker, invocation: Invocation, fn: Callable[[Invocation], Reply]) -> Reply:
    try:
        return fn(invocation)
    except ModelInvocationError as exc:
        raise _stage_error(i, stage, exc) from exc


# Framework name -> factory(container, model name, context) -> Invoker. Frameworks register on import.
FRAMEWORKS: Registry[Callable[[ContainerDefinition, str, BuildContext], Invoker]] = Registry("framework")


def _load_frameworks() -> None:
    from monitor_service.gateway import builtin, container, script  # noqa: F401  (registration)


def build_container(container: ContainerDefinition, model_name: str, context: BuildContext) -> Invoker:
    _load_frameworks()
    if container.Mode == "MultiModel" and container.Framework != "container":
        from monitor_service.gateway.multimodel import MultiModelInvoker

        invoker: Invoker = MultiModelInvoker(container, model_name, context)
    else:
        invoker = FRAMEWORKS.get(container.Framework)(container, model_name, context)
        invoker.inline_max_seconds = context.inline_max_seconds
    invoker.executor = context.executor
    return invoker


def build_model(model: ModelDefinition, context: BuildContext) -> Invoker:
    """Load a model (all its containers); raises ModelError naming the model and the cause."""
    containers = model.containers()
    try:
        stages = [build_container(c, model.ModelName, context) for c in containers]
    except ModelError as exc:
        raise ModelError(f"model {model.ModelName}: {exc.message}", hint=exc.hint) from exc
    if len(stages) == 1:
        return stages[0]
    pipeline = PipelineInvoker(stages)
    pipeline.executor = context.executor
    pipeline.name = model.ModelName
    return pipeline
