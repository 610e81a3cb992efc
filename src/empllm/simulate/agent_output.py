"""Ask a model, parse its answer, retry a bounded number of times, keep the raw text on failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from empllm.backends.base import Completion, GenerationSettings
from empllm.json_output import ParseError
from empllm.json_schema import structured
from empllm.types import UsageRecord

T = TypeVar("T")


class AgentOutputError(Exception):
    """No attempt gave usable output; `raw` is the last output, `rejected` why each one failed."""

    def __init__(self, message: str, raw: str, rejected: list[str] | None = None):
        super().__init__(message)
        self.raw = raw
        self.rejected = rejected or []


async def generate_parsed(
    ask: Callable[[int], Awaitable[str]], parse: Callable[[str], T], attempts: int, what: str
) -> tuple[T, str, list[str]]:
    """`ask(attempt)` returns model text; `parse` turns it into a value or raises ParseError, both
    when the text cannot be read and when a check rejects what it says (rejection sampling).

    Returns the value, the raw text it came from, and why each earlier attempt was rejected.
    """
    rejected: list[str] = []
    raw = ""
    for attempt in range(attempts):
        raw = await ask(attempt)
        try:
            return parse(raw), raw, rejected
        except ParseError as exc:
            rejected.append(str(exc))
    raise AgentOutputError(f"{what}: no usable output in {attempts} attempts: {rejected[-1]}", raw, rejected)


def count_usage(record: UsageRecord, done: Completion) -> str:
    """Add one call to an agent's usage record; returns the completion's text."""
    record.calls += 1
    if not done.cached:
        record.prompt_tokens += done.usage.prompt_tokens
        record.completion_tokens += done.usage.completion_tokens
        record.wall_s += done.usage.wall_s
    return done.text


class ModelAgent:
    """What the client and psychologist agents share: a runtime, sampling settings, few-shot
    exemplars (base models), bounded retries, and the usage their calls add up to."""

    def __init__(
        self, runtime, *, gen: GenerationSettings, exemplars: list, attempts: int = 3, constrain: bool = False,
        checks=None, reuse_prefix: bool = True,
    ):  # fmt: skip
        self.runtime = runtime
        self.reuse_prefix = reuse_prefix  # declare the few-shot prefix shared (see GenerationSettings)
        self.checks = checks  # a simulate.line_checks.LineChecks: resample lines that fail it
        self.gen = gen
        self.exemplars = exemplars
        self.attempts = attempts
        self.constrain = constrain  # base models: grammar-constrained lines where the backend can
        self.chat_style = runtime.capabilities.chat_tuned
        self.usage = UsageRecord()  # this agent's calls, for the session record

    def _json(self, gen: GenerationSettings, schema: dict) -> GenerationSettings:
        """Ask for answers matching `schema` where the backend has structured output."""
        return structured(self.runtime, gen, schema)

    def _shared(self, chars: int) -> int:
        return chars if self.reuse_prefix else 0

    def _count(self, done: Completion) -> str:
        return count_usage(self.usage, done)
