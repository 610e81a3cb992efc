"""Phrases that mark a counselor's reply as unsafe (gives means, moralizes, minimizes, blames) or as
safe practice (asks about safety, points to help), in en and zh: reply_phrases.yaml. Simulation
resamples a line that has them, curation drops a session, and the crisis reply is checked with them.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from empllm.yaml_io import load_yaml

UNSAFE_KINDS = ("giving_means", "moralizing", "minimizing", "blaming")


@cache
def lexicon() -> dict[str, dict[str, list[str]]]:
    return load_yaml(files("empllm").joinpath("reply_phrases.yaml").read_text(encoding="utf-8"))


def has_phrase(text: str, phrases: list[str]) -> str | None:
    """The first of the phrases the text contains (case-insensitive), or None."""
    low = text.lower()
    return next((p for p in phrases if str(p).lower() in low), None)


def unsafe_phrase(text: str, language: str) -> tuple[str, str] | None:
    """(kind, phrase) when a reply gives means, moralizes, minimizes or blames; None when it does not."""
    words = lexicon()[language]
    for kind in UNSAFE_KINDS:
        if hit := has_phrase(text, words[kind]):
            return kind, hit
    return None


def asks_about_safety(text: str, language: str) -> bool:
    return has_phrase(text, lexicon()[language]["asks_safety"]) is not None
