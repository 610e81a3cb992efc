"""The openai: backend against a real OpenAI-compatible server on loopback.

`python -m llama_cpp.server` serves the embedded GGUF; a small proxy in front of it injects
500s, and a silent socket stands in for a server that hangs.
"""

import asyncio
import http.server
import socket
import threading
import time
import urllib.request

import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.llama_server import free_port
from empllm.backends.openai_compat import OpenAIBackend
from empllm.errors import BackendError
from empllm.runtime import Runtime
from empllm.types import Message

pytestmark = pytest.mark.integration
GREEDY = GenerationSettings(max_tokens=16, temperature=0.0)
MSGS = [Message(role="user", content="I could not sleep last night.")]


@pytest.fixture(scope="module")
def server_url(embedded_gguf, tmp_path_factory):
    from empllm.backends.llama_server import serve_gguf

    log = tmp_path_factory.mktemp("server") / "server.log"
    with serve_gguf(embedded_gguf, log, n_ctx=2048, extra=("--logits_all", "True", "--chat_format", "gemma")) as url:
        yield url


def backend(url, timeout_s=60.0):
    return OpenAIBackend("openai:gemma", "gemma", base_url=url, timeout_s=timeout_s)


async def test_chat_and_streaming(server_url):
    b = backend(server_url)
    done = await b.chat(MSGS, GREEDY)
    assert done.text.strip() and done.usage.completion_tokens > 0
    # (no equality with the non-streamed text: the server reuses KV cache across requests, which
    # can flip a greedy choice between near-equal tokens)
    pieces = [p async for p in b.stream_chat(MSGS, GREEDY)]
    assert len(pieces) > 1 and "".join(pieces).strip()
    await b.aclose()


async def test_completion_and_echo_logprobs_match_in_process_scores(server_url, embedded_gguf):
    from empllm.backends.llamacpp import LlamaCppBackend

    b = backend(server_url)
    remote = await b.complete("The capital of France is", GREEDY)
    assert remote.text.strip() and remote.usage.prompt_tokens > 0
    local = LlamaCppBackend("llamacpp:x", embedded_gguf, n_ctx=2048)
    # echo + logprobs through /v1/completions agree with in-process scoring
    remote_scores = await b.loglikelihood("The capital of France is", [" Paris", " banana"])
    local_scores = await local.loglikelihood("The capital of France is", [" Paris", " banana"])
    assert b.capabilities.prompt_logprobs is True
    assert remote_scores == pytest.approx(local_scores, abs=0.1)
    assert remote_scores[0] > remote_scores[1]
    await local.aclose()
    await b.aclose()


async def test_chinese_continuation_offsets(server_url):
    b = backend(server_url)
    good, bad = await b.loglikelihood("中国的首都是", ["北京", "香蕉"])
    assert good > bad
    await b.aclose()


async def test_server_down_is_a_clear_retryable_error():
    b = backend(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(BackendError, match="cannot connect") as info:
        await b.chat(MSGS, GREEDY)
    assert info.value.retryable
    rt = Runtime(b, retries=1, retry_wait_s=(0.01, 0.02))
    with pytest.raises(BackendError, match="gave up after 2 attempts"):
        await rt.chat(MSGS, GREEDY)


class FlakyProxy(http.server.ThreadingHTTPServer):
    """Answers the first `failures` requests with HTTP 500, then forwards to the real server."""

    def __init__(self, upstream: str, failures: int):
        self.upstream, self.failures, self.seen = upstream, failures, 0
        super().__init__(("127.0.0.1", 0), FlakyHandler)


class FlakyHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen += 1
        if self.server.seen <= self.server.failures:
            payload = b'{"error": {"message": "injected failure", "type": "server_error"}}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        upstream = self.server.upstream + self.path.removeprefix("/v1")
        req = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            data = resp.read()
            self.send_response(resp.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


@pytest.fixture
def flaky_proxy(server_url):
    proxy = FlakyProxy(server_url, failures=2)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()


async def test_500s_then_recovery_is_retried(flaky_proxy):
    url = f"http://127.0.0.1:{flaky_proxy.server_address[1]}/v1"
    b = backend(url)
    with pytest.raises(BackendError, match="HTTP 500") as info:
        await b.complete("Hello", GREEDY)  # the backend alone does not retry
    assert info.value.retryable
    rt = Runtime(b, retries=3, retry_wait_s=(0.01, 0.05))
    done = await rt.complete("Hello", GREEDY)
    assert done.text and rt.usage.retries == 1 and flaky_proxy.seen == 3
    await b.aclose()


@pytest.fixture
def silent_server():
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    sock.close()


async def test_timeout_is_a_clear_retryable_error(silent_server):
    b = backend(silent_server, timeout_s=0.5)
    start = time.perf_counter()
    with pytest.raises(BackendError, match="timed out") as info:
        await asyncio.wait_for(b.chat(MSGS, GREEDY), timeout=20)
    assert info.value.retryable and time.perf_counter() - start < 10
    await b.aclose()


def test_models_probe_reports_a_configured_server(server_url):
    from empllm.backends.registry import describe_backends
    from empllm.settings import Settings

    row = next(r for r in describe_backends(Settings(base_url=server_url)) if r.kind == "openai")
    assert row.usable and "serves" in row.why
    down = f"http://127.0.0.1:{free_port()}/v1"
    row = next(r for r in describe_backends(Settings(base_url=down)) if r.kind == "openai")
    assert not row.usable and "did not answer" in row.why
