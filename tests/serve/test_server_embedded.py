"""The server on the embedded model: 20 concurrent requests, all answered, none an error."""

import asyncio

import httpx
import pytest

from empllm.runtime import build_runtime
from empllm.settings import Settings

from .server import running_server

pytestmark = pytest.mark.integration


def test_twenty_concurrent_requests_on_the_embedded_model(model_cache_dir):
    runtime = build_runtime("llamacpp:gemma-3-270m", Settings(cache_dir=model_cache_dir, use_cache=False))
    messages = [["I failed my driving test again today.", "en"], ["我最近总是睡不着，压力好大。", "zh"],
                ["My sister won't talk to me since the wedding.", "en"], ["工作上被领导当众批评了。", "zh"]]  # fmt: skip

    async def one(client, i):
        text, lang = messages[i % len(messages)]
        body = {"messages": [{"role": "user", "content": text}], "max_tokens": 40, "language": lang,
                "stream": i % 2 == 1}  # fmt: skip
        res = await client.post("/v1/chat/completions", json=body)
        return res.status_code, res.text

    with running_server(runtime, model_name="gemma") as base:

        async def all_of_them():
            async with httpx.AsyncClient(base_url=base, timeout=600) as client:
                return await asyncio.gather(*(one(client, i) for i in range(20)))

        results = asyncio.run(all_of_them())
    assert [status for status, _ in results] == [200] * 20, [r for r in results if r[0] != 200][:2]
    assert all("error" not in text[:20] for _, text in results)
    assert all(text.rstrip().endswith("data: [DONE]") for i, (_, text) in enumerate(results) if i % 2 == 1)
