import threading
import time

from empllm.backends.sync_bridge import run_locked, run_on_model_thread, stream_locked


async def test_work_runs_on_one_model_thread_and_nested_calls_do_not_deadlock():
    lock = threading.Lock()
    names = {await run_locked(lock, lambda: threading.current_thread().name) for _ in range(5)}
    assert len(names) == 1 and names.pop().startswith("empllm-model")
    nested = await run_locked(lock, lambda: run_on_model_thread(lambda: "inner"))
    assert nested == "inner"


async def test_abandoned_stream_stops_its_producer_and_frees_the_lock():
    lock = threading.Lock()
    produced = []

    def numbers():
        for i in range(1000):
            produced.append(i)
            time.sleep(0.001)
            yield i

    stream = stream_locked(lock, numbers)
    async for item in stream:
        if item == 3:
            break
    await stream.aclose()
    assert len(produced) < 1000
    assert await run_locked(lock, lambda: "free") == "free"


async def test_stream_errors_reach_the_consumer():
    lock = threading.Lock()

    def broken():
        yield "a"
        raise ValueError("model exploded")

    got = []
    try:
        async for item in stream_locked(lock, broken):
            got.append(item)
    except ValueError as exc:
        assert "exploded" in str(exc)
    else:
        raise AssertionError("the error was swallowed")
    assert got == ["a"]
