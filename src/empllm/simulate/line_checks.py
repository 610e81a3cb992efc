"""Rejection sampling for simulated lines: the cheap checks each sampled counselor or client line
must pass, or it is sampled again (a bounded number of times, each reason kept on the turn).

A line is rejected when it is empty, in the wrong language, repeats an earlier line of the session
or of an exemplar, breaks a rule `curate` would drop its session for, (counselor) does not speak
to the client, or (counselor notes) names people or facts the client never mentioned. The checks
mirror `curate`'s filters, so sessions that finish are sessions `curate` keeps.
"""

from __future__ import annotations

import re

from empllm.grounding import grounding_problems
from empllm.language import detect_language
from empllm.reply_phrases import unsafe_phrase
from empllm.reply_rules import RuleLimits, loops, repeats, reply_problems
from empllm.types import Contemplation, Turn

# A counselor speaks to the client. A base model often slips into the client's voice instead ("I'm
# not going to the art class"): a reply that says I/my/me (我) and never you (你/您). A reply with
# neither ("That sounds like a heavy week.") passes.
_SECOND_PERSON = {"en": re.compile(r"\byou|\byour", re.IGNORECASE), "zh": re.compile(r"你|您")}
_FIRST_PERSON = {"en": re.compile(r"\b(i|i'm|i've|i'd|i'll|my|me|mine|myself)\b", re.IGNORECASE),
                 "zh": re.compile(r"我(?!们)")}  # fmt: skip


def _quote(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


class LineChecks:
    def __init__(self, language: str, exemplars: list, limits: RuleLimits | None = None):
        self.language = language
        self.limits = limits or RuleLimits()
        self.exemplar_lines = {
            role: [t.content for ex in exemplars for t in ex.turns if t.role == role]
            for role in ("client", "psychologist")
        }

    def _repeat(self, text: str, earlier: list[str]) -> str | None:
        hit = repeats(text, earlier, self.limits.repeat_similarity)
        return None if hit is None else f"repeats an earlier line {_quote(hit)}"

    def psychologist(self, notes: Contemplation, reply: str, turns: list[Turn]) -> str | None:
        """Why this counselor line (notes, then reply) must be sampled again, or None."""
        problems = reply_problems(reply, notes, self.language, self.limits)
        if problems:
            return f"{problems[0][0]}: {problems[0][1]}"
        if _FIRST_PERSON[self.language].search(reply) and not _SECOND_PERSON[self.language].search(reply):
            return "not_addressed: the reply does not speak to the client"
        if hit := unsafe_phrase(reply, self.language):
            return f"unsafe_reply: {hit[0]} {hit[1]!r}"
        said = [t.content for t in turns]
        if why := self._repeat(reply, said + self.exemplar_lines["psychologist"]):
            return f"repeated_line: {why}"
        client_said = [t.content for t in turns if t.role == "client"]
        ungrounded = grounding_problems(notes.cause, notes.appraisal, notes.unmet_need, client_said, self.language)
        if ungrounded:
            return f"ungrounded_notes: {'; '.join(ungrounded)}"
        return None

    def client(self, message: str, turns: list[Turn]) -> str | None:
        """Why this client line must be sampled again, or None."""
        text = message.strip()
        if not text:
            return "empty_line: the message is empty"
        lang = detect_language(text)
        if lang is not None and lang != self.language:
            return f"language_mismatch: the message reads as {lang}, the persona speaks {self.language}"
        if len(text) > self.limits.max_reply_chars:
            return f"line_length: {len(text)} characters"
        if loops(text, self.limits):
            return "looping_line: the message repeats itself"
        if why := self._repeat(text, [t.content for t in turns] + self.exemplar_lines["client"]):
            return f"repeated_line: {why}"
        return None
