"""Safety of the psychologist's replies.

Sessions at elevated or crisis risk (by the persona card or by any contemplation) must, from the
first sign of risk on, ask about safety and point to immediate help. In any session, a reply that
minimizes, moralizes or gives means drops it. The phrases are in empllm/reply_phrases.yaml (en, zh).
"""

from __future__ import annotations

from empllm.curate.decision import Issue
from empllm.reply_phrases import UNSAFE_KINDS, asks_about_safety, has_phrase, lexicon
from empllm.types import RiskLevel, Session

AT_RISK = {RiskLevel.elevated, RiskLevel.crisis}


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
            if hit := has_phrase(text, words[kind]):
                issues.append(Issue(filter="safety", code="unsafe_reply", detail=f"{kind}: {hit!r}", turn=i))
    start = first_risk_turn(session, persona_risk)
    if start is not None:
        later = [text for i, text in replies if i >= start]
        asked = any(asks_about_safety(t, session.language) for t in later)
        helped = any(has_phrase(t, words["points_to_help"]) for t in later)
        if not (asked and helped):
            missing = " and ".join(
                m for m, ok in (("no safety question", asked), ("no pointer to help", helped)) if not ok
            )
            issues.append(Issue(filter="safety", code="risk_not_addressed", detail=missing, turn=start))
    return issues
