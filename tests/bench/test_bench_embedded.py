"""EmpTest against the real models: every closed sub-task on the embedded llama.cpp model, and the
multiple-choice log-likelihoods checked against an independent transformers computation."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from empllm.backends.registry import create_backend
from empllm.bench import mc
from empllm.bench.tasks import load_units
from empllm.runtime import Runtime
from empllm.settings import Settings

pytestmark = pytest.mark.integration
EMPLLM = str(Path(sys.executable).parent / "empllm")
CLOSED = ["perceive", "intensity", "understand", "manage", "respond_mc", "safety"]


def test_every_closed_subtask_runs_on_the_embedded_model(tmp_path, model_cache_dir):
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir)}
    out_dir = tmp_path / "run"
    out = subprocess.run([EMPLLM, "bench", "--model", "llamacpp:gemma-3-270m", "--tasks", ",".join(CLOSED),
                          "--limit", "2", "--out", str(out_dir), "--no-cache", "--quiet"],
                         capture_output=True, text=True, env=env, timeout=900)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    results = json.loads((out_dir / "results.json").read_text())
    for task in CLOSED:
        for lang in ("en", "zh"):
            row = results["tasks"][f"{task}.{lang}"]
            assert row["method"] == "loglikelihood" and row["n"] == 2, (task, lang, row)
            assert row["interval"] is not None and row["chance"] > 0
    samples = [json.loads(x) for x in (out_dir / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 2 * 2 * len(CLOSED)
    for s in samples:
        if s["task"] == "intensity":  # the expected rating over " 0".." 10" for each emotion
            assert len(s["ratings"]) == 4 and all(0 <= r <= 10 for r in s["ratings"])
            assert all(len(d) == 11 for d in s["rating_loglikelihoods"])
        else:  # real log-likelihoods: negative, not all equal
            lls = s["loglikelihoods"]
            assert all(x < 0 for x in lls) and len(set(lls)) > 1
    assert "<svg" in (out_dir / "report.html").read_text()


def independent_loglikelihoods(model, tokenizer, context: str, continuations: list[str]) -> list[float]:
    """Each option scored on its own: one forward pass over context + option, no KV sharing."""
    import torch

    results = []
    for cont in continuations:
        ctx_ids = tokenizer(context)["input_ids"]
        whole = tokenizer(context + cont)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([whole])).logits[0].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        results.append(float(sum(logprobs[i - 1, whole[i]] for i in range(len(ctx_ids), len(whole)))))
    return results


def test_mc_loglikelihoods_agree_with_an_independent_transformers_computation(model_cache_dir):
    settings = Settings(cache_dir=model_cache_dir, use_cache=False, n_ctx=2048)
    hf = create_backend("hf:gemma-3-270m", settings)
    llama = create_backend("llamacpp:gemma-3-270m", settings)
    items = [it for u in load_units(["perceive", "respond_mc"], "all", data=None, limit=2) for it in u.items]

    async def score_all(backend):
        runtime = Runtime(backend)
        return [await mc.score_by_loglikelihood(runtime, it) for it in items]

    by_hf, by_llama = asyncio.run(score_all(hf)), asyncio.run(score_all(llama))
    asyncio.run(llama.aclose())
    agree = 0
    for it, h, ll in zip(items, by_hf, by_llama, strict=True):
        context = mc.mc_context(it, "cloze", list(range(len(it.options))))
        direct = independent_loglikelihoods(hf.model, hf.tokenizer, context,
                                            [mc.continuation(o, it.language) for o in it.options])  # fmt: skip
        assert h["loglikelihoods"] == pytest.approx(direct, abs=2e-3), it.id  # same weights, independent code
        assert h["pred"] == max(range(len(direct)), key=lambda i: direct[i])
        assert max(abs(a - b) for a, b in zip(h["loglikelihoods"], ll["loglikelihoods"], strict=True)) < 2.0
        agree += h["pred"] == ll["pred"]
    assert agree >= len(items) - 2, f"llama.cpp and hf picked the same option on {agree} of {len(items)} items"


def test_judged_subtasks_run_with_the_embedded_model_replying_and_playing_the_client(tmp_path, model_cache_dir):
    """respond_gen and session with real generation (the judge is scripted: a 270M base model cannot judge)."""
    from .test_bench_run import RUBRIC

    judge = tmp_path / "judge.yaml"
    judge.write_text(json.dumps({"default": RUBRIC}))
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir)}
    out_dir = tmp_path / "run"
    out = subprocess.run([EMPLLM, "bench", "--model", "llamacpp:gemma-3-270m", "--tasks", "respond_gen,session",
                          "--language", "en", "--limit", "1", "--judge", f"scripted:{judge}", "--client",
                          "llamacpp:gemma-3-270m", "--session-replies", "2", "--out", str(out_dir), "--no-cache",
                          "--quiet"], capture_output=True, text=True, env=env, timeout=900)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    samples = {s["task"]: s for s in map(json.loads, (out_dir / "samples.jsonl").read_text().splitlines())}
    assert samples["respond_gen"]["reply"].strip() and samples["respond_gen"]["judge_parsed"]
    session = samples["session"]
    assert session["turns"][0]["role"] == "client" and session["turns"][1]["role"] == "psychologist"
    assert session["turns"][1]["content"].strip()
    assert session["intensity_start"] is not None and session["score"] is not None or session["error"]
