"""results.json of a demo run: the funnel, the training data by source, the training runs, EmpTest
for the three models with paired deltas, the example replies, the stage times and a plain verdict.
The report (report.py) renders only numbers from this file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from empllm.bench.compare import compare_runs, load_run
from empllm.demo.config import LANGUAGES, MODES, DemoConfig
from empllm.demo.examples import example_messages

COMPARISONS = {  # name: (run A, run B, what B - A tests)
    "think_vs_base": ("base", "think", "fine-tuning with contemplation"),
    "drop_vs_base": ("base", "drop", "fine-tuning without contemplation"),
    "think_vs_drop": ("drop", "think", "the contemplation itself (same data, notes kept vs dropped)"),
}


def _task_rows(results: dict) -> dict[str, dict]:
    """Sub-task rows pooled over both languages (the per-language rows stay in each bench run's folder)."""
    fields = ("score", "interval", "chance", "best", "n", "n_items", "method")
    return {k: {f: row.get(f) for f in fields} for k, row in results["tasks"].items() if "." not in k}


def verdict(emptest: dict, data: dict) -> list[str]:
    lines = []
    for name, (a, b, what) in COMPARISONS.items():
        rows = emptest["deltas"][name]
        differ = [(task, r) for task, r in rows.items() if r["significant"]]
        if not differ:
            lines.append(f"{b} vs {a} ({what}): no sub-task differs beyond noise; all {len(rows)} paired 95% "
                         "intervals include zero.")  # fmt: skip
            continue
        parts = [f"{task} {r['delta']:+.1f} [{r['interval'][0]:+.1f}, {r['interval'][1]:+.1f}]" for task, r in differ]
        lines.append(f"{b} vs {a} ({what}): {len(differ)} of {len(rows)} sub-tasks differ beyond noise: "
                     f"{'; '.join(parts)}. The others are within noise.")  # fmt: skip
    fewest = min((r["n"] for by_model in emptest["tasks"].values() for r in by_model.values()), default=0)
    if fewest < 30:
        lines.append(f"Some sub-tasks were scored on only {fewest} items (--bench-limit); intervals from so few items "
                     "are rough, and a difference called real here is worth rechecking on all items.")  # fmt: skip
    seed = sum(split["seed"] for split in data["splits"].values())
    if seed:
        lines.append(f"The training data included {seed} hand-written seed sessions (--seed-data on), so a "
                     "difference between tuned and base models cannot be credited to simulation alone.")  # fmt: skip
    return lines


def build_results(config: DemoConfig, out_dir: Path, stages: dict, specs: dict[str, str]) -> dict:
    runs = {name: out_dir / "bench" / name for name in specs}
    emptest = {"models": specs, "tasks": {}, "deltas": {}}
    for name, run_dir in runs.items():
        for task, row in _task_rows(load_run(run_dir)[0]).items():
            emptest["tasks"].setdefault(task, {})[name] = row
    for cmp_name, (a, b, _) in COMPARISONS.items():
        rows = compare_runs(runs[a], runs[b], seed=config.seed)["tasks"]
        emptest["deltas"][cmp_name] = {t: {k: rows[t][k] for k in ("delta", "interval", "n", "significant")}
                                       for t in emptest["tasks"] if t in rows}  # fmt: skip
    provenance = json.loads((out_dir / "run.json").read_text())
    return {
        "demo_version": 1,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config.model_dump(),
        "config_hash": config.hash(),
        "provenance": {k: provenance.get(k) for k in ("prompts_version", "empllm_version", "git_revision", "created")},
        "funnel": {
            lang: {
                "simulated": stages[f"simulate.{lang}"]["sessions"],
                "outcomes": stages[f"simulate.{lang}"]["outcomes"],
                "kept": stages[f"curate.{lang}"]["kept"],
                "dropped_by": stages[f"curate.{lang}"]["dropped_by"],
                "codes": stages[f"curate.{lang}"]["codes"],
            }
            for lang in LANGUAGES
        },  # fmt: skip
        "training_data": {"splits": stages["data"]["splits"], "seed_data": stages["data"]["seed_data"]},
        "training": {mode: stages[f"train.{mode}"] for mode in MODES},
        "emptest": emptest,
        "verdict": verdict(emptest, stages["data"]),
        "examples": [
            {
                "language": lang,
                "message": text,
                "replies": {name: stages[f"bench.{name}"]["examples"][i] for name in specs},
            }
            for i, (lang, text) in enumerate(example_messages(config.examples_per_language))
        ],  # fmt: skip
        "stage_wall_s": {name: s["wall_s"] for name, s in stages.items()},
    }


def write_results(out_dir: Path, results: dict) -> None:
    from empllm.bench.run import write_json
    from empllm.demo.report import render_demo_report
    from empllm.jsonl_store import write_text_atomic

    write_json(out_dir / "results.json", results)
    write_text_atomic(out_dir / "report.html", render_demo_report(results))
