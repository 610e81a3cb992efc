"""`empllm bench export lm-eval DIR`: lm-evaluation-harness runs the folder, and on the embedded
weights it picks and scores exactly as `empllm bench` does through `hf:`."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from empllm.bench import scorers
from empllm.bench.items import IntensityItem, MCItem, load_item_file
from empllm.bench.kinds import rating_items
from empllm.bench.lm_eval_export import TASKS, export_lm_eval, utils_source
from empllm.bench.registry import items_dir

pytest.importorskip("lm_eval")
# one item per sub-task and language (10 multiple-choice items with 88 option scores, 2 intensity items
# with 88): lm-eval's hf model computes logits over Gemma's 262k-token vocabulary at every position,
# so each score costs about a second on 2 cores. benchmarks/lm_eval_parity.py runs 10 per sub-task.
PER_LANGUAGE = 1


def test_the_export_has_a_task_per_subtask_and_language_and_standalone_utils(tmp_path):
    counts = export_lm_eval(tmp_path / "lm", limit=3)
    assert set(counts) == {f"emptest_{t}_{lang}" for t in TASKS for lang in ("en", "zh")}
    assert all(n == 3 for n in counts.values())
    utils = (tmp_path / "lm" / "utils.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) empllm", utils, re.MULTILINE)  # runs where EmpLLM is not installed
    rows = [json.loads(line) for line in (tmp_path / "lm" / "data" / "respond_mc_zh.jsonl").open(encoding="utf-8")]
    assert all(r["canary"].startswith("EMPTEST CANARY") and r["id"].startswith("respond_mc-zh-") for r in rows)
    # lm-eval's own loader finds every task and group without a model
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(tmp_path / "lm"), include_defaults=False)
    assert {"emptest", "emptest_en", "emptest_zh", "emptest_intensity_zh"} <= set(manager.all_tasks)


def test_the_inlined_scoring_is_empllms_own(tmp_path):
    namespace: dict = {}
    source = utils_source()
    # run only the inlined block (utils.py also imports lm_eval and datasets, tested elsewhere)
    block = source[source.index("# Copied from") : source.index("DATA_DIR =")]
    exec(compile(block, "utils.py", "exec"), namespace)
    from empllm.bench import intensity, mc

    for answers, refs in (([0, 3.5, 10, 7], [0, 4, 2, 7]), ([5, 5, 5, 5], [9, 0, 1, 6])):
        assert namespace["item_score"](answers, refs) == intensity.item_score(answers, refs)
    lls, priors = [-4.0, -3.0, -9.0], [-1.0, -3.5, -9.5]
    assert namespace["decide"](["a", "bbbbbb", "c"], 2, lls, priors) == mc.decide(["a", "bbbbbb", "c"], 2, lls, priors)


def test_the_cli_writes_the_folder(tmp_path):
    empllm = str(Path(sys.executable).parent / "empllm")
    done = subprocess.run([empllm, "bench", "export", "lm-eval", str(tmp_path / "lm")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "12 tasks, 720 items" in done.stderr and "--tasks emptest" in done.stderr
    assert (tmp_path / "lm" / "emptest.yaml").exists() and not (tmp_path / "lm.partial").exists()


@pytest.mark.integration
def test_lm_eval_hf_picks_and_scores_as_empllm_bench_through_hf(tmp_path, model_cache_dir):
    from empllm.backends.embedded import embedded_gguf_path
    from empllm.backends.hf import dequantized_checkpoint
    from empllm.backends.registry import create_backend
    from empllm.runtime import Runtime
    from empllm.settings import Settings

    folder = tmp_path / "lm"
    export_lm_eval(folder, limit=PER_LANGUAGE)
    checkpoint = dequantized_checkpoint(embedded_gguf_path(model_cache_dir), model_cache_dir)
    script = f"""
import json
from lm_eval import simple_evaluate
from lm_eval.models.huggingface import HFLM
from lm_eval.tasks import TaskManager
lm = HFLM(pretrained={str(checkpoint)!r}, device="cpu", batch_size=1, dtype="float32")
out = simple_evaluate(model=lm, tasks=["emptest"], task_manager=TaskManager(include_path={str(folder)!r},
                      include_defaults=False), log_samples=True, bootstrap_iters=0, verbosity="ERROR")
samples = {{name: [{{"id": s["doc"]["id"], "lls": [r[0] for r in s["filtered_resps"]],
                     **{{k: s[k] for k in ("acc", "acc_norm", "acc_mi", "score") if k in s}}}}
                    for s in rows] for name, rows in out["samples"].items()}}
print(json.dumps(samples))
"""
    # lm-eval in its own process, as a user runs it (and without EmpLLM's modules loaded)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = {s["id"]: s for rows in json.loads(done.stdout.strip().splitlines()[-1]).values() for s in rows}

    runtime = Runtime(create_backend("hf:gemma-3-270m", Settings(cache_dir=model_cache_dir, use_cache=False)))

    async def ours() -> dict[str, dict]:
        records = {}
        for task in TASKS:
            for lang in ("en", "zh"):
                path = items_dir() / f"{task}.{lang}.jsonl"
                if task == "intensity":
                    for item in rating_items(load_item_file(path, IntensityItem)[:PER_LANGUAGE]):
                        records[item.id] = await scorers.score_rating(runtime, item, method="loglikelihood")
                else:
                    for item in load_item_file(path, MCItem)[:PER_LANGUAGE]:
                        records[item.id] = await scorers.score_mc(runtime, item, method="loglikelihood",
                                                                  fmt="cloze", permutations=1)  # fmt: skip
        return records

    mine = asyncio.run(ours())
    assert set(mine) == set(theirs) and len(mine) == len(TASKS) * 2 * PER_LANGUAGE
    for item_id, record in mine.items():
        other = theirs[item_id]
        if "rating_loglikelihoods" in record:
            assert 10 * record["score"] == pytest.approx(other["score"], abs=0.05), item_id
            continue
        n = len(record["options"])
        assert other["lls"][:n] == pytest.approx(record["loglikelihoods"], abs=2e-3), item_id
        assert other["lls"][n:] == pytest.approx(record["prior_loglikelihoods"], abs=2e-3), item_id
        assert {k: other[k] for k in ("acc", "acc_norm", "acc_mi")} == {
            k: record[k] for k in ("acc", "acc_norm", "acc_mi")
        }, item_id
