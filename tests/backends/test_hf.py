"""hf: on the embedded GGUF (dequantized once) — and its agreement with llama.cpp's scores.

The two backends run the same weights through different arithmetic: llama.cpp multiplies the
Q4_K_M blocks with 8-bit activations, transformers the float32 dequantized copy. Measured on
these pairs (2026-11-25, AVX-512 build): at most 0.60 nats apart per continuation, 0.20 on
average. The test allows 1.0 per continuation and 0.3 on average, and requires the same ranking
wherever llama.cpp puts two options more than 1 nat apart.
"""

import asyncio

import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.registry import create_backend
from empllm.settings import Settings
from empllm.types import Message

pytestmark = pytest.mark.integration

PAIRS = [
    ("The capital of France is", [" Paris", " banana", " a city of light"]),
    ("After her dog died, Maya stayed in bed all weekend. She felt", [" grief", " joy", " empty and tired"]),
    ("我考试没考好，心里很", ["难过", "开心", "失落，不想见人"]),
    ("User: I lost my job today.\nAssistant:", [" I'm so sorry. That sounds really hard.", " Great news!"]),
    ("他的朋友搬去了很远的城市。他觉得", ["孤单", "兴奋"]),
]
PER_ITEM_TOL = 1.0
MEAN_TOL = 0.3


@pytest.fixture(scope="module")
def backends(model_cache_dir):
    settings = Settings(cache_dir=model_cache_dir, n_ctx=2048)
    llama = create_backend("llamacpp:gemma-3-270m", settings)
    hf = create_backend("hf:gemma-3-270m", settings)
    yield llama, hf
    asyncio.run(llama.aclose())


async def test_hf_scores_match_llamacpp_on_the_same_gguf(backends):
    llama, hf = backends
    diffs = []
    for ctx, conts in PAIRS:
        a = await llama.loglikelihood(ctx, conts)
        b = await hf.loglikelihood(ctx, conts)
        for x, y in zip(a, b, strict=True):
            assert abs(x - y) <= PER_ITEM_TOL, (ctx, conts, a, b)
            diffs.append(abs(x - y))
        for i in range(len(conts)):
            for j in range(len(conts)):
                if a[i] - a[j] > 1.0:
                    assert b[i] > b[j], (ctx, conts[i], conts[j], a, b)
    print(f"llama.cpp vs hf: max {max(diffs):.3f}, mean {sum(diffs) / len(diffs):.3f} nats over {len(diffs)}")
    assert sum(diffs) / len(diffs) <= MEAN_TOL


async def test_hf_is_a_base_model_that_generates_and_streams(backends):
    _, hf = backends
    assert hf.capabilities.chat_tuned is False and hf.capabilities.prompt_logprobs
    gen = GenerationSettings(max_tokens=30, temperature=0.0)
    done = await hf.complete("The capital of France is", gen)
    assert done.text.strip() and done.usage.completion_tokens > 0
    msgs = [Message(role="user", content="I feel lonely since I moved.")]
    reply = await hf.chat(msgs, gen)
    streamed = "".join([p async for p in hf.stream_chat(msgs, gen)])
    assert "\nUser:" not in reply.text and streamed.strip() == reply.text
    # a stream that runs out of tokens before any stop sequence ends too (it once waited forever)
    short = GenerationSettings(max_tokens=3, temperature=0.0)

    async def stream_short():
        return "".join([p async for p in hf.stream_chat(msgs, short)])

    assert (await asyncio.wait_for(stream_short(), 120)).strip() == (await hf.chat(msgs, short)).text


async def test_adapter_spec_loads_and_changes_scores(backends, model_cache_dir, tmp_path):
    """hf:BASE+ADAPTER applies a PEFT adapter: a LoRA with non-zero weights moves the scores."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from empllm.backends.embedded import embedded_gguf_path
    from empllm.backends.hf import dequantized_checkpoint

    _, hf = backends
    base_dir = dequantized_checkpoint(embedded_gguf_path(model_cache_dir), model_cache_dir)
    model = AutoModelForCausalLM.from_pretrained(str(base_dir))
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05)
    peft_model.save_pretrained(tmp_path / "adapter")
    adapted = create_backend(f"hf:gemma-3-270m+{tmp_path / 'adapter'}", Settings(cache_dir=model_cache_dir))
    ctx, conts = PAIRS[0]
    base_scores = await hf.loglikelihood(ctx, conts)
    adapted_scores = await adapted.loglikelihood(ctx, conts)
    assert max(abs(a - b) for a, b in zip(base_scores, adapted_scores, strict=True)) > 0.01
