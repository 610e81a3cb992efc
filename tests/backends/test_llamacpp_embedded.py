"""The real embedded model: Gemma 3 270M (base) through llama-cpp-python."""

import asyncio

import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.registry import create_backend
from empllm.errors import BackendError
from empllm.types import Message

pytestmark = pytest.mark.integration
GREEDY = GenerationSettings(max_tokens=24, temperature=0.0)


@pytest.fixture(scope="module")
def llama(model_cache_dir):
    from empllm.settings import Settings

    backend = create_backend("llamacpp:gemma-3-270m", Settings(cache_dir=model_cache_dir, n_ctx=2048))
    yield backend
    asyncio.run(backend.aclose())


async def test_embedded_is_a_base_model_with_prompt_logprobs(llama):
    caps = llama.capabilities
    assert caps.chat_tuned is False and caps.prompt_logprobs is True and caps.max_context == 2048


async def test_generates_a_continuation(llama):
    done = await llama.complete("The capital of France is", GREEDY)
    assert done.text.strip() and done.usage.completion_tokens > 0 and done.usage.prompt_tokens >= 5
    again = await llama.complete("The capital of France is", GREEDY)
    assert again.text == done.text  # greedy is deterministic


async def test_chat_on_base_model_uses_a_transcript_and_stops_at_next_turn(llama):
    msgs = [Message(role="user", content="I had a rough day at work today.")]
    done = await llama.chat(msgs, GenerationSettings(max_tokens=60, temperature=0.0))
    assert done.text and "\nUser:" not in done.text and not done.text.startswith(" ")
    streamed = "".join([p async for p in llama.stream_chat(msgs, GenerationSettings(max_tokens=60, temperature=0.0))])
    assert streamed.strip() == done.text


async def test_seeded_sampling_repeats(llama):
    gen = GenerationSettings(max_tokens=20, temperature=1.0, seed=7)
    first = await llama.complete("Once upon a time", gen)
    second = await llama.complete("Once upon a time", gen)
    assert first.text == second.text


async def test_loglikelihood_ranks_sensibly_in_english_and_chinese(llama):
    good, bad = await llama.loglikelihood("The capital of France is", [" Paris", " banana"])
    assert good > bad and good < 0
    zh_good, zh_bad = await llama.loglikelihood("中国的首都是", ["北京", "香蕉"])
    assert zh_good > zh_bad


async def test_shared_context_reuse_matches_scoring_alone(llama):
    ctx = "She hugged her friend after the funeral because she felt"
    together = await llama.loglikelihood(ctx, [" grief", " joy", " very sad and alone"])
    alone = [(await llama.loglikelihood(ctx, [c]))[0] for c in [" grief", " joy", " very sad and alone"]]
    assert together == pytest.approx(alone, abs=1e-3)


async def test_concurrent_calls_are_serialized_safely(llama):
    prompts = ["I feel", "Today I", "My friend said"]
    results = await asyncio.gather(*(llama.complete(p, GREEDY) for p in prompts))
    singles = [await llama.complete(p, GREEDY) for p in prompts]
    assert [r.text for r in results] == [s.text for s in singles]


async def test_grammar_constrains_the_output(llama):
    gen = GenerationSettings(max_tokens=8, temperature=1.0, seed=5, grammar='root ::= " yes" | " no"')
    for prompt in ["Is the sky green? Answer:", "Do cats purr? Answer:"]:
        done = await llama.complete(prompt, gen)
        assert done.text in {" yes", " no"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_simulation_grammars_compile(llama, lang):
    # parsed by llama.cpp itself (LlamaGrammar.from_string alone parses nothing)
    from empllm.simulate import transcript_style as ts

    for grammar in (
        ts.notes_grammar(lang),
        ts.state_grammar(lang, can_end=True),
        ts.state_grammar(lang, can_end=False),
    ):
        assert llama._grammar(grammar) is not None


@pytest.mark.parametrize("broken", ['root ::= "yes', "root ::= other", 'start ::= "a"'])
async def test_a_grammar_llama_cpp_cannot_parse_is_a_clear_error(llama, broken):
    gen = GenerationSettings(max_tokens=4, temperature=0.0, seed=1, grammar=broken)
    with pytest.raises(BackendError, match="invalid GBNF grammar"):
        await llama.complete("Answer:", gen)


async def test_a_reused_prompt_prefix_gives_the_same_output_whatever_ran_before(llama):
    """The few-shot prefix is evaluated once and its state restored for later calls; a sampled
    output must depend only on the prompt, not on which calls came before (the KV-reuse bug)."""
    from empllm.simulate import transcript_style as ts
    from empllm.simulate.exemplars import builtin_exemplars
    from empllm.simulate.psychologist import psychologist_view

    def prompt(shots, opening):
        blocks = [psychologist_view(ex.turns, ex.plan, "en") for ex in shots]
        text, shared = ts.few_shot_prompt("psychologist_transcript", "en", blocks, "", f"Client: {opening}",
                                          stance="person_centred")  # fmt: skip
        return text + "\n" + ts.notes_primer("en"), shared

    pool = builtin_exemplars("en")
    a, shared_a = prompt(pool[:2], "I failed my driving test again and everyone laughed.")
    b, shared_b = prompt(pool[2:4], "My cat died yesterday.")
    assert 0 < shared_a < len(a) and a[:shared_a] != b[:shared_b]
    # long enough, and sampled, that a rounding difference in the logits shows in the text
    gen = GenerationSettings(max_tokens=60, temperature=0.8, seed=5, stop=("\nClient:",))
    with_a, with_b = (
        gen.model_copy(update={"shared_prefix": shared_a}),
        gen.model_copy(update={"shared_prefix": shared_b}),
    )
    first = (await llama.complete(a, with_a)).text
    other = (await llama.complete(b, with_b)).text
    again = (await llama.complete(a, with_a)).text  # restored after another prefix
    plain = (await llama.complete(a, gen)).text  # the whole prompt evaluated from scratch in between
    third = (await llama.complete(a, with_a)).text
    assert first == again == third and other != first
    assert llama._prefixes.hits >= 2 and llama._prefixes.misses == 2
    assert plain  # the unshared path still works beside the shared one
