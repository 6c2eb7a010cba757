"""Where a model is called: a proven-fast in-process model on the event loop, a slow one on the threads."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from monitor_service.gateway.invokers import Invocation, Invoker, Reply

LOOP = "loop"


class _Sleepy(Invoker):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.threads: list[str] = []

    def call(self, invocation: Invocation) -> Reply:
        self.threads.append(threading.current_thread().name)
        time.sleep(self.seconds)
        return Reply(b"ok", "text/plain")


def _run(invoker: Invoker, calls: int) -> None:
    async def go() -> None:
        for _ in range(calls):
            await invoker.acall(Invocation(b"", "text/csv"))

    # The loop runs on a thread of its own: a session-scoped browser test keeps a loop running on
    # the main thread, where asyncio.run would refuse to start.
    with ThreadPoolExecutor(1, thread_name_prefix=LOOP) as loop:
        loop.submit(asyncio.run, go()).result()


def test_fast_models_move_to_the_loop_and_slow_ones_back() -> None:
    with ThreadPoolExecutor(2, thread_name_prefix="model") as pool:
        fast = _Sleepy(0.0)
        fast.executor, fast.inline_max_seconds = pool, 0.005
        _run(fast, 40)
        assert all(t.startswith("model") for t in fast.threads[:20])  # measured on the threads first
        assert set(fast.threads[21:]) == {f"{LOOP}_0"}  # then on the event loop's thread
        fast.seconds = 0.02  # it slows down: back to the threads within a few calls
        _run(fast, 30)
        assert fast.threads[-1].startswith("model")
        never = _Sleepy(0.0)
        never.executor = pool  # inline_max_seconds 0: always the threads
        _run(never, 40)
        assert all(t.startswith("model") for t in never.threads)
