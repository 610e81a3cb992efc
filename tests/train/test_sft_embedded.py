"""A real (tiny) LoRA run on the embedded Gemma 270M: the loss falls, the adapter loads via hf:,
and it makes the training replies more likely than the base model does."""

import json
import subprocess

import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.registry import create_backend
from empllm.settings import Settings
from empllm.types import Message

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trained(sft_run):
    """The session's one training run (tests/conftest.py), shared with the llama.cpp adapter tests."""
    return sft_run


def test_loss_falls_and_the_run_is_recorded(trained):
    root, _, _ = trained
    summary = json.loads((root / "adapter" / "train_summary.json").read_text())
    curve = [x["loss"] for x in summary["loss_curve"]]
    assert summary["steps"] == 6 and len(curve) == 6 and curve[-1] < curve[0]
    assert summary["tokens_seen"] > 0 and summary["tokens_per_s"] > 0 and summary["eval_loss"] is not None
    assert (root / "adapter" / "loss.png").stat().st_size > 1000
    assert (root / "adapter" / "adapter_config.json").is_file()


async def test_adapter_loads_and_raises_the_likelihood_of_training_replies(trained, model_cache_dir):
    root, _, _ = trained
    settings = Settings(cache_dir=model_cache_dir)
    adapted = create_backend(f"hf:gemma-3-270m+{root / 'adapter'}", settings)
    base = create_backend("hf:gemma-3-270m", settings)
    assert adapted.capabilities.chat_tuned and not base.capabilities.chat_tuned
    row = json.loads((root / "data" / "train.jsonl").read_text().splitlines()[0])
    context = adapted.tokenizer.apply_chat_template(row["messages"][:1], tokenize=False, add_generation_prompt=True)
    context = context.removeprefix("<bos>")  # the scorer adds BOS itself
    reply = row["messages"][1]["content"] + "<end_of_turn>"
    before = (await base.loglikelihood(context, [reply]))[0]
    after = (await adapted.loglikelihood(context, [reply]))[0]
    assert after > before + 1.0, (before, after)
    done = await adapted.chat([Message(role="user", content="I feel alone since I moved.")],
                              GenerationSettings(max_tokens=40, temperature=0.0))  # fmt: skip
    assert done.text and "<start_of_turn>" not in done.text


def test_rerun_resumes_from_the_checkpoint_and_other_settings_are_refused(trained):
    root, args, env = trained
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((root / "adapter" / "train_summary.json").read_text())["resumed"] is True
    other = subprocess.run(
        [*args[:-1], "--lora-r", "4", "--quiet"], env=env, capture_output=True, text=True, timeout=300
    )
    assert other.returncode == 2 and "other data or settings" in other.stderr
