"""Shared fixtures. Integration tests use the real embedded model; they are marked `integration`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from empllm.settings import Settings

# One cache for the whole test session: the embedded GGUF is assembled (and for hf: dequantized)
# once. CI points EMPLLM_TEST_CACHE somewhere persistent across steps.
TEST_CACHE = Path(os.environ.get("EMPLLM_TEST_CACHE", Path(__file__).resolve().parents[1] / ".empllm-cache"))

# The crisis detector's Gemma reader needs the dequantized embedded model in the cache directory, and
# many tests run the CLI with a fresh cache each: it would be dequantized again every time. The suite
# runs the n-gram detector unless a test asks for the reader (the `reader_on` fixture below).
os.environ.setdefault("EMPLLM_SAFETY_READER", "false")


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    TEST_CACHE.mkdir(parents=True, exist_ok=True)
    return TEST_CACHE


@pytest.fixture
def settings(tmp_path: Path, model_cache_dir: Path) -> Settings:
    """Settings whose completion cache is per test but whose model files are shared."""
    return Settings(cache_dir=model_cache_dir, use_cache=False, retries=2)


@pytest.fixture
def write_script(tmp_path: Path):
    def write(text: str, name: str = "script.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def embedded_gguf(model_cache_dir: Path) -> Path:
    from empllm.backends.embedded import embedded_gguf_path

    return embedded_gguf_path(model_cache_dir)


@pytest.fixture(scope="session")
def sft_run(tmp_path_factory, model_cache_dir: Path):
    """One real (tiny) LoRA run on the embedded Gemma 270M through `empllm train` (6 steps, about a
    minute on 2 cores), shared by every test that needs a trained adapter: (root, args, env), the
    adapter in root / "adapter", its data in root / "data"."""
    import subprocess
    import sys

    from empllm.export import export_dataset

    from .curate.sessions import make_session

    root = tmp_path_factory.mktemp("sft")
    sessions = [make_session(sid=f"en{i}", persona_id=f"p-en-{i}") for i in range(4)]
    sessions += [make_session(lang="zh", sid=f"zh{i}", persona_id=f"p-zh-{i}") for i in range(4)]
    (root / "cur").mkdir()
    (root / "cur" / "sessions.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in sessions))
    export_dataset(root / "cur", root / "data", fmt="openai", mode="think", validation=0.25)
    empllm = str(Path(sys.executable).parent / "empllm")
    args = [empllm, "train", str(root / "data"), "--out", str(root / "adapter"), "--max-steps", "6", "--batch-size",
            "2", "--learning-rate", "1e-3", "--max-length", "256", "--quiet"]  # fmt: skip
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return root, args, env


@pytest.fixture(scope="session")
def gemma_reader(embedded_gguf, model_cache_dir):
    """The crisis detector's Gemma reader, loaded once per session from the shared model cache."""
    from empllm.backends.hf import dequantized_checkpoint
    from empllm.safety.reader import CrisisReader

    return CrisisReader(checkpoint=dequantized_checkpoint(embedded_gguf, model_cache_dir))


@pytest.fixture
def reader_on(monkeypatch, gemma_reader):
    """The detector as it serves by default: rules, then the n-gram classifier and the Gemma reader."""
    from empllm.safety import reader

    monkeypatch.setattr(reader, "crisis_reader", lambda: gemma_reader)
    return gemma_reader
