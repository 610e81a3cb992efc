"""The OpenAI chat-completions request and the response shapes EmpLLM's server speaks."""

from __future__ import annotations

import time
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(p.get("text", "") for p in self.content if isinstance(p, dict))
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI clients send fields EmpLLM does not use

    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    # EmpLLM's extensions (send them with extra_body= in the openai client)
    include_reasoning: bool | None = None  # the contemplation in message.reasoning and .reasoning_content
    locale: str | None = None  # crisis resources for this country code (US, UK, IE, CN, ...)
    language: Literal["en", "zh"] | None = None


def system_text(messages: list[ChatMessageIn]) -> str:
    """The system (and developer) messages, joined: the operator's instructions."""
    return "\n\n".join(m.text().strip() for m in messages if m.role in ("system", "developer") and m.text().strip())


def usage_body(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}  # fmt: skip


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def error_body(message: str, kind: str = "invalid_request_error", code: str | None = None, param: str | None = None):
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def completion_body(cid: str, model: str, message: dict, extra: dict, usage: dict) -> dict:
    return {"id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage,
            "empllm": extra}  # fmt: skip


def chunk_body(cid: str, model: str, delta: dict, finish: str | None = None, extra: dict | None = None) -> dict:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    if extra is not None:
        body["empllm"] = extra
    return body
