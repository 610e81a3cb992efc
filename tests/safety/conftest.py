"""The Gemma crisis reader, loaded once per test session from the shared model cache."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def gemma_reader(embedded_gguf, model_cache_dir):
    from empllm.backends.hf import dequantized_checkpoint
    from empllm.safety.reader import CrisisReader

    return CrisisReader(checkpoint=dequantized_checkpoint(embedded_gguf, model_cache_dir))


@pytest.fixture
def reader_on(monkeypatch, gemma_reader):
    """The detector as it serves by default: rules, then the n-gram classifier and the Gemma reader."""
    from empllm.safety import reader

    monkeypatch.setattr(reader, "crisis_reader", lambda: gemma_reader)
    return gemma_reader
