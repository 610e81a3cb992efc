"""JSON from model output, for every stage that asks a model for it (simulation, the curate and
EmpTest judges, the safety model check): the first object in the text, repaired if a model broke it."""

from __future__ import annotations

import json_repair


class ParseError(ValueError):
    """A model's output that cannot be read as asked; callers resample or record it."""


def parse_json_object(text: str) -> dict:
    """The first JSON object in `text`, repaired if a model broke it."""
    start = text.find("{")
    if start < 0:
        raise ParseError("no JSON object in the output")
    try:
        data = json_repair.loads(text[start:])
    except Exception as exc:  # json-repair raises plain exceptions on hopeless input
        raise ParseError(f"unrepairable JSON: {exc}") from None
    if isinstance(data, list):
        data = next((d for d in data if isinstance(d, dict)), None)
    if not isinstance(data, dict) or not data:
        raise ParseError("the output is not a JSON object")
    return data
