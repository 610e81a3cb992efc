"""Rule checks: cheap, deterministic reasons to drop a session."""

from __future__ import annotations

from empllm.curate.decision import Issue
from empllm.reply_rules import RuleLimits, reply_problems
from empllm.types import Session

__all__ = ["RuleLimits", "check_rules"]


def check_rules(session: Session, limits: RuleLimits | None = None) -> list[Issue]:
    limits = limits or RuleLimits()
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
        for code, detail in reply_problems(text, turn.contemplation, session.language, limits):
            add(code, detail, i)
        key = " ".join(text.lower().split())
        if key in seen_replies:
            add("repeated_reply", "the same reply twice in one session", i)
        seen_replies.add(key)
    return issues
