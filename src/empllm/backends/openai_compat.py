"""`openai:MODEL` — any OpenAI-compatible server: vLLM, Ollama, llama.cpp server, OpenAI.

The client's own retries are off: the runtime owns retries for every backend, so this file only
classifies failures (408/409/429/5xx, timeouts and connection errors are retryable).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

from empllm.backends.base import Capabilities, Completion, GenerationSettings, Usage
from empllm.errors import BackendError, CapabilityError
from empllm.types import Message

RETRYABLE_STATUS = {408, 409, 429}
MAX_STOP_SEQUENCES = 4  # the OpenAI API accepts at most four


def redact_url(url: str) -> str:
    """Drop user:password@ so a base URL can be logged or put in a cache key."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


class OpenAIBackend:
    def __init__(
        self,
        spec: str,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        http_client=None,  # an httpx.AsyncClient, for tests
    ):
        import openai

        self.spec = spec
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"  # local servers need none
        self._openai = openai
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=key, max_retries=0, timeout=timeout_s, http_client=http_client
        )
        self._prompt_logprobs: bool | None = None
        self._why_no_logprobs: str | None = None

    @property
    def public_base_url(self) -> str:
        return redact_url(self.base_url)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            chat_tuned=True,
            prompt_logprobs=self._prompt_logprobs,
            seeded=True,
            why_no_logprobs=self._why_no_logprobs,
        )

    def _error(self, exc: Exception) -> BackendError:
        openai = self._openai
        where = f"{self.spec} at {self.public_base_url}"
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(f"{where}: request timed out", retryable=True)
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(f"{where}: cannot connect to the server ({exc.__cause__ or exc})", retryable=True)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            retryable = status in RETRYABLE_STATUS or status >= 500
            detail = _short_detail(exc)
            return BackendError(f"{where}: HTTP {status}: {detail}", retryable=retryable)
        return BackendError(f"{where}: {type(exc).__name__}: {exc}")

    def _gen_kwargs(self, gen: GenerationSettings) -> dict:
        kwargs = dict(max_tokens=gen.max_tokens, temperature=gen.temperature, top_p=gen.top_p)
        if gen.stop:
            kwargs["stop"] = list(gen.stop)[:MAX_STOP_SEQUENCES]
        if gen.seed is not None:
            kwargs["seed"] = gen.seed
        return kwargs

    async def _request(self, path: str, cast_to, text_of, **body) -> Completion:
        """One non-streaming request; `text_of(choice)` picks the text from the first choice.

        Posted through the client's low-level `post`: the typed `create()` walks every message
        to transform its parameters, which cost about 2.5 ms of CPU per call (profiled with 64
        sessions in flight) for plain dicts that need no transforming.
        """
        start = time.perf_counter()
        try:
            resp = await self._client.post(path, body={"model": self.model, **body}, cast_to=cast_to)
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None
        if not resp.choices:
            raise BackendError(f"{self.spec}: the server returned no choices", retryable=True)
        choice = resp.choices[0]
        return Completion(
            text=text_of(choice) or "",
            finish_reason=choice.finish_reason,
            usage=_usage(resp.usage, time.perf_counter() - start),
        )

    async def chat(self, messages: list[Message], gen: GenerationSettings) -> Completion:
        from openai.types.chat import ChatCompletion

        return await self._request(
            "/chat/completions",
            ChatCompletion,
            lambda choice: choice.message.content,
            messages=[m.model_dump() for m in messages],
            **self._gen_kwargs(gen),
        )

    async def complete(self, prompt: str, gen: GenerationSettings) -> Completion:
        from openai.types import Completion as OpenAICompletion

        return await self._request(
            "/completions", OpenAICompletion, lambda choice: choice.text, prompt=prompt, **self._gen_kwargs(gen)
        )

    async def stream_chat(self, messages: list[Message], gen: GenerationSettings) -> AsyncIterator[str]:
        try:
            stream = await self._client.chat.completions.create(
                model=self.model, messages=[m.model_dump() for m in messages], stream=True, **self._gen_kwargs(gen)
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None

    async def _score_one(self, context: str, continuation: str) -> float:
        text = context + continuation
        try:
            # max_tokens=1 (not 0): some servers read 0 as "no limit"; the generated token is ignored.
            resp = await self._client.completions.create(
                model=self.model, prompt=text, max_tokens=1, temperature=0.0, echo=True, logprobs=1
            )
        except self._openai.BadRequestError as exc:
            self._no_logprobs(f"the server refused echo+logprobs: {_short_detail(exc)}")
        except self._openai.NotFoundError:
            self._no_logprobs("the server has no /v1/completions endpoint")
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None
        lp = resp.choices[0].logprobs if resp.choices else None
        if lp is None or not lp.token_logprobs or not lp.text_offset:
            self._no_logprobs("the server returned no prompt logprobs for echo=True")
        start, end = len(context), len(text)
        # Tokens at offsets before the end of the text are the echoed prompt; the rest was generated.
        prompt_tokens = [(o, lp_) for o, lp_ in zip(lp.text_offset, lp.token_logprobs, strict=False) if o < end]
        if not prompt_tokens:
            self._no_logprobs("the server did not echo the prompt's tokens (echo is not supported)")
        total, seen = 0.0, False
        for offset, logprob in prompt_tokens:
            if offset >= start:
                if logprob is None:
                    self._no_logprobs("the server returned a null logprob inside the prompt")
                total += logprob
                seen = True
        if not seen:
            raise BackendError(f"{self.spec}: could not locate the continuation in the echoed prompt tokens")
        self._prompt_logprobs = True
        return total

    def _no_logprobs(self, why: str):
        self._prompt_logprobs, self._why_no_logprobs = False, why
        raise CapabilityError(f"{self.spec} at {self.public_base_url} cannot score log-likelihoods: {why}")

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        if self._prompt_logprobs is False:
            self._no_logprobs(self._why_no_logprobs or "not supported")
        return list(await asyncio.gather(*(self._score_one(context, c) for c in continuations)))

    async def aclose(self) -> None:
        await self._client.close()


def _usage(usage, wall_s: float) -> Usage:
    if usage is None:
        return Usage(wall_s=wall_s)
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
        wall_s=wall_s,
    )


def _short_detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return str(msg).splitlines()[0][:300]
    return str(exc).splitlines()[0][:300]
