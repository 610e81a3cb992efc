"""What makes one counselor reply, or one client line, usable as training data: the per-line rules
that `curate` applies to finished sessions and that simulation applies to each sampled line, so a
line that passes here does not get its session dropped later."""

from __future__ import annotations

import re
from dataclasses import dataclass

from empllm.language import detect_language
from empllm.record_labels import LABELS
from empllm.types import Contemplation

AI_DISCLAIMERS = re.compile(
    r"\bas an ai\b|\bai (language )?model\b|\blanguage model\b|\bi am an ai\b|\bi'm an ai\b|\bi am not a human\b"
    r"|作为(一个)?(人工智能|AI|ai|语言模型)|我是(一个)?(人工智能|AI|语言模型)",
    re.IGNORECASE,
)
LIST_LINE = re.compile(r"^\s*(?:[-*•·]|\d+[.)、]|[一二三四五六七八九十]+[、.])\s+\S", re.MULTILINE)
# Words that only belong in the private notes: a reply that contains them leaks the contemplation.
_NOTE_WORDS = {label for lab in LABELS.values() for label in (lab.notes,)} | {
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
    repeat_similarity: float = 0.8  # simulation: a line this close to an earlier one is a repeat
    # a line this long whose character 6-grams are mostly repeats of its own is a generation loop
    loop_min_chars: int = 40
    loop_distinct_share: float = 0.6


def _leaks(reply: str, notes_texts: list[str], min_run: int) -> bool:
    low = reply.lower()
    if any(word.lower() in low for word in _NOTE_WORDS):
        return True
    for text in notes_texts:
        text = text.strip()
        if len(text) >= min_run and text.lower() in low:
            return True
    return False


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def _shingles(text: str, n: int = 4) -> set[str]:
    norm = normalised(text)
    return {norm[i : i + n] for i in range(max(1, len(norm) - n + 1))}


def repeats(text: str, earlier: list[str], similarity: float) -> str | None:
    """The earlier line `text` repeats (the same after normalising, or character 4-gram Jaccard
    similarity at least `similarity`), or None. Works for English and Chinese alike."""
    key, mine = normalised(text), _shingles(text)
    for line in earlier:
        if normalised(line) == key:
            return line
        theirs = _shingles(line)
        if mine and theirs and len(mine & theirs) / len(mine | theirs) >= similarity:
            return line
    return None


def loops(text: str, limits: RuleLimits) -> bool:
    """A small model's loop inside one line ("她觉得累，你笑我笑，她觉得累，你笑我笑，…"): few of
    the line's character 6-grams are distinct. English and Chinese alike."""
    norm = normalised(text)
    if len(norm) < limits.loop_min_chars:
        return False
    grams = [norm[i : i + 6] for i in range(len(norm) - 5)]
    return len(set(grams)) / len(grams) < limits.loop_distinct_share


def reply_problems(reply: str, notes: Contemplation, language: str, limits: RuleLimits) -> list[tuple[str, str]]:
    """(code, detail) for every rule one counselor reply breaks, given the notes written before it."""
    found: list[tuple[str, str]] = []
    text = reply.strip()
    if any(not str(v).strip() for v in (notes.cause, notes.appraisal, notes.unmet_need, notes.rationale)):
        found.append(("contemplation_incomplete", "an empty contemplation field"))
    if not (limits.min_reply_chars <= len(text) <= limits.max_reply_chars):
        found.append(("reply_length", f"{len(text)} characters"))
    lang = detect_language(text)
    if lang is not None and lang != language:
        found.append(("language_mismatch", f"reply reads as {lang}, persona is {language}"))
    if hit := AI_DISCLAIMERS.search(text):
        found.append(("ai_disclaimer", hit.group(0)))
    if loops(text, limits):
        found.append(("looping_line", "the reply repeats itself"))
    if len(LIST_LINE.findall(text)) > limits.max_list_lines:
        found.append(("list_lecture", f"{len(LIST_LINE.findall(text))} list items"))
    if _leaks(text, [notes.cause, notes.appraisal, notes.unmet_need, notes.rationale], limits.leak_overlap_chars):
        found.append(("contemplation_leak", "the reply repeats the private notes"))
    return found
