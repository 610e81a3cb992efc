"""The README's main job, for real: the embedded model through the installed `empllm` command."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
EMPLLM = str(Path(sys.executable).parent / "empllm")


def run(*args, cache_dir, stdin=None):
    # Offline: nothing may come from a model hub.
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([EMPLLM, *args], capture_output=True, text=True, input=stdin, env=env, timeout=300)


def test_models_shows_embedded_usable(model_cache_dir):
    out = run("models", cache_dir=model_cache_dir)
    assert out.returncode == 0
    row = next(line for line in out.stdout.splitlines() if "llamacpp:gemma-3-270m" in line)
    assert "yes" in row


def test_generate_prints_a_continuation_and_second_call_is_cached(model_cache_dir, tmp_path):
    # a private completion cache, shared model files
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    for f in (model_cache_dir / "models").glob("gemma-3-270m-q4_k_m.gguf*"):
        (cache / "models" / f.name).symlink_to(f)
    args = ("generate", "--model", "llamacpp:gemma-3-270m", "--temperature", "0", "--max-tokens", "20", "Hello")
    first = run(*args, cache_dir=cache)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Hello") and len(first.stdout.strip()) > len("Hello")
    assert "0 cached" in first.stderr and "tok/s" in first.stderr
    second = run(*args, cache_dir=cache)
    assert second.stdout == first.stdout and "1 cached" in second.stderr


def test_chat_streams_on_the_embedded_model(model_cache_dir):
    out = run("chat", "--max-tokens", "120", "--temperature", "0", cache_dir=model_cache_dir,
              stdin="My exams are next week and I can't focus.\n/quit\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    reply = out.stdout.split("assistant>", 1)[1].strip()
    assert reply and "User:" not in reply
    assert "empathetic agent (transcript)" in out.stderr  # a base model: few-shot counseling transcripts
