"""A stub OpenAI-compatible server with a fixed latency, for orchestration benchmarks.

It answers /v1/chat/completions after sleeping `--latency-ms`, with valid EmpLLM answers: a plan,
a psychologist turn, or a client turn (never ending the session), chosen from the system prompt.

    python benchmarks/stub_openai_server.py --port 8765 --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import uvicorn
from fastapi import FastAPI, Request

PLAN = json.dumps({"goals": ["Understand the situation", "Explore support"]})
PSYCH = json.dumps({
    "contemplation": {"emotion": "anxiety", "intensity": 6, "cause": "stub", "appraisal": "stub", "unmet_need": "stub",
                      "risk_level": "none", "strategy": "question", "rationale": "stub"},
    "reply": "What has that been like for you?",
})  # fmt: skip
CLIENT = json.dumps({"state": {"emotion_intensity": 5, "trust": 4, "reaction": "ok", "disclosed": []},
                     "message": "It has been hard.", "end_session": False})  # fmt: skip


def make_app(latency_s: float) -> FastAPI:
    app = FastAPI()
    stats = {"requests": 0}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": "stub", "object": "model"}]}

    @app.get("/stats")
    async def get_stats():
        return stats

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        stats["requests"] += 1
        await asyncio.sleep(latency_s)
        system = body["messages"][0]["content"]
        last = body["messages"][-1]["content"]
        # the JSON keys each prompt asks for are the same in English and Chinese
        text = PLAN if '"goals"' in last else CLIENT if '"end_session"' in system else PSYCH
        return {
            "id": "stub", "object": "chat.completion", "created": int(time.time()), "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140},
        }  # fmt: skip

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=100)
    args = parser.parse_args()
    uvicorn.run(make_app(args.latency_ms / 1000), host="127.0.0.1", port=args.port, log_level="warning")
