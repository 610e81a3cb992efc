"""Records shared by every stage. Later stages add Session, Persona, ... here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    """An OpenAI-style chat message."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str


def as_messages(items: list[Message] | list[dict]) -> list[Message]:
    """Accept pydantic messages or plain OpenAI-style dicts."""
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in items]
