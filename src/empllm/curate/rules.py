"""Rule checks: cheap, deterministic reasons to drop a session."""

from __future__ import annotations

import re
from dataclasses import dataclass

from empllm.curate.decision import Issue
from empllm.curate.language import detect_language
from empllm.simulate import transcript_style as ts
from empllm.types import Session

AI_DISCLAIMERS = re.compile(
    r"\bas an ai\b|\bai (language )?model\b|\blanguage model\b|\bi am an ai\b|\bi'm an ai\b|\bi am not a human\b"
    r"|作为(一个)?(人工智能|AI|ai|语言模型)|我是(一个)?(人工智能|AI|语言模型)",
    re.IGNORECASE,
)
LIST_LINE = re.compile(r"^\s*(?:[-*•·]|\d+[.)、]|[一二三四五六七八九十]+[、.])\s+\S", re.MULTILINE)
# Words that only belong in the private notes: a reply that contains them leaks the contemplation.
_NOTE_WORDS = {label for lab in ts.LABELS.values() for label in (lab.notes,)} | {
    "contemplation", "unmet need", "unmet_need", "appraisal:", "strategy:", "risk_level", "rationale:",
    "reflection_of_feelings", "affirmation_and_reassurance", "providing_suggestions", "内心独白", "策略:", "策略：",
}  # fmt: skip


@dataclass(frozen=True)
class RuleLimits:
    min_replies: int = 2
    max_replies: int = 30
    min_reply_chars: int = 4
    max_reply_chars: int = 800
    max_list_lines: int = 2  # a reply with more list items than this reads as a lecture
    leak_overlap_chars: int = 24  # a run this long copied from the notes into the reply is a leak


def _leaks(reply: str, notes_texts: list[str], min_run: int) -> bool:
    low = reply.lower()
    if any(word.lower() in low for word in _NOTE_WORDS):
        return True
    for text in notes_texts:
        text = text.strip()
        if len(text) >= min_run and text.lower() in low:
            return True
    return False


def check_rules(session: Session, limits: RuleLimits = RuleLimits()) -> list[Issue]:
    issues: list[Issue] = []

    def add(code: str, detail: str = "", turn: int | None = None) -> None:
        issues.append(Issue(filter="rules", code=code, detail=detail, turn=turn))

    if session.outcome == "error":
        add("session_error", session.outcome_detail[:200])
    for i, turn in enumerate(session.turns):
        expected = "client" if i % 2 == 0 else "psychologist"
        if turn.role != expected:
            add("roles_not_alternating", f"turn {i} is {turn.role}, expected {expected}", i)
            break
    replies = [(i, t) for i, t in enumerate(session.turns) if t.role == "psychologist"]
    if len(replies) < limits.min_replies:
        add("too_few_turns", f"{len(replies)} psychologist replies < {limits.min_replies}")
    if len(replies) > limits.max_replies:
        add("too_many_turns", f"{len(replies)} psychologist replies > {limits.max_replies}")
    seen_replies: set[str] = set()
    for i, turn in replies:
        text = turn.content.strip()
        if turn.parse_error or turn.contemplation is None:
            add("contemplation_missing", turn.parse_error or "no contemplation", i)
            continue
        c = turn.contemplation
        if any(not str(v).strip() for v in (c.cause, c.appraisal, c.unmet_need, c.rationale)):
            add("contemplation_incomplete", "an empty contemplation field", i)
        if not (limits.min_reply_chars <= len(text) <= limits.max_reply_chars):
            add("reply_length", f"{len(text)} characters", i)
        lang = detect_language(text)
        if lang is not None and lang != session.language:
            add("language_mismatch", f"reply reads as {lang}, persona is {session.language}", i)
        if AI_DISCLAIMERS.search(text):
            add("ai_disclaimer", AI_DISCLAIMERS.search(text).group(0), i)
        if len(LIST_LINE.findall(text)) > limits.max_list_lines:
            add("list_lecture", f"{len(LIST_LINE.findall(text))} list items", i)
        if _leaks(text, [c.cause, c.appraisal, c.unmet_need, c.rationale], limits.leak_overlap_chars):
            add("contemplation_leak", "the reply repeats the private notes", i)
        key = " ".join(text.lower().split())
        if key in seen_replies:
            add("repeated_reply", "the same reply twice in one session", i)
        seen_replies.add(key)
    return issues
