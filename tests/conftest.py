"""Shared fixtures. Integration tests use the real embedded model; they are marked `integration`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from empllm.settings import Settings

# One cache for the whole test session: the embedded GGUF is assembled (and for hf: dequantized)
# once. CI points EMPLLM_TEST_CACHE somewhere persistent across steps.
TEST_CACHE = Path(os.environ.get("EMPLLM_TEST_CACHE", Path(__file__).resolve().parents[1] / ".empllm-cache"))


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
