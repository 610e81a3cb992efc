import asyncio
import json
from pathlib import Path

import pytest

from empllm.backends.base import Capabilities, Completion, GenerationSettings, Usage
from empllm.backends.openai_compat import OpenAIBackend
from empllm.errors import BackendError
from empllm.runtime import CompletionCache, Runtime


class CountingBackend:
    """A queued mock: fails `fail_first` times with a retryable error, then echoes."""

    spec = "mock:counting"

    def __init__(self, fail_first=0, retryable=True, delay=0.0):
        self.calls = 0
        self.fail_first = fail_first
        self.retryable = retryable
        self.delay = delay
        self.active = 0
        self.peak = 0
        self.seeds = []
        self.cache_identity = None

    @property
    def capabilities(self):
        return Capabilities(chat_tuned=True, prompt_logprobs=True, cache_identity=self.cache_identity)

    async def _maybe_fail(self):
        self.calls += 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active -= 1
        if self.calls <= self.fail_first:
            raise BackendError("HTTP 503: overloaded", retryable=self.retryable)

    async def chat(self, messages, gen):
        await self._maybe_fail()
        self.seeds.append(gen.seed)
        return Completion(
            text="echo: " + messages[-1].content, usage=Usage(prompt_tokens=3, completion_tokens=2, wall_s=0.01)
        )

    async def complete(self, prompt, gen):
        await self._maybe_fail()
        return Completion(text=prompt[::-1], usage=Usage(prompt_tokens=1, completion_tokens=1))

    async def stream_chat(self, messages, gen):
        await self._maybe_fail()
        for piece in ["a", "b", "c"]:
            yield piece

    async def loglikelihood(self, context, continuations):
        await self._maybe_fail()
        return [-float(len(c)) for c in continuations]

    async def aclose(self):
        pass


MSG = [{"role": "user", "content": "hello"}]
FAST = (0.001, 0.002)


async def test_retries_then_succeeds_and_counts():
    backend = CountingBackend(fail_first=2)
    rt = Runtime(backend, retries=3, retry_wait_s=FAST)
    done = await rt.chat(MSG)
    assert done.text == "echo: hello"
    assert (backend.calls, rt.usage.retries, rt.usage.backend_calls) == (3, 2, 3)
    assert (rt.usage.prompt_tokens, rt.usage.completion_tokens) == (3, 2)


async def test_gives_up_after_retries_with_clear_message():
    rt = Runtime(CountingBackend(fail_first=10), retries=2, retry_wait_s=FAST)
    with pytest.raises(BackendError, match="gave up after 3 attempts"):
        await rt.chat(MSG)
    assert rt.usage.errors == 1


async def test_non_retryable_errors_are_not_retried():
    backend = CountingBackend(fail_first=1, retryable=False)
    rt = Runtime(backend, retries=3, retry_wait_s=FAST)
    with pytest.raises(BackendError):
        await rt.chat(MSG)
    assert backend.calls == 1


async def test_concurrency_limit_holds():
    backend = CountingBackend(delay=0.02)
    rt = Runtime(backend, max_concurrency=3)
    await asyncio.gather(*(rt.complete(f"p{i}") for i in range(12)))
    assert backend.peak == 3


async def test_disk_cache_serves_second_call_without_backend(tmp_path):
    backend = CountingBackend()
    rt = Runtime(backend, cache=CompletionCache(tmp_path / "c"))
    first = await rt.chat(MSG, GenerationSettings(temperature=0.0))
    second = await rt.chat(MSG, GenerationSettings(temperature=0.0))
    assert backend.calls == 1 and second.cached and not first.cached
    assert second.text == first.text and rt.usage.cache_hits == 1
    await rt.aclose()
    # a fresh runtime over the same directory still hits: the cache is on disk
    backend2 = CountingBackend()
    rt2 = Runtime(backend2, cache=CompletionCache(tmp_path / "c"))
    assert (await rt2.chat(MSG, GenerationSettings(temperature=0.0))).cached
    assert backend2.calls == 0
    # different settings, prompt or sample index are different entries
    await rt2.chat(MSG, GenerationSettings(temperature=0.5))
    await rt2.chat(MSG, GenerationSettings(temperature=0.0), sample_index=1)
    assert backend2.calls == 2
    scores = await rt2.loglikelihood("ctx", [" a", " bb"])
    assert scores == [-2.0, -3.0] and await rt2.loglikelihood("ctx", [" a", " bb"]) == scores
    assert backend2.calls == 3
    await rt2.aclose()


