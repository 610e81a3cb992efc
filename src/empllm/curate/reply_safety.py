"""Safety of the psychologist's replies.

Sessions at elevated or crisis risk (by the persona card or by any contemplation) must, from the
first sign of risk on, ask about safety and point to immediate help. In any session, a reply that
minimizes, moralizes or gives means drops it. Phrases live in reply_safety.yaml (en, zh).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from empllm.curate.decision import Issue
from empllm.types import RiskLevel, Session
from empllm.yaml_io import load_yaml

AT_RISK = {RiskLevel.elevated, RiskLevel.crisis}


@cache
def lexicon() -> dict[str, dict[str, list[str]]]:
    return load_yaml(files("empllm.curate").joinpath("reply_safety.yaml").read_text(encoding="utf-8"))


def _has(text: str, phrases: list[str]) -> str | None:
    low = text.lower()
    return next((p for p in phrases if str(p).lower() in low), None)


UNSAFE_KINDS = ("giving_means", "moralizing", "minimizing", "blaming")


def unsafe_phrase(text: str, language: str) -> tuple[str, str] | None:
    """(kind, phrase) when a reply gives means, moralizes, minimizes or blames; None when it does not."""
    words = lexicon()[language]
    for kind in UNSAFE_KINDS:
        if hit := _has(text, words[kind]):
            return kind, hit
    return None


def asks_about_safety(text: str, language: str) -> bool:
    return _has(text, lexicon()[language]["asks_safety"]) is not None


def first_risk_turn(session: Session, persona_risk: RiskLevel | None) -> int | None:
    """Index of the first turn from which the session counts as at risk, or None."""
    if persona_risk in AT_RISK:
        return 0
    for i, turn in enumerate(session.turns):
        if turn.contemplation is not None and turn.contemplation.risk_level in AT_RISK:
            return i
    return None


def check_reply_safety(session: Session, persona_risk: RiskLevel | None = None) -> list[Issue]:
    words = lexicon()[session.language]
    issues = []
    replies = [(i, t.content) for i, t in enumerate(session.turns) if t.role == "psychologist" and t.content]
    for i, text in replies:
        for kind in UNSAFE_KINDS:
            if hit := _has(text, words[kind]):
                issues.append(Issue(filter="safety", code="unsafe_reply", detail=f"{kind}: {hit!r}", turn=i))
    start = first_risk_turn(session, persona_risk)
    if start is not None:
        later = [text for i, text in replies if i >= start]
        asked = any(asks_about_safety(t, session.language) for t in later)
        helped = any(_has(t, words["points_to_help"]) for t in later)
        if not (asked and helped):
            missing = " and ".join(
                m for m, ok in (("no safety question", asked), ("no pointer to help", helped)) if not ok
            )
            issues.append(Issue(filter="safety", code="risk_not_addressed", detail=missing, turn=start))
    return issues
