"""Grounding: the psychologist's notes must come from what the client has said so far.

A session is dropped when any contemplation's cause, appraisal or need names a person, a name or a
number the client never said, or shares nothing with the client's words (empllm.grounding).
"""

from __future__ import annotations

from empllm.curate.decision import Issue
from empllm.grounding import grounding_problems
from empllm.types import Session


def check_grounding(session: Session) -> list[Issue]:
    issues: list[Issue] = []
    client_said: list[str] = []
    for i, turn in enumerate(session.turns):
        if turn.role == "client":
            client_said.append(turn.content)
            continue
        notes = turn.contemplation
        if notes is None:  # no notes to check (the rules filter drops those)
            continue
        problems = grounding_problems(notes.cause, notes.appraisal, notes.unmet_need, client_said, session.language)
        if problems:
            issues.append(Issue(filter="grounding", code="ungrounded_notes", detail="; ".join(problems), turn=i))
    return issues
