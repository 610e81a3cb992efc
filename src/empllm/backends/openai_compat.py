"""`openai:MODEL` — any OpenAI-compatible server: vLLM, Ollama, llama.cpp server, OpenAI.

The client's own retries are off: the runtime owns retries for every backend, so this file only
classifies failures (408/409/429/5xx, timeouts and connection errors are retryable).

Reasoning that a server returns apart from the answer (`reasoning_content` from vLLM's reasoning
parsers, `reasoning` from others) is kept: in `Completion.reasoning`, and wrapped in <think>…</think>
ahead of the streamed answer, so a model tuned to write its notes first keeps them.
A GenerationSettings.json_schema goes out as `response_format`, in the first dialect the server
accepts: OpenAI's `json_schema` (OpenAI, vLLM, Ollama, llama.cpp's server), then `json_object` with
a `schema` (llama-cpp-python's server). When both are refused, structured output is off for this
backend; callers parse and repair the JSON either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

from empllm.backends.base import Capabilities, Completion, GenerationSettings, Usage
from empllm.backends.json_post import JsonPoster, PostConnectionError, PostError, PostStatusError, PostTimeout
from empllm.contemplation_text import THINK_CLOSE, THINK_OPEN
from empllm.errors import BackendError, CapabilityError
from empllm.types import Message

log = logging.getLogger(__name__)
RETRYABLE_STATUS = {408, 409, 429}
RESPONSE_FORMATS = ("json_schema", "json_object")  # tried in this order
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
        structured_output: bool = True,
        http_client=None,  # an httpx.AsyncClient, for tests
    ):
        import openai

        self.spec = spec
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = api_key or "not-needed"  # local servers need none; endpoints.py says whose key goes where
        self._openai = openai
        # Non-streaming calls (every simulation and judge call) go over aiohttp, the rest through the SDK;
        # a client given for tests carries them all.
        self._poster = JsonPoster(timeout_s, {"Authorization": f"Bearer {key}"}) if http_client is None else None
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=key, max_retries=0, timeout=timeout_s, http_client=http_client
        )
        self._prompt_logprobs: bool | None = None
        self._why_no_logprobs: str | None = None
        self._formats = list(RESPONSE_FORMATS) if structured_output else []  # dialects not yet refused

    @property
    def cache_identity(self) -> str:
        # answers made with and without structured output differ: never serve one for the other
        return f"response_format:{self._formats[0] if self._formats else 'none'}"

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
            structured_output=bool(self._formats),
            cache_identity=self.cache_identity,
        )

    def _error(self, exc: Exception) -> BackendError:
        """The SDK's errors and json_post's, as one clear BackendError each."""
        openai = self._openai
        where = f"{self.spec} at {self.public_base_url}"
        if isinstance(exc, openai.APITimeoutError | PostTimeout):
            return BackendError(f"{where}: request timed out", retryable=True)
        if isinstance(exc, openai.APIConnectionError | PostConnectionError):
            return BackendError(f"{where}: cannot connect to the server ({exc.__cause__ or exc})", retryable=True)
        if isinstance(exc, openai.APIStatusError | PostStatusError):
            status = exc.status_code if isinstance(exc, openai.APIStatusError) else exc.status
            retryable = status in RETRYABLE_STATUS or status >= 500
            detail = _short_detail(exc)
            return BackendError(f"{where}: HTTP {status}: {detail}", retryable=retryable, status=status,
                                detail=str(getattr(exc, "body", None) or exc))  # fmt: skip
        return BackendError(f"{where}: {type(exc).__name__}: {exc}", retryable=isinstance(exc, PostError))

    def _gen_kwargs(self, gen: GenerationSettings) -> dict:
        kwargs = dict(max_tokens=gen.max_tokens, temperature=gen.temperature, top_p=gen.top_p)
        if gen.stop:
            kwargs["stop"] = list(gen.stop)[:MAX_STOP_SEQUENCES]
        if gen.seed is not None:
            kwargs["seed"] = gen.seed
        return kwargs

    def _response_format(self, schema_text: str) -> dict | None:
        if not self._formats:
            return None
        schema = json.loads(schema_text)
        if self._formats[0] == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        return {"type": "json_object", "schema": schema}

    async def _request(self, path: str, text_of, json_schema: str | None = None, **body) -> Completion:
        while True:
            response_format = self._response_format(json_schema) if json_schema else None
            try:
                extra = {"response_format": response_format} if response_format else {}
                return await self._post(path, text_of, **body, **extra)
            except BackendError as exc:
                # a refusal is a 4xx, or any error naming the field (llama-cpp-python's server sends 500)
                if response_format is None or not (exc.status in (400, 422) or "response_format" in exc.detail):
                    raise
                # this server does not take this dialect (or this schema): the next one, or none
                refused = response_format["type"]
                if refused not in self._formats:  # a concurrent request has moved on already
                    continue
                self._formats.remove(refused)
                log.warning(
                    "%s: the server refused response_format %s (%s)%s",
                    self.spec,
                    refused,
                    exc,
                    "" if self._formats else "; JSON answers are parsed without structured output",
                )

    async def _post(self, path: str, text_of, **body) -> Completion:
        """One non-streaming request; `text_of(choice)` picks the text from the first choice (a dict).

        Posted as plain JSON and read as a plain dict (json_post.py says why): the SDK's typed
        `create()` walked every message to transform its parameters, about 2.5 ms of CPU a call.
        """
        start = time.perf_counter()
        body = {"model": self.model, **body}
        try:
            if self._poster is not None:
                resp = await self._poster.post(self.base_url.rstrip("/") + path, body)
            else:
                resp = await self._client.post(path, body=body, cast_to=dict)
        except (self._openai.OpenAIError, PostError) as exc:
            raise self._error(exc) from None
        choices = resp.get("choices") if isinstance(resp, dict) else None
        if not choices or not isinstance(choices[0], dict):
            raise BackendError(f"{self.spec}: the server returned no choices", retryable=True)
        choice = choices[0]
        return Completion(
            text=text_of(choice) or "",
            reasoning=reasoning_of(choice.get("message")),
            finish_reason=choice.get("finish_reason"),
            usage=_usage(resp.get("usage"), time.perf_counter() - start),
        )

    async def chat(self, messages: list[Message], gen: GenerationSettings) -> Completion:
        return await self._request(
            "/chat/completions",
            lambda choice: (choice.get("message") or {}).get("content"),
            json_schema=gen.json_schema,
            messages=[m.model_dump() for m in messages],
            **self._gen_kwargs(gen),
        )

    async def complete(self, prompt: str, gen: GenerationSettings) -> Completion:
        return await self._request(
            "/completions", lambda choice: choice.get("text"), prompt=prompt, **self._gen_kwargs(gen)
        )

    async def stream_chat(self, messages: list[Message], gen: GenerationSettings) -> AsyncIterator[str]:
        try:
            stream = await self._client.chat.completions.create(
                model=self.model, messages=[m.model_dump() for m in messages], stream=True, **self._gen_kwargs(gen)
            )
            thinking = False  # inside reasoning deltas, shown as <think>…</think>
            async for chunk in stream:
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if thought := reasoning_of(delta):
                    yield thought if thinking else THINK_OPEN + thought
                    thinking = True
                if delta.content:
                    yield THINK_CLOSE + delta.content if thinking else delta.content
                    thinking = False
            if thinking:
                yield THINK_CLOSE
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
        if self._poster is not None:
            await self._poster.aclose()
        await self._client.close()


def reasoning_of(message) -> str | None:
    """The reasoning a server sent beside the answer, under either name servers use."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key) if isinstance(message, dict) else getattr(message, key, None)
        if isinstance(value, str) and value:
            return value
    return None


def _usage(usage: dict | None, wall_s: float) -> Usage:
    if not isinstance(usage, dict):
        return Usage(wall_s=wall_s)
    return Usage(
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        wall_s=wall_s,
    )


def _short_detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, str) and body.strip():
        return body.strip().splitlines()[0][:300]
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return str(msg).splitlines()[0][:300]
    return str(exc).splitlines()[0][:300]
