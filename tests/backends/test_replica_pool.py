"""One model on several servers: requests go to the least busy one, a failing server leaves the
rotation for a backoff and comes back, and a simulation survives a replica killed mid-run."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from empllm.backends.base import Completion
from empllm.backends.endpoints import resolve_endpoint, split_inline
from empllm.backends.replica_pool import ReplicaPool
from empllm.errors import BackendError, SpecError

ROOT = Path(__file__).resolve().parents[2]
EMPLLM = str(Path(sys.executable).parent / "empllm")


class FakeServer:
    def __init__(self, name, delay=0.0):
        self.name, self.delay, self.calls, self.fail = name, delay, 0, None
        self.public_base_url = f"http://{name}/v1"

    async def chat(self, messages, gen):
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return Completion(text=self.name)

    async def aclose(self):
        pass


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


async def test_requests_go_to_the_server_with_fewest_in_flight():
    servers = [FakeServer(n, delay=0.05) for n in "abc"]
    pool = ReplicaPool("openai:m", servers)
    answers = await asyncio.gather(*(pool.chat([], None) for _ in range(9)))
    assert sorted(a.text for a in answers) == list("aaabbbccc")  # nine at once: three each
    assert pool.served == [3, 3, 3] and pool.in_flight == [0, 0, 0]


async def test_a_failing_server_leaves_the_rotation_and_comes_back_after_its_backoff():
    clock = Clock()
    servers = [FakeServer("a"), FakeServer("b")]
    pool = ReplicaPool("openai:m", servers, backoff_s=(1.0, 8.0), clock=clock)
    servers[0].fail = BackendError("a: cannot connect to the server", retryable=True)
    assert [(await pool.chat([], None)).text for _ in range(4)] == ["b"] * 4  # failed over at once
    assert servers[0].calls == 1  # tried once, then left alone during its backoff
    clock.now = 1.5  # backoff over: tried again, fails again, backoff doubles
    assert (await pool.chat([], None)).text == "b" and servers[0].calls == 2
    clock.now = 3.0  # within the doubled backoff (until 3.5)
    await pool.chat([], None)
    assert servers[0].calls == 2
    servers[0].fail, clock.now = None, 4.0  # recovered
    texts = [(await pool.chat([], None)).text for _ in range(4)]
    assert "a" in texts and servers[0].calls >= 3


async def test_a_request_error_is_not_retried_elsewhere_and_a_full_outage_is_retryable():
    servers = [FakeServer("a"), FakeServer("b")]
    pool = ReplicaPool("openai:m", servers)
    servers[0].fail = servers[1].fail = BackendError("HTTP 400: bad request", retryable=False, status=400)
    with pytest.raises(BackendError, match="400"):
        await pool.chat([], None)
    assert servers[0].calls + servers[1].calls == 1
    servers[0].fail = servers[1].fail = BackendError("HTTP 503: overloaded", retryable=True, status=503)
    with pytest.raises(BackendError, match="none of its 2 servers answered") as info:
        await pool.chat([], None)
    assert info.value.retryable


def test_specs_and_models_files_name_several_servers(tmp_path):
    assert split_inline("m@http://a:1/v1,http://b:2/v1") == ("m", ["http://a:1/v1", "http://b:2/v1"])
    with pytest.raises(SpecError, match="credentials"):
        split_inline("m@http://a:1/v1,http://u:p@b:2/v1")
    models = tmp_path / "models.yaml"
    models.write_text("endpoints:\n  fleet:\n    model: m\n    base_urls: [http://a:1/v1, http://b:2/v1]\n")
    name, endpoint = resolve_endpoint("fleet", models, None)
    assert name == "m" and endpoint.urls() == ["http://a:1/v1", "http://b:2/v1"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _requests(port: int) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/stats", timeout=2).json()["requests"]


@pytest.fixture
def three_stub_servers():
    ports = [_free_port() for _ in range(3)]
    procs = [subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "stub_openai_server.py"), "--port", str(p),
                               "--latency-ms", "250"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in ports]  # fmt: skip
    deadline = time.monotonic() + 60
    for port in ports:
        while True:
            try:
                _requests(port)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "stub server did not start"
                time.sleep(0.2)
    yield ports, procs
    for proc in procs:
        proc.kill()
        proc.wait()


def test_a_simulation_finishes_when_one_of_three_servers_dies_mid_run(three_stub_servers, tmp_path):
    ports, procs = three_stub_servers
    models = tmp_path / "models.yaml"
    urls = ", ".join(f"http://127.0.0.1:{p}/v1" for p in ports)
    models.write_text(f"endpoints:\n  fleet:\n    model: stub\n    base_urls: [{urls}]\n")
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.Popen([EMPLLM, "--models-file", str(models), "simulate", "--model", "openai:fleet", "-n", "16",
                            "--language", "en", "--concurrency", "8", "--min-turns", "3", "--max-turns", "3",
                            "--no-checks", "--out", str(tmp_path / "sim"), "--quiet"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while _requests(ports[0]) < 5:
        assert run.poll() is None and time.monotonic() < deadline, "the run ended before the server was killed"
        time.sleep(0.1)
    procs[0].kill()  # mid-run
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err[-2000:]
    sessions = [json.loads(line) for line in (tmp_path / "sim" / "sessions.jsonl").read_text().splitlines()]
    assert len(sessions) == 16 and all(s["outcome"] != "error" for s in sessions), [s["errors"] for s in sessions]
    assert all(_requests(port) >= 10 for port in ports[1:])  # the survivors shared the rest
