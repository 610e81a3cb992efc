"""What a filter says about a session."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Issue(BaseModel):
    filter: str  # the step that found it: rules | grounding | safety | dedup | judge | a plug-in step
    code: str  # e.g. ai_disclaimer, near_duplicate_session, risk_not_addressed
    detail: str = ""
    turn: int | None = None  # index into session.turns, where it applies


class Decision(BaseModel):
    """One line of decisions.jsonl: kept, or dropped with every reason found."""

    id: str
    kept: bool
    issues: list[Issue] = Field(default_factory=list)
