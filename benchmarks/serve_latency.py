"""`empllm serve` throughput and latency over real HTTP, with the scripted backend (the framework's
own overhead: agent, safety check, FastAPI, JSON) and with the embedded model.

Each run starts the server in-process on a free port, sends N chat requests from C concurrent
clients (httpx, non-streaming), and reports requests/s and p50/p99 latency.

    python benchmarks/serve_latency.py [--scripted-requests 400] [--embedded-requests 12] [--messages heldout14]

With --messages heldout14 the requests cycle through a labelled safety set (400 messages, half of
them crises), so the crisis detector, its Gemma reader included, works as on real traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from empllm.runtime import build_runtime  # noqa: E402
from empllm.settings import Settings  # noqa: E402
from tests.serve.server import running_server  # noqa: E402

NOTES = {"emotion": "anxiety", "intensity": 6, "cause": "exams", "appraisal": "I will fail", "unmet_need": "calm",
         "risk_level": "none", "strategy": "question", "rationale": "understand first"}  # fmt: skip
MESSAGES = ["My exams start on Monday and I can't sleep.", "我最近工作压力很大，总是失眠。",
            "My best friend stopped replying to my messages.", "爸妈一直催我结婚，我很烦。"]  # fmt: skip


async def load(base: str, requests: int, concurrency: int, max_tokens: int, messages: list[str] = MESSAGES) -> dict:
    latencies: list[float] = []
    errors = 0
    queue = list(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while queue:
            i = queue.pop()
            body = {"messages": [{"role": "user", "content": messages[i % len(messages)]}], "max_tokens": max_tokens}
            start = time.perf_counter()
            res = await client.post("/v1/chat/completions", json=body)
            latencies.append(time.perf_counter() - start)
            errors += res.status_code != 200

    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    latencies.sort()
    return {"requests": requests, "concurrency": concurrency, "errors": errors,
            "requests_per_s": round(requests / wall, 2),
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)}  # fmt: skip


def run(runtime, requests: int, concurrency: int, max_tokens: int, messages: list[str] = MESSAGES) -> dict:
    with running_server(runtime) as base:
        asyncio.run(load(base, min(4, requests), 1, max_tokens))  # warm-up: model load, first imports
        return asyncio.run(load(base, requests, concurrency, max_tokens, messages))


def labelled_set(name: str) -> list[str]:
    """Every message of a labelled safety set, both languages: the crisis detector's real load."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from safety_detection import load as load_set

    return [row["text"] for lang in ("en", "zh") for row in load_set(name, lang)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scripted-requests", type=int, default=400)
    parser.add_argument("--embedded-requests", type=int, default=12)
    parser.add_argument("--messages", default="builtin",
                        help="builtin (4 everyday messages) or a labelled safety set, e.g. heldout14")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "serve.json")
    args = parser.parse_args()
    messages = MESSAGES if args.messages == "builtin" else labelled_set(args.messages)
    result = {"benchmark": "serve_latency", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
              "messages": args.messages}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "model.json"
        script.write_text(json.dumps({"default": json.dumps({"contemplation": NOTES, "reply": "That sounds hard."})}))
        scripted = build_runtime(f"scripted:{script}", Settings(cache_dir=Path(tmp), use_cache=False))
        result["scripted"] = {c: run(scripted, args.scripted_requests, c, 64, messages) for c in (1, 16)}
        print(json.dumps(result["scripted"], indent=2), flush=True)
    if args.embedded_requests:
        embedded = build_runtime("llamacpp:gemma-3-270m", Settings(use_cache=False))
        result["embedded"] = {c: run(embedded, args.embedded_requests, c, 64, messages) for c in (1, 4)}
        print(json.dumps(result["embedded"], indent=2), flush=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
