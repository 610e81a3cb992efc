"""Unit tests of the openai: backend over a mocked HTTP transport (the real server: test_openai_server)."""

import json

import httpx
import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.openai_compat import OpenAIBackend, redact_url
from empllm.errors import BackendError, CapabilityError
from empllm.types import Message


def backend_with(handler) -> OpenAIBackend:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OpenAIBackend("openai:m", "m", base_url="http://mock/v1", http_client=client)


def completion(text, offsets, logprobs):
    return {
        "id": "x", "object": "text_completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "text": text, "finish_reason": "length",
                     "logprobs": {"tokens": ["t"] * len(offsets), "token_logprobs": logprobs,
                                  "text_offset": offsets, "top_logprobs": None}}],
    }  # fmt: skip


async def test_echo_logprobs_sum_the_continuation_tokens_only():
    seen = {}

    def handler(request):
        body = json.loads(request.content)
        seen.update(body)
        # prompt "I feel" + " sad": tokens at 0 ("I"), 1 (" feel"), 6 (" sad"), then a generated token at 10
        return httpx.Response(200, json=completion("I feel sad.", [0, 1, 6, 10], [None, -2.0, -1.5, -0.1]))

    b = backend_with(handler)
    assert await b.loglikelihood("I feel", [" sad"]) == [-1.5]
    assert seen["echo"] is True and seen["logprobs"] == 1 and seen["max_tokens"] == 1
    assert b.capabilities.prompt_logprobs is True


async def test_server_without_echo_says_it_cannot_score():
    # llama.cpp's C++ server: logprobs of generated tokens only
    b = backend_with(lambda request: httpx.Response(200, json=completion(".", [10], [-0.3])))
    with pytest.raises(CapabilityError, match="did not echo"):
        await b.loglikelihood("I feel", [" sad"])
    assert b.capabilities.prompt_logprobs is False and "echo" in b.capabilities.why_no_logprobs
    with pytest.raises(CapabilityError):  # remembered: no second request needed
        await b.loglikelihood("I feel", [" sad"])


async def test_chat_only_api_refusing_echo_says_it_cannot_score():
    def handler(request):
        return httpx.Response(400, json={"error": {"message": "echo is not supported with this model"}})

    with pytest.raises(CapabilityError, match="refused echo"):
        await backend_with(handler).loglikelihood("ctx", [" x"])


@pytest.mark.parametrize("status,retryable", [(500, True), (503, True), (429, True), (408, True), (401, False)])
async def test_status_codes_are_classified(status, retryable):
    b = backend_with(lambda request: httpx.Response(status, json={"error": {"message": "nope"}}))
    with pytest.raises(BackendError) as info:
        await b.chat([Message(role="user", content="hi")], GenerationSettings())
    assert info.value.retryable is retryable and f"HTTP {status}" in str(info.value)


async def test_stop_sequences_capped_at_four_and_seed_passed():
    seen = {}

    def handler(request):
        seen.update(json.loads(request.content))
        return httpx.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        })  # fmt: skip

    gen = GenerationSettings(stop=("a", "b", "c", "d", "e"), seed=3)
    done = await backend_with(handler).chat([Message(role="user", content="hi")], gen)
    assert done.text == "ok" and done.usage.prompt_tokens == 3
    assert seen["stop"] == ["a", "b", "c", "d"] and seen["seed"] == 3


def test_redact_url_drops_credentials():
    assert redact_url("https://u:secret@host:8443/v1") == "https://host:8443/v1"


def chat_response(content, **message_extra):
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, **message_extra}}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}  # fmt: skip


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
async def test_reasoning_beside_the_answer_is_kept(key):
    b = backend_with(
        lambda request: httpx.Response(200, json=chat_response("Tell me more.", **{key: "sad; needs rest"}))
    )
    done = await b.chat([Message(role="user", content="hi")], GenerationSettings())
    assert (done.text, done.reasoning) == ("Tell me more.", "sad; needs rest")
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (7, 3)