async def test_the_disk_cache_stores_json_and_never_unpickles(tmp_path):
    import pickle
    import sqlite3

    cache = CompletionCache(tmp_path / "c")
    cache.set("k", {"text": "hi", "scores": [-1.25, 0.5]})
    cache.close()
    db = sqlite3.connect(tmp_path / "c" / CompletionCache.FILE)
    assert json.loads(db.execute("SELECT value FROM entries WHERE key = 'k'").fetchone()[0])["scores"] == [-1.25, 0.5]

    class Planted:
        def __reduce__(self):
            return (Path(tmp_path / "pwned").write_text, ("ran",))

    with db:
        db.execute("INSERT OR REPLACE INTO entries VALUES ('evil', ?)", (pickle.dumps(Planted()),))
    db.close()
    cache = CompletionCache(tmp_path / "c")
    assert cache.get("evil") is None and not (tmp_path / "pwned").exists()  # a miss, nothing run
    assert cache.get("k") == {"text": "hi", "scores": [-1.25, 0.5]}


async def test_streaming_is_cached_whole(tmp_path):
    backend = CountingBackend()
    rt = Runtime(backend, cache=CompletionCache(tmp_path / "c"))
    assert [p async for p in rt.stream_chat(MSG)] == ["a", "b", "c"]
    assert [p async for p in rt.stream_chat(MSG)] == ["abc"]
    assert backend.calls == 1


async def test_stream_retries_before_first_piece():
    backend = CountingBackend(fail_first=1)
    rt = Runtime(backend, retries=2, retry_wait_s=FAST)
    assert "".join([p async for p in rt.stream_chat(MSG)]) == "abc"
    assert rt.usage.retries == 1


async def test_sample_index_shifts_seed():
    backend = CountingBackend()
    rt = Runtime(backend)
    for i in range(3):
        await rt.chat(MSG, GenerationSettings(seed=10), sample_index=i)
    assert backend.seeds == [10, 11, 12]


def test_cache_identity_has_no_secrets():
    backend = OpenAIBackend("openai:m", "m", base_url="http://user:hunter2@127.0.0.1:9/v1", api_key="sk-very-secret")
    identity = Runtime(backend)._identity()
    assert "hunter2" not in str(identity) and "sk-very-secret" not in str(identity)
    assert identity["server"] == "http://127.0.0.1:9/v1"


async def test_scripted_backend_is_never_cached(tmp_path, write_script):
    from empllm.backends.scripted import ScriptedBackend

    rt = Runtime(ScriptedBackend("s", write_script("replies: [one, two]")), cache=CompletionCache(tmp_path / "c"))
    assert rt.cache is None
    assert [(await rt.chat(MSG)).text for _ in range(2)] == ["one", "two"]


async def test_changed_model_files_change_the_cache_key(tmp_path):
    import os

    from empllm.backends.base import file_fingerprint

    weights = tmp_path / "adapter"
    weights.mkdir()
    (weights / "adapter_model.safetensors").write_bytes(b"v1")
    backend = CountingBackend()
    backend.cache_identity = file_fingerprint(weights)
    rt = Runtime(backend, cache=CompletionCache(tmp_path / "c"))
    await rt.chat(MSG)
    await rt.chat(MSG)
    assert backend.calls == 1
    (weights / "adapter_model.safetensors").write_bytes(b"v2, retrained")
    os.utime(weights / "adapter_model.safetensors", ns=(1, 1))
    backend.cache_identity = file_fingerprint(weights)
    await rt.chat(MSG)
    assert backend.calls == 2


async def test_ask_until_parsed_resamples_then_gives_the_last_answer_and_why():
    from empllm.json_output import ParseError
    from empllm.runtime import ask_until_parsed

    backend = CountingBackend()
    rt = Runtime(backend)

    def parse_after(n):
        def parse(text):
            if len(backend.seeds) < n:
                raise ParseError(f"unreadable {len(backend.seeds)}")
            return text.upper()

        return parse

    value, raw, why = await ask_until_parsed(rt, "hi", GenerationSettings(seed=5), parse_after(2), attempts=3)
    assert (value, raw, why) == ("ECHO: HI", "echo: hi", "") and backend.seeds == [5, 6]
    value, raw, why = await ask_until_parsed(rt, "hi", GenerationSettings(seed=5), parse_after(99), attempts=2)
    assert (value, raw, why) == (None, "echo: hi", "unreadable 4")
