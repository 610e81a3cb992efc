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