async def test_streamed_reasoning_arrives_inside_think_tags():
    def chunk(**delta):
        return (
            "data: "
            + json.dumps(
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
            )
            + "\n\n"
        )

    body = (chunk(role="assistant", content="") + chunk(reasoning_content="sad") + chunk(reasoning_content="; rest")
            + chunk(content="Tell me") + chunk(content=" more.") + "data: [DONE]\n\n")  # fmt: skip
    b = backend_with(lambda request: httpx.Response(200, text=body, headers={"content-type": "text/event-stream"}))
    pieces = [p async for p in b.stream_chat([Message(role="user", content="hi")], GenerationSettings())]
    assert "".join(pieces) == "<think>sad; rest</think>Tell me more."


async def test_json_schema_goes_out_as_response_format():
    seen = []

    def handler(request):
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=chat_response('{"a": 1}'))

    b = backend_with(handler)
    schema = json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}})
    await b.chat([Message(role="user", content="hi")], GenerationSettings(json_schema=schema))
    await b.chat([Message(role="user", content="hi")], GenerationSettings())
    assert seen[0]["response_format"]["type"] == "json_schema"
    assert seen[0]["response_format"]["json_schema"]["schema"] == json.loads(schema)
    assert "response_format" not in seen[1]


async def test_llama_cpp_python_servers_get_their_json_object_dialect():
    seen = []

    def handler(request):
        fmt = json.loads(request.content).get("response_format")
        seen.append(fmt and fmt["type"])
        if fmt and fmt["type"] == "json_schema":  # llama-cpp-python's server: a 500 naming the field
            message = "1 validation error:\n  {'loc': ('body', 'response_format', 'type'), 'msg': 'Input should be'}"
            return httpx.Response(500, json={"error": {"message": message}})
        return httpx.Response(200, json=chat_response('{"a": 1}'))

    b = backend_with(handler)
    gen = GenerationSettings(json_schema='{"type": "object"}')
    for _ in range(2):
        assert (await b.chat([Message(role="user", content="hi")], gen)).text == '{"a": 1}'
    assert seen == ["json_schema", "json_object", "json_object"] and b.capabilities.structured_output is True


async def test_a_server_refusing_both_dialects_is_asked_without_structured_output():
    seen = []

    def handler(request):
        body = json.loads(request.content)
        seen.append("response_format" in body)
        if "response_format" in body:
            return httpx.Response(400, json={"error": {"message": "response_format is not supported"}})
        return httpx.Response(200, json=chat_response('{"a": 1}'))

    b = backend_with(handler)
    gen = GenerationSettings(json_schema='{"type": "object"}')
    assert (await b.chat([Message(role="user", content="hi")], gen)).text == '{"a": 1}'
    assert b.capabilities.structured_output is False
    await b.chat([Message(role="user", content="hi")], gen)
    assert seen == [True, True, False, False]  # each dialect refused once, then never sent again


async def test_other_bad_requests_are_not_retried_without_response_format():
    b = backend_with(lambda request: httpx.Response(400, json={"error": {"message": "context too long"}}))
    with pytest.raises(BackendError, match="context too long"):
        await b.chat([Message(role="user", content="hi")], GenerationSettings())


async def test_concurrent_refusals_move_on_by_one_dialect_only():
    import asyncio

    seen = []

    async def handler(request):
        fmt = json.loads(request.content).get("response_format")
        seen.append(fmt and fmt["type"])
        await asyncio.sleep(0.05)  # both requests are in flight before either refusal comes back
        if fmt and fmt["type"] == "json_schema":
            return httpx.Response(422, json={"detail": "response_format: Input should be 'text' or 'json_object'"})
        return httpx.Response(200, json=chat_response('{"a": 1}'))

    b = backend_with(handler)
    gen = GenerationSettings(json_schema='{"type": "object"}')
    await asyncio.gather(*(b.chat([Message(role="user", content="hi")], gen) for _ in range(2)))
    assert seen == ["json_schema", "json_schema", "json_object", "json_object"]
    assert b.capabilities.structured_output is True
