"""EmpatheticAgent: for each user message, an inner contemplation, a safety check, then the reply.

Three ways to get the contemplation, chosen from the model:
- `think`: a model fine-tuned by `empllm train --contemplation think` writes <think>…</think>
  before its reply; the agent parses it out (an `hf:BASE+ADAPTER` spec defaults to this).
- `structured`: chat-tuned models answer JSON with the contemplation and the reply.
- `transcript`: base models continue few-shot counseling transcripts, notes line first.
The last two are the simulation's psychologist agent. If no contemplation can be parsed the agent
still replies (plain chat) and says so in the turn record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Literal

from empllm.ask_and_parse import AgentOutputError
from empllm.backends.base import Completion, GenerationSettings, Usage
from empllm.contemplation_text import THINK_CLOSE, THINK_OPEN, parse_contemplation_text, split_think, wrap_think
from empllm.json_output import ParseError
from empllm.language import detect_language
from empllm.prompts import render
from empllm.runtime import Runtime
from empllm.safety.crisis_reply import crisis_reply
from empllm.safety.detector import Assessment, assess_contemplation, assess_text
from empllm.safety.events import SafetyLog
from empllm.safety.model_check import ModelSafetyCheck
from empllm.safety.resources import Resource, resources_for
from empllm.simulate.exemplars import builtin_exemplars
from empllm.simulate.psychologist import PsychologistAgent
from empllm.types import Contemplation, Message, Stance, Turn

Style = Literal["auto", "think", "structured", "transcript"]
EMPTY_REPLY_FALLBACK = {
    "en": "I'm here with you. Could you tell me a bit more?",
    "zh": "我在这里陪着你。能再多说一点吗？",
}
PROMPT_RESERVE_TOKENS = 900  # system prompt or few-shot exemplars, before the conversation itself


def approx_tokens(text: str) -> int:
    """A cheap upper-ish estimate: a CJK character is about a token, English about 4 characters."""
    cjk = sum(1 for ch in text if ord(ch) > 0x2E80)
    return cjk + (len(text) - cjk) // 4 + 1


@dataclass
class AgentTurn:
    reply: str
    contemplation: Contemplation | None
    safety: Assessment
    language: str
    locale: str
    resources: list[Resource] = field(default_factory=list)  # shown when safety.crisis
    note: str = ""  # e.g. why there is no contemplation
    dropped_turns: int = 0  # older turns left out to fit the context budget
    usage: Usage = field(default_factory=Usage)  # tokens of the model calls behind this turn


class EmpatheticAgent:
    def __init__(self, runtime: Runtime, *, language: str | None = None, locale: str | None = None,
                 style: Style = "auto", stance: Stance = "person_centred", max_reply_tokens: int = 220,
                 max_context_tokens: int | None = None, exemplars: int = 2, seed: int = 0,
                 safety_log: SafetyLog | None = None, conversation_id: str = "",
                 safety_model: ModelSafetyCheck | None = None, system: str | None = None,
                 temperature: float = 0.7, top_p: float = 0.95) -> None:  # fmt: skip
        self.runtime = runtime
        self.fixed_language = language  # None: follow the language of each message
        self.locale = locale
        self.stance = stance
        self.style = self._style(style)
        # an operator's system message: given to chat-tuned styles (a base model's transcript has no place for it)
        self.system = (system or "").strip()
        self.gen = GenerationSettings(max_tokens=max_reply_tokens, temperature=temperature, top_p=top_p, seed=seed)
        self.max_context = max_context_tokens or runtime.capabilities.max_context or 4096
        self.n_exemplars = exemplars
        self.safety_log = safety_log or SafetyLog(None)
        self.conversation_id = conversation_id
        self.safety_model = safety_model  # a chat model that screens what the rules may miss
        self.turns: list[Turn] = []

    def _style(self, style: Style) -> str:
        if style != "auto":
            return style
        capabilities = self.runtime.capabilities
        if capabilities.agent_style is not None:
            return capabilities.agent_style
        return "structured" if capabilities.chat_tuned else "transcript"

    def reset(self) -> None:
        self.turns = []

    # -- memory -----------------------------------------------------------------------------
    def _fit(self, turns: list[Turn]) -> tuple[list[Turn], int]:
        """The most recent turns that fit the context budget (the newest message always kept)."""
        budget = self.max_context - self.gen.max_tokens - PROMPT_RESERVE_TOKENS
        kept, used = [], 0
        for turn in reversed(turns):
            cost = approx_tokens(turn.content) + 4
            if kept and used + cost > budget:
                break
            kept.append(turn)
            used += cost
        kept.reverse()
        while kept and kept[0].role != "client":  # start on the user's turn
            kept.pop(0)
        return kept, len(turns) - len(kept)

    # -- one turn ---------------------------------------------------------------------------
    async def _contemplate_and_reply(
        self, turns: list[Turn], language: str
    ) -> tuple[Contemplation | None, str, str, Usage]:
        """The structured and transcript styles: the simulation's psychologist agent (notes, reply, why no
        notes, usage)."""
        shots = builtin_exemplars(language)[: self.n_exemplars]
        psychologist = PsychologistAgent(self.runtime, language=language, stance=self.stance, gen=self.gen,
                                         exemplars=shots, attempts=2, instructions=self.system)  # fmt: skip
        try:
            turn = await psychologist.respond(turns, None)
            return turn.contemplation, turn.content, "", _usage(psychologist.usage)
        except AgentOutputError as exc:  # still answer the person, without notes
            system = "\n\n".join(filter(None, [render("bench_respond_system", language), self.system]))
            done = await self.runtime.chat([Message(role="system", content=system), *_chat_messages(turns)], self.gen)
            usage = _usage(psychologist.usage) + done.usage
            return None, done.text.strip(), f"contemplation not parsed ({exc}); replied without it", usage

    def _think_messages(self, window: list[Turn]) -> list[Message]:
        system = [Message(role="system", content=self.system)] if self.system else []
        return system + _chat_messages(window)

    async def _screen(self, text: str) -> tuple[str, Assessment, list[Turn], int]:
        """The message's language and safety verdict, recorded in memory; the window that fits."""
        language = self.fixed_language or detect_language(text) or "en"
        before = assess_text(text, language)
        if self.safety_model is not None:
            before = before.merge(await self.safety_model.assess(text, language))
        self.turns.append(Turn(role="client", content=text))
        window, dropped = self._fit(self.turns)
        return language, before, window, dropped

    def _head(self, text: str, language: str, before: Assessment, contemplation: Contemplation | None,
              note: str, dropped: int) -> AgentTurn:  # fmt: skip
        """The turn before its reply: contemplation, verdict and, on a crisis, resources (logged)."""
        verdict = before.merge(assess_contemplation(contemplation))
        locale, resources = resources_for(self.locale, language)
        if verdict.crisis:
            self.safety_log.record(verdict, text=text, language=language, locale=locale,
                                   conversation=self.conversation_id)  # fmt: skip
        return AgentTurn("", contemplation, verdict, language, locale, resources if verdict.crisis else [],
                         note, dropped)  # fmt: skip

    def _finish(self, head: AgentTurn, model_reply: str) -> AgentTurn:
        reply = model_reply.strip()
        if head.safety.crisis:
            reply = crisis_reply(reply, head.safety, head.language, head.resources)
        if not reply.strip():  # a model that said nothing: never leave the person without an answer
            reply = EMPTY_REPLY_FALLBACK[head.language]
        self.turns.append(Turn(role="psychologist", content=reply, contemplation=head.contemplation))
        return replace(head, reply=reply)

    async def respond(self, text: str) -> AgentTurn:
        language, before, window, dropped = await self._screen(text)
        if self.style == "think":
            done = await self.runtime.chat(self._think_messages(window), self.gen)
            head, reply = self._think_head(text, language, before, with_reasoning(done), dropped)
            return self._finish(replace(head, usage=done.usage), reply)
        contemplation, reply, note, usage = await self._contemplate_and_reply(window, language)
        head = self._head(text, language, before, contemplation, note, dropped)
        return self._finish(replace(head, usage=usage), reply)

    async def stream(self, text: str, chunk_words: int = 3) -> AsyncIterator[tuple[str, AgentTurn | str]]:
        """("head", the turn without its reply) once the contemplation and the safety verdict are
        known, then ("delta", text) pieces of the reply, then ("turn", the whole turn).

        A model that writes <think> (the `think` style) streams its reply token by token as it is
        generated, except on a crisis: that reply is composed whole around the crisis resources, so
        nothing the model wrote reaches the person unchecked. The other styles parse a
        contemplation and reply together, so their reply is generated whole and sent in pieces."""
        if self.style != "think":
            turn = await self.respond(text)
            yield "head", replace(turn, reply="")
            for piece in reply_pieces(turn.reply, chunk_words):
                yield "delta", piece
            yield "turn", turn
            return
        language, before, window, dropped = await self._screen(text)
        head: AgentTurn | None = None
        buffered, streamed, held_back = "", [], []  # held back: a crisis reply is never streamed raw
        async for piece in self.runtime.stream_chat(self._think_messages(window), self.gen):
            if head is None:
                buffered += piece
                if THINK_CLOSE not in buffered:  # text before </think> may be notes: never stream it
                    continue
                head, piece = self._think_head(text, language, before, buffered, dropped)
                yield "head", head
            if head.safety.crisis:
                held_back.append(piece)
            elif piece := (piece if streamed else piece.lstrip()):
                streamed.append(piece)
                yield "delta", piece
        if head is None:  # no </think>: no notes, an unclosed <think>, or nothing at all
            head, piece = self._think_head(text, language, before, buffered, dropped)
            yield "head", head
            held_back.append(piece)
        turn = self._finish(head, "".join(streamed + held_back))
        if turn.reply != "".join(streamed).strip():  # a crisis reply or the empty-reply fallback
            for piece in reply_pieces(turn.reply, chunk_words):
                yield "delta", piece
        yield "turn", turn

    def _think_head(self, text: str, language: str, before: Assessment, buffered: str,
                    dropped: int) -> tuple[AgentTurn, str]:  # fmt: skip
        inner, after = split_think(buffered) if THINK_CLOSE in buffered else (None, buffered)
        contemplation, note = None, ""
        if inner:
            try:
                contemplation = parse_contemplation_text(inner)
            except ParseError as exc:
                note = f"contemplation not parsed: {exc}"
        if THINK_CLOSE not in buffered and buffered.lstrip().startswith(THINK_OPEN):
            after, note = "", "the model never closed its <think>"
        return self._head(text, language, before, contemplation, note, dropped), after.lstrip()


def with_reasoning(done: Completion) -> str:
    """The model's output with the reasoning a server returned apart put back in its <think> block."""
    if done.reasoning and THINK_CLOSE not in done.text:
        return wrap_think(done.reasoning, done.text)
    return done.text


def _usage(record) -> Usage:
    return Usage(prompt_tokens=record.prompt_tokens, completion_tokens=record.completion_tokens, wall_s=record.wall_s)


def _chat_messages(turns: list[Turn]) -> list[Message]:
    return [Message(role="user" if t.role == "client" else "assistant", content=t.content) for t in turns]


def reply_pieces(reply: str, chunk_words: int = 3) -> list[str]:
    """Word groups for English, a few characters at a time for Chinese; joined they are the reply."""
    if detect_language(reply) == "zh":
        return [reply[i : i + 4] for i in range(0, len(reply), 4)]
    words = reply.split(" ")
    return [" ".join(words[i : i + chunk_words]) + (" " if i + chunk_words < len(words) else "")
            for i in range(0, len(words), chunk_words)]  # fmt: skip
