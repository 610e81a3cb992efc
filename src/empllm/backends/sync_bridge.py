"""Run blocking, in-process models (llama.cpp, transformers) from async code.

One lock per loaded model serializes access: neither a llama.cpp `Llama` nor a torch model is
safe to call from two threads at once. The work runs on one dedicated thread, always the same:
llama.cpp computes with an OpenMP thread team per calling thread, and once two teams exist on a
small machine OpenMP throttles its spinning and generation falls from ~45 to ~26 tokens/s on 2
cores (measured). One model thread keeps a single team, and the event loop stays free.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
MODEL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="empllm-model")


def run_on_model_thread(fn: Callable[[], T]) -> T:
    """Run `fn` on the model thread and wait for it (for synchronous callers such as loaders)."""
    if threading.current_thread().name.startswith("empllm-model"):
        return fn()  # already there: submitting would wait on ourselves
    return MODEL_THREAD.submit(fn).result()


async def run_locked(lock: threading.Lock, fn: Callable[[], T]) -> T:
    def call() -> T:
        with lock:
            return fn()

    return await asyncio.get_running_loop().run_in_executor(MODEL_THREAD, call)


async def stream_locked(lock: threading.Lock, make_iter: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """Drive a blocking iterator in a thread and yield its items; stops the thread if abandoned."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    cancelled = threading.Event()

    def produce() -> None:
        try:
            with lock:
                for item in make_iter():
                    if cancelled.is_set():
                        break
                    loop.call_soon_threadsafe(queue.put_nowait, item)
        except BaseException as exc:  # handed to the consumer, raised there
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    worker = loop.run_in_executor(MODEL_THREAD, produce)
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        await asyncio.shield(worker)
