"""`empllm bench compare RUN_A RUN_B`: per-task deltas (B - A) with paired bootstrap intervals."""

from __future__ import annotations

import json
from pathlib import Path

from empllm.bench.kinds import kind_of
from empllm.bench.records import SampleRecord, TaskScore
from empllm.bench.stats import paired_bootstrap
from empllm.errors import EmpLLMError
from empllm.jsonl_store import read_jsonl


def load_run(run_dir: Path) -> tuple[dict, list[SampleRecord]]:
    """results.json, its rows as TaskScore under "tasks", and the run's sample records."""
    results, samples = run_dir / "results.json", run_dir / "samples.jsonl"
    if not results.is_file() or not samples.is_file():
        raise EmpLLMError(f"{run_dir} is not a finished bench run (needs results.json and samples.jsonl)")
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
        data["tasks"] = {key: TaskScore.model_validate(row) for key, row in data["tasks"].items()}
        records = [SampleRecord.model_validate(row) for row in read_jsonl(samples)]
    except (ValueError, KeyError, TypeError) as exc:
        raise EmpLLMError(f"{run_dir} holds a results.json or samples.jsonl EmpTest cannot read ({exc})") from None
    return data, records


def item_scores(samples: list[SampleRecord], task_key: str, kind: str, metric: str = "score") -> dict[str, float]:
    """Scaled item values of one metric for one results row ("perceive.en" or pooled "perceive");
    items without that value (unparseable, or not calibrated for acc_mi) are left out."""
    task, _, lang = task_key.partition(".")
    scale = kind_of(kind).scale
    return {f"{s.language}/{s.id}": scale * s.value(metric) for s in samples
            if s.task == task and (not lang or s.language == lang) and s.value(metric) is not None}  # fmt: skip


def compare_runs(run_a: Path, run_b: Path, *, seed: int = 0) -> dict:
    """Per results row: the main score's paired delta (B - A) and, under "metrics", every metric of
    the sub-task (for multiple choice acc, acc_norm and acc_mi) with its own paired interval."""
    (res_a, samples_a), (res_b, samples_b) = load_run(run_a), load_run(run_b)
    rows = {}
    for key in res_a["tasks"]:
        if key not in res_b["tasks"]:
            continue
        row_a, row_b = res_a["tasks"][key], res_b["tasks"][key]
        kind = row_a.kind  # recorded in results.json: a task from --include-path needs no registry
        paired = paired_bootstrap(item_scores(samples_a, key, kind), item_scores(samples_b, key, kind), seed=seed)
        if paired is None:
            continue
        metrics = {kind_of(kind).main_metric: paired}
        for metric in kind_of(kind).extra_metrics:
            a, b = item_scores(samples_a, key, kind, metric), item_scores(samples_b, key, kind, metric)
            extra = paired_bootstrap(a, b, seed=seed)
            if extra is not None:
                metrics[metric] = extra
        for metric, values in metrics.items():
            main = metric == kind_of(kind).main_metric  # the row keeps its main score under "score"
            values["a"] = getattr(row_a, "score" if main else metric)
            values["b"] = getattr(row_b, "score" if main else metric)
        rows[key] = {"a": row_a.score, "b": row_b.score, **paired, "metrics": metrics}
    if not rows:
        raise EmpLLMError(f"{run_a} and {run_b} share no scored task")
    return {"a": {"dir": str(run_a), "model": res_a["model"]}, "b": {"dir": str(run_b), "model": res_b["model"]},
            "tasks": rows}  # fmt: skip
