"""Multiple-choice scoring speed: EmpTest's harness vs. lm-evaluation-harness, same items, same model.

Both score EmpTest `perceive` items (en + zh) by log-likelihood with the same cloze prompt and the
same continuations on the same weights: Gemma 3 270M dequantized to float32 from the embedded GGUF,
through transformers on the CPU (EmpLLM's `hf:` backend; lm-eval's `hf` model with batch size 1,
its default). lm-eval runs a YAML task over the same items written to a local JSONL file.

items/s counts wall time from the first request to the last score; model loading is excluded on
both sides. The two runs alternate. The script also checks the per-item choices are identical.

    pip install lm-eval   # not a dependency of EmpLLM
    python benchmarks/mc_scoring_vs_lm_eval.py [--per-language 30] [--runs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from empllm.backends.embedded import embedded_gguf_path  # noqa: E402
from empllm.backends.hf import dequantized_checkpoint  # noqa: E402
from empllm.backends.registry import create_backend  # noqa: E402
from empllm.bench import mc  # noqa: E402
from empllm.bench.tasks import load_units  # noqa: E402
from empllm.runtime import Runtime  # noqa: E402
from empllm.settings import Settings  # noqa: E402

TASK_YAML = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{scenario}}}}\\n{question_label}{{{{question}}}}\\n{answer_label}"
doc_to_choice: "{{{{options}}}}"
doc_to_target: gold
target_delimiter: "{delimiter}"
metric_list:
  - metric: acc
  - metric: acc_norm
"""
LABELS = {"en": ("Question: ", "Answer:", " "), "zh": ("问题：", "答案：", "")}


def items_by_language(n: int) -> dict[str, list]:
    return {u.language: u.items for u in load_units(["perceive"], "all", data=None, limit=n)}


def run_empllm(backend, items: list) -> tuple[float, dict[str, int]]:
    async def go():
        runtime = Runtime(backend)  # no completion cache: every option is really scored
        start = time.perf_counter()
        records = [await mc.score_by_loglikelihood(runtime, it, calibrate=False) for it in items]
        return time.perf_counter() - start, {it.id: r["pred"] for it, r in zip(items, records, strict=True)}

    return asyncio.run(go())


def write_tasks(folder: Path, by_lang: dict[str, list]) -> list[str]:
    names = []
    for lang, items in by_lang.items():
        data = folder / f"perceive_{lang}.jsonl"
        data.write_text("".join(json.dumps(it.model_dump(), ensure_ascii=False) + "\n" for it in items), "utf-8")
        q, a, delim = LABELS[lang]
        name = f"emptest_perceive_{lang}"
        (folder / f"{name}.yaml").write_text(TASK_YAML.format(name=name, data=data, question_label=q, answer_label=a,
                                                              delimiter=delim), "utf-8")  # fmt: skip
        names.append(name)
    return names


def run_lm_eval(lm, folder: Path, names: list[str], by_lang: dict[str, list]) -> tuple[float, dict[str, int]]:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(folder), include_defaults=False)
    start = time.perf_counter()
    out = simple_evaluate(model=lm, tasks=names, task_manager=manager, log_samples=True, bootstrap_iters=0,
                          verbosity="ERROR")  # fmt: skip
    wall = time.perf_counter() - start
    preds = {}
    for lang, name in zip(by_lang, names, strict=True):
        for sample in out["samples"][name]:
            lls = [resp[0] for resp in sample["filtered_resps"]]
            preds[by_lang[lang][sample["doc_id"]].id] = max(range(len(lls)), key=lambda i: (lls[i], -i))
    return wall, preds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-language", type=int, default=30)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/mc_scoring.json"))
    args = parser.parse_args()
    from lm_eval.models.huggingface import HFLM

    settings = Settings(use_cache=False)
    backend = create_backend("hf:gemma-3-270m", settings)  # loads (and caches) the dequantized checkpoint
    checkpoint = dequantized_checkpoint(embedded_gguf_path(settings.cache_dir), settings.cache_dir)
    lm = HFLM(pretrained=str(checkpoint), device="cpu", batch_size=1, dtype="float32")
    by_lang = items_by_language(args.per_language)
    items = [it for group in by_lang.values() for it in group]
    ours, theirs, same = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        names = write_tasks(Path(tmp), by_lang)
        for run in range(args.runs):
            for who in ("empllm", "lm_eval") if run % 2 == 0 else ("lm_eval", "empllm"):
                if who == "empllm":
                    wall, preds_ours = run_empllm(backend, items)
                    ours.append(len(items) / wall)
                else:
                    wall, preds_theirs = run_lm_eval(lm, Path(tmp), names, by_lang)
                    theirs.append(len(items) / wall)
                print(f"run {run + 1} {who}: {len(items) / wall:.2f} items/s ({wall:.1f} s)", flush=True)
            same.append(sum(preds_ours[i] == preds_theirs.get(i) for i in preds_ours))
    result = {
        "benchmark": "mc_scoring_vs_lm_eval",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "model": f"Gemma 3 270M dequantized float32 ({checkpoint}), transformers on CPU",
        "items": len(items),
        "options": sum(len(it.options) for it in items),
        "empllm_items_per_s": [round(x, 3) for x in ours],
        "lm_eval_items_per_s": [round(x, 3) for x in theirs],
        "empllm_median": round(statistics.median(ours), 3),
        "lm_eval_median": round(statistics.median(theirs), 3),
        "ratio": round(statistics.median(ours) / statistics.median(theirs), 3),
        "identical_choices": f"{min(same)}/{len(items)}",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
