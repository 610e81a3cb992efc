"""What the simulation's agents share: usage counting and the ModelAgent base (the ask, parse and
retry loop itself is empllm.ask_and_parse)."""

from __future__ import annotations

from empllm.backends.base import Completion, GenerationSettings
from empllm.json_schema import structured
from empllm.types import UsageRecord


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
