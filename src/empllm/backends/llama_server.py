"""A GGUF served over HTTP by `python -m llama_cpp.server` on loopback: an OpenAI-compatible server
for trying the real-user path (a model on its own server) on one machine, in the tests, the
benchmarks and the README's recipe. For real scale use vLLM or llama.cpp's own server instead."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from empllm.errors import BackendUnavailable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.is_file() else []
            raise BackendUnavailable(f"llama_cpp.server exited with {proc.returncode}: {' '.join(tail)}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise BackendUnavailable(f"llama_cpp.server did not answer at {url} within {timeout_s:.0f}s (log: {log})")


@contextmanager
def serve_gguf(gguf: Path, log: Path, *, n_ctx: int = 4096, extra: tuple[str, ...] = (),
               timeout_s: float = 180) -> Iterator[str]:  # fmt: skip
    """Yield the server's base URL (http://127.0.0.1:PORT/v1) while it runs; stop it afterwards.
    The chat template is the GGUF's own, as a user's server would apply it."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(os.cpu_count() or 1),
               "--verbose", "False", *extra]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
        url = f"http://127.0.0.1:{port}/v1"
        try:
            _wait_until_up(url, proc, log, timeout_s)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
