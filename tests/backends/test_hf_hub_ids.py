"""`hf:ORG/NAME` resolves a hub id through the Hugging Face cache: offline it loads what the cache
holds, and a model the cache lacks is a one-line error, not a traceback or a download attempt."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
EMPLLM = str(Path(sys.executable).parent / "empllm")
REVISION = "0123456789abcdef0123456789abcdef01234567"


def run(*args, cache_dir, hf_home):
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(cache_dir), "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    return subprocess.run([EMPLLM, *args], capture_output=True, text=True, env=env, timeout=300)


def test_a_hub_id_missing_from_the_cache_is_one_clear_line(model_cache_dir, tmp_path):
    out = run("generate", "--chat", "--model", "hf:someone/not-cached-anywhere", "hello",
              cache_dir=model_cache_dir, hf_home=tmp_path / "hf")  # fmt: skip
    assert out.returncode != 0
    assert "not in the Hugging Face cache" in out.stderr and "HF_HUB_OFFLINE" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_cached_hub_id_loads_offline_with_its_chat_template(model_cache_dir, tmp_path):
    pytest.importorskip("transformers")
    from empllm.backends.embedded import embedded_gguf_path
    from empllm.backends.hf import dequantized_checkpoint

    checkpoint = dequantized_checkpoint(embedded_gguf_path(model_cache_dir, "smollm2-135m-instruct"), model_cache_dir)
    repo = tmp_path / "hf" / "hub" / "models--empllm-test--smollm2-instruct"  # the cache's own layout
    shutil.copytree(checkpoint, repo / "snapshots" / REVISION)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    out = run("generate", "--chat", "--temperature", "0", "--max-tokens", "12", "--model", "hf:empllm-test/smollm2-instruct",
              "What is the capital of France? Answer with one word.", cache_dir=model_cache_dir,
              hf_home=tmp_path / "hf")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "paris" in out.stdout.lower()
