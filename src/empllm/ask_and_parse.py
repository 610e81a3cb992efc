"""Ask a model, parse its answer, retry a bounded number of times, keep the raw text on failure: the
one loop behind the simulation's agents, the curation judge and persona synthesis."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from empllm.json_output import ParseError

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
