"""`scripted:FILE` — replies read from a file, for tests and for scoring recorded outputs.

YAML:
    replies: ["first reply", "second reply"]     # by turn: call N gets reply N
    match:                                         # by the last message (checked first)
      - {contains: "exam", reply: "Exams can be a lot."}
      - {regex: "^hi\\b", reply: "Hello."}
    default: "Mm, tell me more."                   # when nothing else answers
    logprobs: {" yes": -0.5, " no": -2.0}          # optional: makes loglikelihood() work
    chat_tuned: false                              # optional: behave as a base model (default true)
    delay_s: 0.05                                  # optional: seconds each call takes
JSONL: one object a line, {"reply": ...} (by turn) or {"contains"|"regex": ..., "reply": ...}, or
{"default": ...}, or {"logprobs": {...}}.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from empllm.backends.base import Capabilities, Completion, GenerationSettings, Usage
from empllm.backends.transcript import render_transcript
from empllm.errors import BackendError, BackendUnavailable, CapabilityError, first_problem
from empllm.types import Message
from empllm.yaml_io import parse_yaml


class MatchRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contains: str | None = None
    regex: str | None = None
    reply: str

    @model_validator(mode="after")
    def _one_condition(self) -> MatchRule:
        if (self.contains is None) == (self.regex is None):
            raise ValueError("a match rule needs exactly one of 'contains' or 'regex'")
        if self.regex is not None:
            re.compile(self.regex)
        return self

    def matches(self, text: str) -> bool:
        if self.contains is not None:
            return self.contains.lower() in text.lower()
        return re.search(self.regex or "", text) is not None


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    replies: list[str] = []
    match: list[MatchRule] = []
    default: str | None = None
    logprobs: dict[str, float] | None = None
    chat_tuned: bool = True
    delay_s: float = 0.0


def load_script(path: Path) -> Script:
    if not path.is_file():
        raise BackendUnavailable(f"scripted file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return _script_from_jsonl(path, text)
    data = parse_yaml(text, f"scripted file {path}", BackendUnavailable)
    if not isinstance(data, dict):
        raise BackendUnavailable(f"scripted file {path}: expected a mapping with 'replies', 'match' or 'default'")
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        field, message = first_problem(exc)
        raise BackendUnavailable(f"scripted file {path}: field '{field}': {message}") from None


def _script_from_jsonl(path: Path, text: str) -> Script:
    script = Script()
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("expected a JSON object")
            if "logprobs" in row:
                script.logprobs = {**(script.logprobs or {}), **row["logprobs"]}
            elif "default" in row:
                script.default = str(row["default"])
            elif "contains" in row or "regex" in row:
                script.match.append(MatchRule.model_validate(row))
            elif set(row) == {"reply"}:
                script.replies.append(str(row["reply"]))
            else:
                raise ValueError("expected 'reply', 'contains'/'regex' + 'reply', or 'default'")
        except (ValueError, ValidationError) as exc:
            msg = first_problem(exc)[1] if isinstance(exc, ValidationError) else str(exc)
            raise BackendUnavailable(f"scripted file {path} line {lineno}: {msg}") from None
    return script


class ScriptedBackend:
    def __init__(self, spec: str, path: Path):
        self.spec = spec
        self.path = path
        self.script = load_script(path)
        self.calls = 0  # how many replies were asked for: the "turn" of the by-turn list

    @property
    def capabilities(self) -> Capabilities:
        has_lp = self.script.logprobs is not None
        return Capabilities(
            chat_tuned=self.script.chat_tuned,
            prompt_logprobs=has_lp,
            seeded=True,
            why_no_logprobs=None if has_lp else "the scripted file has no 'logprobs' table",
            cacheable=False,  # by-turn replies depend on how many calls came before
        )

    def _reply(self, last_text: str) -> str:
        turn = self.calls
        self.calls += 1
        for rule in self.script.match:
            if rule.matches(last_text):
                return rule.reply
        if turn < len(self.script.replies):
            return self.script.replies[turn]
        if self.script.default is not None:
            return self.script.default
        raise BackendError(
            f"scripted file {self.path} has no reply for call {turn + 1} "
            f"({len(self.script.replies)} by-turn replies, no match, no default)"
        )

    @staticmethod
    def _finish(text: str, prompt: str, gen: GenerationSettings) -> Completion:
        for s in gen.stop:
            if s and s in text:
                text = text[: text.index(s)]
        words = text.split()
        finish = "stop"
        if len(words) > gen.max_tokens:
            text, finish = " ".join(words[: gen.max_tokens]), "length"
        usage = Usage(prompt_tokens=len(prompt.split()), completion_tokens=len(text.split()))
        return Completion(text=text, finish_reason=finish, usage=usage)

    async def chat(self, messages: list[Message], gen: GenerationSettings) -> Completion:
        await asyncio.sleep(self.script.delay_s)
        last = messages[-1].content if messages else ""
        return self._finish(self._reply(last), render_transcript(messages), gen)

    async def complete(self, prompt: str, gen: GenerationSettings) -> Completion:
        await asyncio.sleep(self.script.delay_s)
        return self._finish(self._reply(prompt), prompt, gen)

    async def stream_chat(self, messages: list[Message], gen: GenerationSettings) -> AsyncIterator[str]:
        completion = await self.chat(messages, gen)
        for i, word in enumerate(completion.text.split(" ")):
            yield word if i == 0 else " " + word
            await asyncio.sleep(0)

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        table = self.script.logprobs
        if table is None:
            raise CapabilityError(f"scripted:{self.path} cannot score log-likelihoods: no 'logprobs' table")
        missing = [c for c in continuations if c not in table]
        if missing:
            raise CapabilityError(f"scripted file {self.path} has no logprob for {missing[0]!r}")
        return [table[c] for c in continuations]

    async def aclose(self) -> None:
        return None
