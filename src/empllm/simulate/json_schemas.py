"""JSON schemas of what the chat-style agents answer, for servers with structured output.

They say what the prompts ask for (psychologist_system.j2, client_system.j2, psychologist_plan.j2),
with the label sets of types.py as enums. A backend whose capabilities report structured output gets
one as `response_format`; parsing, validation and json-repair still run on every answer.
"""

from __future__ import annotations

from functools import cache

from empllm.json_schema import OPTIONAL_TEXT, SCALE_0_10, TEXT, enum, object_schema
from empllm.types import Emotion, RiskLevel, Strategy


@cache
def psychologist_answer() -> dict:
    contemplation = object_schema(
        emotion=enum(e.value for e in Emotion),
        intensity=SCALE_0_10,
        cause=TEXT,
        appraisal=TEXT,
        unmet_need=TEXT,
        risk_level=enum(r.value for r in RiskLevel),
        strategy=enum(s.value for s in Strategy),
        rationale=TEXT,
        notes=OPTIONAL_TEXT,
    )
    return object_schema(contemplation=contemplation, reply=TEXT)


@cache
def client_answer() -> dict:
    state = object_schema(emotion_intensity=SCALE_0_10, trust=SCALE_0_10, reaction=OPTIONAL_TEXT,
                          disclosed={"type": "array", "items": TEXT})  # fmt: skip
    return object_schema(state=state, message=TEXT, end_session={"type": "boolean"})


@cache
def session_plan() -> dict:
    return object_schema(goals={"type": "array", "items": TEXT, "minItems": 1, "maxItems": 4})
