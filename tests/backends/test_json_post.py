"""The OpenAI-compatible backend's non-streaming path over aiohttp (backends/json_post.py), against a
real HTTP server on loopback: what goes out, what comes back, and how each failure reads."""

import asyncio
import json

import pytest
from aiohttp import web

from empllm.backends.base import GenerationSettings
from empllm.backends.openai_compat import OpenAIBackend
from empllm.errors import BackendError
from empllm.types import Message


async def serving(handler):
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/v1"


async def ask(handler, **backend_args):
    runner, url = await serving(handler)
    backend = OpenAIBackend("openai:m", "m", base_url=url, api_key="sk-test", **backend_args)
    try:
        return await backend.chat([Message(role="user", content="hello")], GenerationSettings(max_tokens=5, seed=3))
    finally:
        await backend.aclose()
        assert backend._poster._session is None
        await runner.cleanup()


def answer(content="Hi there.", **message):
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message},
                         "finish_reason": "stop"}], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}  # fmt: skip


def test_a_chat_call_goes_out_as_json_and_comes_back_with_usage_and_reasoning():
    seen = {}

    async def handler(request):
        seen["body"] = await request.json()
        seen["auth"] = request.headers.get("Authorization")
        return web.json_response(answer(reasoning_content="They greeted me."))

    done = asyncio.run(ask(handler))
    assert done.text == "Hi there." and done.reasoning == "They greeted me." and done.finish_reason == "stop"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (7, 3)
    assert seen["auth"] == "Bearer sk-test"
    assert seen["body"]["model"] == "m" and seen["body"]["seed"] == 3 and seen["body"]["max_tokens"] == 5
    assert seen["body"]["messages"] == [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize("status,retryable", [(429, True), (503, True), (400, False), (404, False)])
def test_status_codes_read_as_one_clear_error(status, retryable):
    async def handler(request):
        return web.json_response({"error": {"message": f"nope {status}\nsecond line"}}, status=status)

    with pytest.raises(BackendError) as info:
        asyncio.run(ask(handler))
    assert f"HTTP {status}: nope {status}" in str(info.value) and "second line" not in str(info.value)
    assert info.value.retryable is retryable and info.value.status == status


def test_a_plain_text_error_page_and_a_non_json_answer():
    async def page(request):
        return web.Response(text="Bad Gateway\n<html>", status=502)

    with pytest.raises(BackendError, match="HTTP 502: Bad Gateway") as info:
        asyncio.run(ask(page))
    assert info.value.retryable

    async def garbage(request):
        return web.Response(text="<html>not json</html>", status=200)

    with pytest.raises(BackendError, match="not a JSON object") as info:
        asyncio.run(ask(garbage))
    assert info.value.retryable


def test_a_server_that_never_answers_times_out():
    async def silent(request):
        await asyncio.sleep(5)
        return web.json_response(answer())

    with pytest.raises(BackendError, match="timed out") as info:
        asyncio.run(ask(silent, timeout_s=0.3))
    assert info.value.retryable


def test_json_body_is_not_lost_when_the_server_refuses_response_format():
    bodies = []

    async def handler(request):
        body = await request.json()
        bodies.append(body)
        if "response_format" in body:
            return web.json_response({"error": {"message": "response_format is not supported"}}, status=400)
        return web.json_response(answer(json.dumps({"ok": True})))

    async def run():
        runner, url = await serving(handler)
        backend = OpenAIBackend("openai:m", "m", base_url=url)
        try:
            gen = GenerationSettings(max_tokens=5, json_schema=json.dumps({"type": "object"}))
            return await backend.chat([Message(role="user", content="hi")], gen)
        finally:
            await backend.aclose()
            await runner.cleanup()

    assert json.loads(asyncio.run(run()).text) == {"ok": True}
    assert [b.get("response_format", {}).get("type") for b in bodies] == ["json_schema", "json_object", None]
