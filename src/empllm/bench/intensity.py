"""The `intensity` sub-task's scoring: the EQ-Bench v2 formula, and reading ratings from replies.

Per emotion d = |answer - reference|; cost 0 if d = 0, 6.5 / (1 + e^(-1.2 (d - 4))) if d <= 5, else d.
Item score = 10 - 0.7477 * sum of costs (so rating every emotion 10 scores about 0); the task score
is 10 x the mean item score over parseable items.
"""

from __future__ import annotations

import math
import re

ADJUST = 0.7477
RATINGS = tuple(range(11))  # base models: the expected value over " 0" ... " 10"

# "Name: 7", "Name：7", "- name: 7.5"; the name may be Chinese or several words
_LINE = re.compile(r"^[\s*\-•]*([^\s:：\d][^:：\n]*?)\s*[:：]\s*(\d+(?:\.\d+)?)", re.MULTILINE)
_FIRST = re.compile(r"first pass scores\s*[:：]|初步评分\s*[:：]", re.IGNORECASE)
_REVISED = re.compile(r"revised scores\s*[:：]|修正评分\s*[:：]", re.IGNORECASE)


def emotion_cost(answer: float, reference: float) -> float:
    d = abs(answer - reference)
    if d == 0:
        return 0.0
    if d <= 5:
        return 6.5 / (1 + math.exp(-1.2 * (d - 4)))
    return d


def item_score(answers: list[float], references: list[float]) -> float:
    return 10 - ADJUST * sum(emotion_cost(a, r) for a, r in zip(answers, references, strict=True))


def task_score(item_scores: list[float]) -> float:
    """10 x the mean item score (0..100); parseable items only."""
    return 10 * sum(item_scores) / len(item_scores) if item_scores else 0.0


def chance_item_score(references: list[float]) -> float:
    """The expected item score of a rater that picks 0..10 uniformly at random for each emotion."""
    return 10 - ADJUST * sum(sum(emotion_cost(a, r) for a in RATINGS) / len(RATINGS) for r in references)


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().strip("*").strip()).lower()


def parse_ratings(text: str, emotions: list[str]) -> list[float] | None:
    """The rating of each emotion, in order, from "Name: number" lines; None unless all four are there."""
    found: dict[str, float] = {}
    for name, value in _LINE.findall(text):
        key = _key(name)
        if key not in found:
            found[key] = float(value)
    try:
        values = [found[_key(e)] for e in emotions]
    except KeyError:
        return None
    return values if all(0 <= v <= 10 for v in values) else None


def split_passes(text: str) -> tuple[str | None, str | None]:
    """The first-pass and revised sections of an EQ-Bench answer (None where absent)."""
    first, revised = _FIRST.search(text), _REVISED.search(text)
    if first is None and revised is None:
        return None, None
    first_text = None
    if first is not None:
        end = revised.start() if revised is not None and revised.start() > first.end() else None
        first_text = text[first.end() : end]
    revised_text = text[revised.end() :] if revised else None
    return first_text, revised_text


def score_answer(
    text: str, emotions: list[str], references: list[float]
) -> tuple[float | None, list[float] | None, str]:
    """(item score, ratings used, which pass) for a reply; the score is None when unparseable.

    With first-pass and revised sections, the revised ratings count when they parse and score at
    least as well as the first pass, as EQ-Bench's own scorer does; otherwise the first pass counts.
    """
    first_text, revised_text = split_passes(text)
    if first_text is None and revised_text is None:
        ratings = parse_ratings(text, emotions)
        return (item_score(ratings, references) if ratings else None), ratings, "single"
    first = parse_ratings(first_text, emotions) if first_text is not None else None
    revised = parse_ratings(revised_text, emotions) if revised_text is not None else None
    first_score = item_score(first, references) if first else None
    revised_score = item_score(revised, references) if revised else None
    if revised_score is not None and (first_score is None or revised_score >= first_score):
        return revised_score, revised, "revised"
    if first_score is not None:
        return first_score, first, "first_pass"
    return None, None, "unparseable"


def expected_rating(logprobs: list[float]) -> float:
    """The expected rating under the model's distribution over the 11 ratings."""
    peak = max(logprobs)
    weights = [math.exp(lp - peak) for lp in logprobs]
    return sum(r * w for r, w in zip(RATINGS, weights, strict=True)) / sum(weights)
