"""The one protocol every model backend implements, and the values it returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from empllm.types import Message


class GenerationSettings(BaseModel):
    """Sampling settings. Part of the cache key, so only what changes the output belongs here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.7, ge=0.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    stop: tuple[str, ...] = ()
    seed: int | None = None
    # A GBNF grammar the output must match. In-process llama.cpp models honour it (constrained
    # decoding); other backends ignore it, and callers parse and validate the output anyway.
    grammar: str | None = None
    # A JSON schema (as JSON text) the answer must match. Servers that support it get it as
    # `response_format`; others ignore it, and callers parse and validate the answer anyway.
    json_schema: str | None = None
    # How many leading characters of the prompt many calls share (few-shot exemplars). A backend
    # that can keep an evaluated prefix reuses it; the output depends only on the prompt and this
    # split, never on which calls ran before. Others ignore it.
    shared_prefix: int = Field(default=0, ge=0)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            wall_s=self.wall_s + other.wall_s,
        )


class Completion(BaseModel):
    text: str
    # What a server returned apart from the answer (`reasoning_content` or `reasoning`, as vLLM's
    # reasoning parsers and others put a model's <think> block).
    reasoning: str | None = None
    finish_reason: str | None = None  # "stop", "length", ...
    usage: Usage = Field(default_factory=Usage)
    cached: bool = False  # set by the runtime when served from its disk cache


class Capabilities(BaseModel):
    """What a backend can do, so agents and tasks choose a method instead of guessing."""

    chat_tuned: bool  # False: a base model; agents use transcript prompts with few-shot exemplars
    prompt_logprobs: bool | None  # None: not known until probed (OpenAI-compatible servers)
    max_context: int | None = None
    seeded: bool = False  # the same seed gives the same sample
    streaming: bool = True
    why_no_logprobs: str | None = None
    structured_output: bool = False  # honours GenerationSettings.json_schema (response_format)
    # what callers used to guess from spec strings:
    cacheable: bool = True  # False: replies depend on call order (scripted), so the runtime caches none
    cache_identity: str | None = None  # beyond the spec, what decides outputs (file sizes and times)
    agent_style: str | None = None  # the agent style it is made for ("think": an adapter from empllm
    # train); None: by chat_tuned, structured for a chat model, transcript for a base model


@runtime_checkable
class Backend(Protocol):
    """A model. All methods are async; a backend that cannot do one raises CapabilityError."""

    spec: str
    # Optional attribute the runtime reads with getattr:
    #   public_base_url: str -- the server, without credentials

    @property
    def capabilities(self) -> Capabilities: ...

    async def chat(self, messages: list[Message], gen: GenerationSettings) -> Completion: ...

    async def complete(self, prompt: str, gen: GenerationSettings) -> Completion: ...

    def stream_chat(self, messages: list[Message], gen: GenerationSettings) -> AsyncIterator[str]:
        """Yield text pieces as they are generated."""
        ...

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        """Sum of log-probabilities of each continuation's tokens given the context."""
        ...

    async def aclose(self) -> None: ...


def file_fingerprint(*paths: Path | None) -> str:
    """Path, size and modification time of each file (or of each file in a folder)."""
    parts = []
    for path in paths:
        if path is None:
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            st = f.stat()
            parts.append(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)
