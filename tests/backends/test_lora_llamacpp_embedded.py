"""`llamacpp:gemma-3-270m+ADAPTER`: the adapter `empllm train` wrote, converted to a GGUF LoRA and
applied by llama.cpp, picks the options that `hf:gemma-3-270m+ADAPTER` (PEFT, the reference) picks.

Measured on the 40 items below (2026-12-02, 2 CPU cores, AVX-512 build; the session's 6-step
adapter): the same option on 39 of 40 (the other a near-tie, 0.08 nats in llama.cpp), 0.56 nats
apart per option on average; the adapter moves llama.cpp's scores by 3.7 nats per option and turns
8 of the 40 choices. Time per item, options only: see the test's printed line.
"""

import math
import time

import pytest

from empllm.bench.mc import continuation, mc_context
from empllm.bench.tasks import load_units, mc_tasks
from empllm.runtime import build_runtime
from empllm.settings import Settings

pytestmark = pytest.mark.integration
PER_UNIT = 4  # items per sub-task and language: 5 multiple-choice sub-tasks x en, zh = 40 items
MIN_AGREEMENT = 0.95


@pytest.fixture(scope="module")
def adapter_dir(sft_run):
    from safetensors.torch import load_file

    adapter = sft_run[0] / "adapter"
    # lora_B starts at zero: an adapter that barely trained would agree with anything
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    b_norm = math.sqrt(sum(float((w.float() ** 2).sum()) for name, w in weights.items() if "lora_B" in name))
    assert b_norm > 0.5, f"the trained adapter is nearly zero (|lora_B| = {b_norm:.3f})"
    return adapter


def mc_items() -> list:
    units = load_units(mc_tasks(), "all", data=None, limit=PER_UNIT)
    return [item for unit in units for item in unit.items]


async def score(spec: str, settings: Settings, items: list) -> tuple[list[list[float]], float]:
    """Each item's option log-likelihoods (EmpTest's cloze prompt), and the seconds per item."""
    runtime = build_runtime(spec, settings)
    try:
        await runtime.loglikelihood("Answer:", [" yes"])  # the scorer handle loads on first use
        start = time.perf_counter()
        scores = [
            await runtime.loglikelihood(mc_context(it, "cloze", list(range(len(it.options)))),
                                        [continuation(o, it.language) for o in it.options])
            for it in items
        ]  # fmt: skip
        return scores, (time.perf_counter() - start) / len(items)
    finally:
        await runtime.aclose()


def argmax(values: list[float]) -> int:
    return max(range(len(values)), key=lambda i: (values[i], -i))


def mean_abs_diff(a: list[list[float]], b: list[list[float]]) -> float:
    diffs = [abs(x - y) for xs, ys in zip(a, b, strict=True) for x, y in zip(xs, ys, strict=True)]
    return sum(diffs) / len(diffs)


async def test_llamacpp_with_the_adapter_picks_what_hf_with_the_adapter_picks(adapter_dir, model_cache_dir):
    settings = Settings(cache_dir=model_cache_dir, use_cache=False)
    items = mc_items()
    assert len(items) == 10 * PER_UNIT and len({(it.language, it.id) for it in items}) == len(items)
    llama_base, t_base = await score("llamacpp:gemma-3-270m", settings, items)
    llama, t_llama = await score(f"llamacpp:gemma-3-270m+{adapter_dir}", settings, items)
    hf, t_hf = await score(f"hf:gemma-3-270m+{adapter_dir}", settings, items)

    same = sum(argmax(a) == argmax(b) for a, b in zip(llama, hf, strict=True))
    turned = sum(argmax(a) != argmax(b) for a, b in zip(llama, llama_base, strict=True))
    moved, apart, base_apart = mean_abs_diff(llama, llama_base), mean_abs_diff(llama, hf), mean_abs_diff(llama_base, hf)
    print(f"\nsame option {same}/{len(items)}; the adapter moves llama.cpp's scores {moved:.2f} nats per option and "
          f"turns {turned} choices; llama.cpp vs hf with the adapter {apart:.2f} nats apart, without it {base_apart:.2f}; "
          f"s/item: llama.cpp {t_base:.3f}, llama.cpp+adapter {t_llama:.3f}, hf+adapter {t_hf:.3f}")  # fmt: skip
    assert same >= MIN_AGREEMENT * len(items), (same, len(items))
    # the adapter is applied (an ignored lora_path leaves the scores exactly as they were), and it
    # moves llama.cpp's scores to where PEFT puts them
    assert moved > 1.0, moved
    assert apart < 0.5 * base_apart, (apart, base_apart)
    # and it costs llama.cpp next to nothing: scoring stays far faster than through transformers
    assert t_llama < 2 * t_base and t_llama < t_hf, (t_base, t_llama, t_hf)


async def test_the_converted_adapter_is_reused_and_keys_the_cache(adapter_dir, model_cache_dir, monkeypatch):
    import empllm.backends.lora_gguf as lora_gguf
    from empllm.backends.embedded import embedded_gguf_path
    from empllm.backends.hf import dequantized_checkpoint
    from empllm.backends.registry import create_backend

    settings = Settings(cache_dir=model_cache_dir)
    converted = lora_gguf.adapter_gguf(
        adapter_dir, dequantized_checkpoint(embedded_gguf_path(model_cache_dir), model_cache_dir)
    )
    monkeypatch.setattr(lora_gguf.subprocess, "run", lambda *a, **kw: pytest.fail("converted a second time"))
    adapted = create_backend(f"llamacpp:gemma-3-270m+{adapter_dir}", settings)
    base = create_backend("llamacpp:gemma-3-270m", settings)
    try:
        assert adapted.lora_path == converted and list(adapter_dir.glob("adapter-model-*.gguf")) == [converted]
        assert adapted.cache_identity.startswith(base.cache_identity + "|lora:")
    finally:
        await adapted.aclose()
        await base.aclose()
