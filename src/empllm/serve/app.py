"""The FastAPI app: /v1/chat/completions (plain and SSE streaming), /v1/models, /health, and the web
chat page at /. Every reply goes through the EmpatheticAgent, so it is contemplated and
safety-checked; the contemplation leaves the server only in `message.reasoning` (and, for clients
that read vLLM's name, `message.reasoning_content`), and only when the request asks for it (or the
server was started with --show-thoughts). System messages reach the agent as instructions;
temperature, top_p and max_tokens set its sampling; usage counts the tokens of its model calls."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import ValidationError

from empllm.agent import AgentTurn, EmpatheticAgent
from empllm.contemplation_text import render_contemplation
from empllm.errors import EmpLLMError, first_problem
from empllm.runtime import Runtime
from empllm.safety.detector import load_detector
from empllm.safety.events import SafetyLog
from empllm.safety.model_check import ModelSafetyCheck
from empllm.serve.openai_shapes import (
    ChatRequest,
    chunk_body,
    completion_body,
    completion_id,
    error_body,
    system_text,
    usage_body,
)
from empllm.types import Turn


@dataclass
class ServeConfig:
    model_name: str  # what /v1/models lists and responses name
    api_key: str | None = None
    show_thoughts: bool = False  # include the contemplation even when a request does not ask
    max_request_bytes: int = 64 * 1024
    max_tokens_limit: int = 512
    default_max_tokens: int = 220
    locale: str | None = None
    safety_log: Path | None = None
    privacy: bool = True  # the safety log keeps no message text
    style: str = "auto"  # the agent's contemplation style (think streams replies token by token)


def _error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
           param: str | None = None) -> JSONResponse:  # fmt: skip
    return JSONResponse(error_body(message, kind, code, param), status_code=status)


def _model_failed(exc: Exception) -> JSONResponse:
    return _error(502, f"the model failed: {exc}", "server_error", "model_error")


def _sse(chunk: dict) -> str:
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


def create_app(runtime: Runtime, config: ServeConfig, safety_model: ModelSafetyCheck | None = None) -> FastAPI:
    app = FastAPI(title="EmpLLM", docs_url=None, redoc_url=None)
    safety_log = SafetyLog(config.safety_log, privacy=config.privacy)
    load_detector()
    page = Path(str(files("empllm.serve").joinpath("static/index.html"))).read_text(encoding="utf-8")

    def unauthorized(request: Request) -> JSONResponse | None:
        if not config.api_key:
            return None
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if hmac.compare_digest(token.encode(), config.api_key.encode()):
            return None
        return _error(401, "missing or wrong API key (send Authorization: Bearer KEY)", "authentication_error",
                      "invalid_api_key")  # fmt: skip

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": config.model_name, "backend": runtime.spec}

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return HTMLResponse(page)

    @app.get("/v1/models")
    async def models(request: Request):
        if (denied := unauthorized(request)) is not None:
            return denied
        return {"object": "list", "data": [{"id": config.model_name, "object": "model", "created": 0,
                                            "owned_by": "empllm"}]}  # fmt: skip

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        if (denied := unauthorized(request)) is not None:
            return denied
        body = await request.body()
        if len(body) > config.max_request_bytes:
            return _error(413, f"request body of {len(body)} bytes exceeds the limit of {config.max_request_bytes}")
        try:
            req = ChatRequest.model_validate(json.loads(body))
        except json.JSONDecodeError as exc:
            return _error(400, f"the request body is not valid JSON ({exc.msg})")
        except ValidationError as exc:
            param, message = first_problem(exc)
            return _error(400, f"{param or 'body'}: {message}", param=param or None)
        max_tokens = req.max_completion_tokens or req.max_tokens or config.default_max_tokens
        if max_tokens > config.max_tokens_limit:
            return _error(400, f"max_tokens {max_tokens} exceeds this server's limit of {config.max_tokens_limit}",
                          param="max_tokens")  # fmt: skip
        conversation = [m for m in req.messages if m.role in ("user", "assistant")]
        if not conversation or conversation[-1].role != "user" or not conversation[-1].text().strip():
            return _error(400, "the last message must be a non-empty user message", param="messages")
        sampling = {k: v for k, v in (("temperature", req.temperature), ("top_p", req.top_p)) if v is not None}
        agent = EmpatheticAgent(runtime, language=req.language, locale=req.locale or config.locale,
                                max_reply_tokens=max_tokens, seed=req.seed or 0, safety_log=safety_log,
                                safety_model=safety_model, style=config.style, system=system_text(req.messages),
                                **sampling)  # fmt: skip
        agent.turns = [Turn(role="client" if m.role == "user" else "psychologist", content=m.text())
                       for m in conversation[:-1]]  # fmt: skip
        include = config.show_thoughts if req.include_reasoning is None else req.include_reasoning
        cid, name = completion_id(), config.model_name

        def with_reasoning(message: dict, turn: AgentTurn) -> dict:
            if include and turn.contemplation:
                thoughts = render_contemplation(turn.contemplation, turn.language)
                message |= {"reasoning": thoughts, "reasoning_content": thoughts}
            return message

        def safety_extra(turn: AgentTurn) -> dict:
            return {"safety": {"crisis": turn.safety.crisis, "categories": turn.safety.categories},
                    "locale": turn.locale, "language": turn.language,
                    "resources": [{"name": r.name, "contact": r.contact} for r in turn.resources]}  # fmt: skip

        if not req.stream:
            try:
                turn = await agent.respond(conversation[-1].text())
            except EmpLLMError as exc:
                return _model_failed(exc)
            message = with_reasoning({"role": "assistant", "content": turn.reply}, turn)
            usage = usage_body(turn.usage.prompt_tokens, turn.usage.completion_tokens)
            return completion_body(cid, name, message, safety_extra(turn), usage)

        # the head (contemplation and verdict) comes before any reply text: a model that fails
        # before it still gets a plain 502, not a broken stream
        stream = agent.stream(conversation[-1].text())
        try:
            _, head = await anext(stream)
        except EmpLLMError as exc:
            return _model_failed(exc)

        async def events():
            yield _sse(chunk_body(cid, name, with_reasoning({"role": "assistant", "content": ""}, head)))
            try:
                async for kind, value in stream:
                    if kind == "delta":
                        yield _sse(chunk_body(cid, name, {"content": value}))
                    elif kind == "turn":
                        yield _sse(chunk_body(cid, name, {}, "stop", safety_extra(value)))
            except EmpLLMError as exc:  # mid-reply: the status is sent, so say it in the stream
                yield _sse(error_body(f"the model failed: {exc}", "server_error", "model_error", None))
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app
