"""The contemplation as text: how it appears in training data (`<think>…</think>` or a
`reasoning` field) and how it is read back from a fine-tuned model's output.

    <think>
    emotion: sadness
    intensity: 6
    cause: ...
    ...
    </think>

    <the reply>

Labels follow the session's language (the same labels as the simulation's notes line).
"""

from __future__ import annotations

import re

from empllm.record_labels import LABELS
from empllm.record_parsing import parse_contemplation
from empllm.types import Contemplation

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
_THINK = re.compile(r"<think>\s*(.*?)\s*</think>\s*", re.S)


def render_contemplation(c: Contemplation, lang: str) -> str:
    values = c.model_dump(mode="json")
    lines = [f"{label}: {' '.join(str(values[field]).split())}" for field, label in LABELS[lang].notes_keys]
    return "\n".join(lines)


def render_think(c: Contemplation, reply: str, lang: str) -> str:
    return wrap_think(render_contemplation(c, lang), reply)


def wrap_think(notes: str, reply: str) -> str:
    """Notes text and a reply, as a model trained with --contemplation think writes them."""
    return f"{THINK_OPEN}\n{notes.strip()}\n{THINK_CLOSE}\n\n{reply.lstrip()}"


def parse_contemplation_text(text: str) -> Contemplation:
    """Lines of `label: value` (either language) -> Contemplation; raises ParseError."""
    keys = {label: field for lab in LABELS.values() for field, label in lab.notes_keys}
    fields = {}
    for line in text.splitlines():
        match = re.match(r"\s*([^:：]+?)\s*[:：]\s*(.*)$", line)
        if match:
            name = keys.get(match.group(1).strip(), match.group(1).strip())
            fields.setdefault(name, match.group(2).strip())
    return parse_contemplation(fields)


def split_think(text: str) -> tuple[str | None, str]:
    """(the text inside <think>…</think> or None, the reply after it). A lone </think> counts too:
    some chat templates open the <think> themselves, and what precedes it is never the reply."""
    match = _THINK.search(text)
    if match:
        return match.group(1), text[match.end() :].strip()
    if THINK_CLOSE in text:
        inner, _, reply = text.partition(THINK_CLOSE)
        return inner.strip(), reply.strip()
    return None, text.strip()
