"""How a set of persona cards covers the space a simulation draws from: cards per language, topic,
talking style, attitude and risk level, and the topics no card covers."""

from __future__ import annotations

from collections import Counter

from empllm.types import Persona, Topic

ATTRIBUTES = ("topic", "talking_style", "attitude", "risk_level")


def _value(card: Persona, attribute: str) -> str:
    value = getattr(card, attribute)
    return getattr(value, "value", value)


def coverage(cards: list[Persona]) -> dict:
    """Counts per attribute for each language, and the topics without a card there."""
    out: dict = {"cards": len(cards), "languages": {}}
    for language in sorted({c.language for c in cards}):
        mine = [c for c in cards if c.language == language]
        row: dict = {"cards": len(mine)}
        for attribute in ATTRIBUTES:
            row[attribute] = dict(sorted(Counter(_value(c, attribute) for c in mine).items()))
        row["topics_missing"] = [t.value for t in Topic if t.value not in row["topic"] and t is not Topic.other]
        out["languages"][language] = row
    return out
