"""What wraps every backend: a concurrency limit, retries, a disk cache, and usage accounting.

Stages never call a backend directly; they call a Runtime, so every model call in EmpLLM is
limited, retried, cached and counted the same way (the model wrapper of inspect_ai, in small).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from empllm.backends.base import Backend, Capabilities, Completion, GenerationSettings, Usage
from empllm.errors import BackendError
from empllm.types import Message, as_messages

log = logging.getLogger(__name__)
CACHE_VERSION = 1  # bump when the meaning of a cached entry changes


class UsageTotals(BaseModel):
    calls: int = 0  # requests made of the runtime
    backend_calls: int = 0  # attempts that reached the backend (retries included)
    cache_hits: int = 0
    retries: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0  # time spent inside backend calls

    def add(self, usage: Usage) -> None:
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.wall_s += usage.wall_s


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, BackendError) and exc.retryable


class CompletionCache:
    """Completions on disk, keyed on what determines them. Keys never include API keys.

    One SQLite file of JSON text: nothing read back is ever unpickled, so a planted or foreign file
    in the cache folder can at worst be a cache miss (diskcache, used before, unpickled its values)."""

    FILE = "completions-v1.sqlite3"

    def __init__(self, directory: Path):
        import sqlite3

        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        # one connection shared by the event loop and backend threads, serialised by a lock
        self._db = sqlite3.connect(directory / self.FILE, timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")  # other processes may read while one writes
            self._db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    @staticmethod
    def key(payload: dict) -> str:
        blob = json.dumps({"v": CACHE_VERSION, **payload}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get(self, key: str):
        with self._lock:
            row = self._db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except (TypeError, ValueError):
            log.warning("completion cache %s: entry %s is not JSON; treated as a miss", self.directory, key[:12])
            return None

    def set(self, key: str, value) -> None:
        text = json.dumps(value, ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)", (key, text))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Runtime:
    def __init__(
        self,
        backend: Backend,
        *,
        max_concurrency: int = 4,
        retries: int = 3,
        cache: CompletionCache | None = None,
        retry_wait_s: tuple[float, float] = (0.5, 8.0),
    ):
        self.backend = backend
        self.cache = cache if backend.capabilities.cacheable else None
        self.retries = retries
        self.retry_wait_s = retry_wait_s
        self.usage = UsageTotals()
        self._limit = asyncio.Semaphore(max_concurrency)

    @property
    def spec(self) -> str:
        return self.backend.spec

    @property
    def capabilities(self) -> Capabilities:
        return self.backend.capabilities

    def _identity(self) -> dict:
        # The server matters as much as the model name; credentials never enter the key.
        return {
            "spec": self.backend.spec,
            "server": getattr(self.backend, "public_base_url", None),
            "files": self.backend.capabilities.cache_identity,
        }

    @staticmethod
    def _seeded(gen: GenerationSettings, sample_index: int) -> GenerationSettings:
        if gen.seed is None or sample_index == 0:
            return gen
        return gen.model_copy(update={"seed": gen.seed + sample_index})

    def _cache_key(self, op: str, payload: dict) -> str | None:
        return self.cache.key({**self._identity(), "op": op, **payload}) if self.cache else None

    async def _call(self, op: str, key_payload: dict, make_call):
        """Serve from cache, or run `make_call` under the concurrency limit with retries."""
        self.usage.calls += 1
        key = self._cache_key(op, key_payload)
        if key is not None and (hit := self.cache.get(key)) is not None:
            self.usage.cache_hits += 1
            return hit, True
        async with self._limit:
            result = await self._with_retries(make_call)
        if key is not None:
            self.cache.set(key, result)
        return result, False

    async def _with_retries(self, make_call):
        attempt = 0
        try:
            async for attempt_state in AsyncRetrying(
                retry=retry_if_exception(_is_retryable),
                stop=stop_after_attempt(self.retries + 1),
                wait=wait_exponential_jitter(initial=self.retry_wait_s[0], max=self.retry_wait_s[1]),
                reraise=True,
            ):
                with attempt_state:
                    attempt += 1
                    if attempt > 1:
                        self.usage.retries += 1
                        log.info("retrying %s (attempt %d)", self.spec, attempt)
                    self.usage.backend_calls += 1
                    return await make_call()
        except BackendError as exc:
            self.usage.errors += 1
            if attempt > 1:
                raise BackendError(f"{exc} (gave up after {attempt} attempts)", retryable=exc.retryable) from None
            raise

    async def chat(
        self, messages: list[Message] | list[dict], gen: GenerationSettings | None = None, *, sample_index: int = 0
    ) -> Completion:
        msgs = as_messages(messages)
        gen = self._seeded(gen or GenerationSettings(), sample_index)
        payload = {"messages": [m.model_dump() for m in msgs], "gen": gen.model_dump(), "sample": sample_index}
        data, cached = await self._call("chat", payload, lambda: self._dumped(self.backend.chat(msgs, gen)))
        return self._completion(data, cached)

    async def complete(
        self, prompt: str, gen: GenerationSettings | None = None, *, sample_index: int = 0
    ) -> Completion:
        gen = self._seeded(gen or GenerationSettings(), sample_index)
        payload = {"prompt": prompt, "gen": gen.model_dump(), "sample": sample_index}
        data, cached = await self._call("complete", payload, lambda: self._dumped(self.backend.complete(prompt, gen)))
        return self._completion(data, cached)

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        payload = {"context": context, "continuations": continuations}

        async def run():
            start = time.perf_counter()
            scores = await self.backend.loglikelihood(context, continuations)
            self.usage.wall_s += time.perf_counter() - start
            return scores

        scores, _ = await self._call("loglikelihood", payload, run)
        return list(scores)

    async def stream_chat(
        self, messages: list[Message] | list[dict], gen: GenerationSettings | None = None, *, sample_index: int = 0
    ) -> AsyncIterator[str]:
        """Stream a reply; a cached reply comes back whole. Retries only before the first piece."""
        msgs = as_messages(messages)
        gen = self._seeded(gen or GenerationSettings(), sample_index)
        payload = {"messages": [m.model_dump() for m in msgs], "gen": gen.model_dump(), "sample": sample_index}
        self.usage.calls += 1
        key = self._cache_key("chat", payload)
        if key is not None and (hit := self.cache.get(key)) is not None:
            self.usage.cache_hits += 1
            yield hit["text"]
            return
        start = time.perf_counter()
        pieces: list[str] = []
        async with self._limit:
            for attempt in range(self.retries + 1):
                self.usage.backend_calls += 1
                try:
                    async for piece in self.backend.stream_chat(msgs, gen):
                        pieces.append(piece)
                        yield piece
                    break
                except BackendError as exc:
                    if pieces or not exc.retryable or attempt == self.retries:
                        self.usage.errors += 1
                        raise
                    self.usage.retries += 1
                    await asyncio.sleep(min(self.retry_wait_s[1], self.retry_wait_s[0] * 2**attempt))
        text = "".join(pieces)
        wall = time.perf_counter() - start
        self.usage.wall_s += wall
        self.usage.completion_tokens += len(pieces)  # one streamed piece is about one token
        if key is not None:
            self.cache.set(key, Completion(text=text, finish_reason="stop", usage=Usage(wall_s=wall)).model_dump())

    async def _dumped(self, coro) -> dict:
        completion: Completion = await coro
        return completion.model_dump()

    def _completion(self, data: dict, cached: bool) -> Completion:
        completion = Completion.model_validate(data)
        if cached:
            return completion.model_copy(update={"cached": True})
        self.usage.add(completion.usage)
        return completion

    async def aclose(self) -> None:
        await self.backend.aclose()
        if self.cache is not None:
            self.cache.close()


def build_runtime(spec: str, settings=None, *, base_url: str | None = None) -> Runtime:
    """The backend for `spec`, wrapped as the settings say (cache under the cache dir)."""
    from empllm.backends.registry import create_backend
    from empllm.settings import Settings

    settings = settings or Settings()
    backend = create_backend(spec, settings, base_url=base_url)
    cache = CompletionCache(settings.cache_dir / "completions") if settings.use_cache else None
    return Runtime(backend, max_concurrency=settings.max_concurrency, retries=settings.retries, cache=cache)


async def ask_until_parsed(runtime: Runtime, prompt: str, gen: GenerationSettings, parse, *,
                           attempts: int) -> tuple[object | None, str, str]:  # fmt: skip
    """Ask one prompt (a user message to a chat model, else a completion) until `parse` accepts the
    answer; each attempt is a new sample of the same seed sequence. Returns (what `parse` gave or
    None, the last raw answer, the last parse error)."""
    from empllm.ask_and_parse import AgentOutputError, generate_parsed

    async def ask(attempt: int) -> str:
        if runtime.capabilities.chat_tuned:
            done = await runtime.chat([Message(role="user", content=prompt)], gen, sample_index=attempt)
        else:
            done = await runtime.complete(prompt + "\n", gen, sample_index=attempt)
        return done.text

    try:
        value, raw, _ = await generate_parsed(ask, parse, attempts, "ask_until_parsed")
    except AgentOutputError as exc:
        return None, exc.raw, exc.rejected[-1]
    return value, raw, ""
