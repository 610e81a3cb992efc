"""Chat on a base model: render messages as a plain transcript the model can continue.

A base model has no chat template, so `chat()` writes the conversation as labelled lines and stops
generation when the model starts writing the next speaker's line.
"""

from __future__ import annotations

from empllm.types import Message

USER_LABEL = "User"
ASSISTANT_LABEL = "Assistant"
# Where a base model tends to start the other speaker's turn; generation stops there.
TRANSCRIPT_STOPS: tuple[str, ...] = (f"\n{USER_LABEL}:", f"\n{ASSISTANT_LABEL}:", "\n\n\n")


def render_transcript(messages: list[Message]) -> str:
    """System text first, then `User:`/`Assistant:` lines, ending with an open assistant line."""
    parts: list[str] = []
    for m in messages:
        if m.role == "system":
            parts.append(m.content.strip() + "\n")
        else:
            label = USER_LABEL if m.role == "user" else ASSISTANT_LABEL
            parts.append(f"{label}: {m.content.strip()}")
    parts.append(f"{ASSISTANT_LABEL}:")
    return "\n".join(parts)


def transcript_stops(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(dict.fromkeys(TRANSCRIPT_STOPS + tuple(extra)))
