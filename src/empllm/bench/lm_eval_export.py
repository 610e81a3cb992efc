"""EmpTest as lm-evaluation-harness tasks: `empllm bench export lm-eval DIR`.

The folder holds, for every closed sub-task (perceive, understand, manage, respond_mc, safety,
intensity) and language:
- `data/<subtask>_<lang>.jsonl`: the items with their prompts already rendered as `empllm bench`
  renders them (the cloze prompt, each option's continuation, the bare answer cue), so both
  harnesses score the same strings;
- `emptest_<subtask>_<lang>.yaml`: the task;
and the groups `emptest` (everything), `emptest_en`, `emptest_zh` and `emptest_<subtask>`, plus
`utils.py` (bench/lm_eval_task.py with EmpLLM's scoring functions inlined, so it needs only lm-eval).

    lm_eval --model hf --model_args pretrained=MODEL --include_path DIR --tasks emptest

The canary string is in every data row: EmpTest must stay out of training data.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
from importlib import resources
from pathlib import Path

from empllm.bench import intensity, mc
from empllm.bench.items import CANARY, IntensityItem, MCItem, load_item_file
from empllm.bench.kinds import rating_items
from empllm.bench.registry import closed_builtin_tasks, get_task
from empllm.bench.scorers import rating_suffix

TASKS = tuple(closed_builtin_tasks())
LANGUAGES = ("en", "zh")
_INLINE = re.compile(r"# BEGIN empllm-inline\n.*?# END empllm-inline\n", re.DOTALL)


def mc_row(item: MCItem) -> dict:
    return {"id": item.id, "context": mc.mc_context(item, "cloze", list(range(len(item.options)))),
            "options": item.options, "gold": item.gold, "prior_context": mc.NULL_CONTEXT[item.language],
            "canary": CANARY}  # fmt: skip


def intensity_row(item: IntensityItem) -> dict:
    rating = rating_items([item])[0]
    lang = rating.language
    return {"id": rating.id, "prompt": rating.prompt, "emotions": rating.emotions, "reference": rating.reference,
            "rating_contexts": [rating.prompt + rating_suffix(e, lang) for e in rating.emotions],
            "ratings": [mc.continuation(str(r), lang) for r in intensity.RATINGS], "canary": CANARY}  # fmt: skip


def utils_source() -> str:
    """bench/lm_eval_task.py, standalone: EmpLLM's own deciding and scoring functions inlined."""
    template = resources.files("empllm.bench").joinpath("lm_eval_task.py").read_text(encoding="utf-8")
    inlined = [f"ADJUST = {intensity.ADJUST!r}", f"RATINGS = {intensity.RATINGS!r}"]
    inlined += [inspect.getsource(fn) for fn in (intensity.emotion_cost, intensity.item_score,
                                                  intensity.expected_rating, mc._argmax, mc.decide)]  # fmt: skip
    block = "# Copied from empllm.bench.intensity and empllm.bench.mc by the export.\nimport math\n\n"
    return _INLINE.sub(lambda _: block + "\n\n".join(inlined) + "\n", template, count=1)


def _task_yaml(task: str, lang: str) -> str:
    name = f"emptest_{task}_{lang}"
    if task == "intensity":
        kind, text, choice, target, delimiter = "EmpTestIntensity", "prompt", "ratings", "0", ""
        metrics = ["score"]
    else:
        kind, text, choice, target = "EmpTestMultipleChoice", "context", "options", "gold"
        delimiter = mc.continuation("", lang)  # " " after "Answer:", nothing after "答案："
        metrics = ["acc", "acc_norm", "acc_mi", "acc_norm_chars"]
    metric_list = "".join(f"  - metric: {m}\n    aggregation: mean\n    higher_is_better: true\n" for m in metrics)
    return (f"task: {name}\ntag:\n  - emptest_{lang}\n  - emptest_{task}\nclass: !function utils.{kind}\n"
            f"custom_dataset: !function utils.load_docs\ndataset_kwargs:\n  data_file: {task}_{lang}.jsonl\n"
            f"test_split: test\noutput_type: multiple_choice\ndoc_to_text: {text}\ndoc_to_choice: {choice}\n"
            f"doc_to_target: {target}\ntarget_delimiter: \"{delimiter}\"\nmetric_list:\n{metric_list}"
            f"metadata:\n  version: 1.0\n")  # fmt: skip


def _group_yaml(name: str, members: list[str], metrics: list[str]) -> str:
    tasks = "".join(f"  - {m}\n" for m in members)
    aggregate = "".join(f"  - metric: {m}\n    aggregation: mean\n    weight_by_size: true\n" for m in metrics)
    return f"group: {name}\ntask:\n{tasks}aggregate_metric_list:\n{aggregate}metadata:\n  version: 1.0\n"


def export_lm_eval(out_dir: Path, tasks: tuple[str, ...] = TASKS, languages: tuple[str, ...] = LANGUAGES,
                   limit: int | None = None) -> dict[str, int]:  # fmt: skip
    """Writes the folder (replaced whole); returns items per task. `limit` keeps the first N items
    of each sub-task and language (for tests)."""
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "data").mkdir(parents=True)
    counts: dict[str, int] = {}
    for task in tasks:
        for lang in languages:
            spec = get_task(task)
            row = intensity_row if spec.kind == "rating" else mc_row
            items = load_item_file(spec.item_file(lang), spec.schema)[:limit]
            lines = "".join(json.dumps(row(item), ensure_ascii=False) + "\n" for item in items)
            (partial / "data" / f"{task}_{lang}.jsonl").write_text(lines, encoding="utf-8")
            (partial / f"emptest_{task}_{lang}.yaml").write_text(_task_yaml(task, lang), encoding="utf-8")
            counts[f"emptest_{task}_{lang}"] = len(items)
    mc_metrics = ["acc", "acc_norm", "acc_mi"]
    # intensity's score and the multiple-choice accuracies share no metric, so groups pool the MC ones
    groups = {f"emptest_{task}": [f"emptest_{task}_{lang}" for lang in languages] for task in tasks}
    groups |= {f"emptest_{lang}": [f"emptest_{task}_{lang}" for task in tasks] for lang in languages}
    groups["emptest"] = [f"emptest_{lang}" for lang in languages]
    for name, members in groups.items():
        metrics = ["score"] if name == "emptest_intensity" else mc_metrics
        (partial / f"{name}.yaml").write_text(_group_yaml(name, members, metrics), encoding="utf-8")
    (partial / "utils.py").write_text(utils_source(), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    partial.replace(out_dir)  # the folder appears whole or not at all
    return counts
