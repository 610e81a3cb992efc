"""results.json of a demo run: the funnel, the training data by source, the training runs, EmpTest
for the three models with paired deltas, the example replies, the stage times and a plain verdict.
The report (report.py) renders only numbers from this file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from empllm.bench.compare import compare_runs, load_run
from empllm.bench.records import TaskScore
from empllm.demo.config import MODES, DemoConfig
from empllm.demo.examples import example_messages

COMPARISONS = {  # name: (run A, run B, what B - A tests)
    "think_vs_base": ("base", "think", "fine-tuning with contemplation"),
    "drop_vs_base": ("base", "drop", "fine-tuning without contemplation"),
    "think_vs_drop": ("drop", "think", "the contemplation itself (same data, notes kept vs dropped)"),
}


def _metric_values(row: TaskScore) -> dict[str, dict]:
    """Every metric of one bench results row, each with its bootstrap interval."""
    if row.kind != "mc":
        return {"score": {"score": row.score, "interval": row.interval}}
    out = {"acc": {"score": row.score, "interval": row.interval},
           "acc_norm": {"score": row.acc_norm, "interval": row.acc_norm_interval}}  # fmt: skip
    if row.has("acc_mi"):
        out["acc_mi"] = {"score": row.acc_mi, "interval": row.acc_mi_interval}
    return out


def _rows(results: dict) -> dict[str, TaskScore]:
    """Bench rows pooled ("perceive") and per language ("perceive.en"), pooled first."""
    keys = sorted(results["tasks"], key=lambda k: (k.partition(".")[0], "." in k, k))
    return {k: results["tasks"][k] for k in keys}


def _significant(emptest: dict, name: str, rows: list[str]) -> list[tuple[str, str, dict]]:
    return [(row, metric, d) for row, metrics in emptest["deltas"][name].items() for metric, d in metrics.items()
            if d["significant"] and row in rows]  # fmt: skip


def headline_rows(rows) -> tuple[list[str], str]:
    """The rows a verdict is about, and how to say so: pooled over both languages, or, in a run of
    one language (--languages), that language's rows."""
    pooled = [r for r in rows if "." not in r]
    if pooled:
        return pooled, "pooled over both languages"
    return list(rows), "in " + ", ".join(sorted({r.partition(".")[2] for r in rows}))


def _say(row: str, metric: str, d: dict) -> str:
    return f"{row} {metric} {d['delta']:+.1f} [{d['interval'][0]:+.1f}, {d['interval'][1]:+.1f}]"


def verdict(emptest: dict, data: dict) -> list[str]:
    lines = []
    for name, (a, b, what) in COMPARISONS.items():
        rows = emptest["deltas"][name]
        headline, scope = headline_rows(rows)
        n_tests = sum(len(rows[r]) for r in headline)
        up = [x for x in _significant(emptest, name, headline) if x[2]["delta"] > 0]
        down = [x for x in _significant(emptest, name, headline) if x[2]["delta"] < 0]
        if not up and not down:
            lines.append(f"{b} vs {a} ({what}): no sub-task differs beyond noise on any metric, {scope}; "
                         f"all {n_tests} paired 95% intervals include zero.")  # fmt: skip
        else:
            parts = []
            if up:
                parts.append(f"{b} is higher beyond noise on {'; '.join(_say(*x) for x in up)}")
            if down:
                parts.append(f"{b} is lower beyond noise on {'; '.join(_say(*x) for x in down)}")
            lines.append(f"{b} vs {a} ({what}), {scope}: {'. '.join(parts)}. The other "
                         f"{n_tests - len(up) - len(down)} of {n_tests} paired intervals include zero.")  # fmt: skip
        by_lang = _significant(emptest, name, [r for r in rows if r not in headline])
        if by_lang:
            lines.append(f"  per language, beyond noise: {'; '.join(_say(*x) for x in by_lang)}.")
    fewest = min((r["n"] for r in emptest["rows"].values() if r.get("n") is not None), default=0)
    if fewest < 30:
        lines.append(f"Some rows rest on only {fewest} items (--bench-limit); intervals from so few items are "
                     "rough, and a difference called real here is worth rechecking on all items.")  # fmt: skip
    lines.append(
        "Each comparison tests every sub-task and metric; with this many intervals, one in about twenty "
        "would exclude zero by chance alone, so a single isolated difference is weak evidence."
    )
    seed = sum(split["seed"] for split in data["splits"].values())
    if seed:
        lines.append(f"The training data included {seed} hand-written seed sessions (--seed-data on), so a "
                     "difference between tuned and base models cannot be credited to simulation alone.")  # fmt: skip
    return lines


def build_results(config: DemoConfig, out_dir: Path, stages: dict, specs: dict[str, str]) -> dict:
    runs = {name: out_dir / "bench" / name for name in specs}
    emptest = {"models": specs, "rows": {}, "deltas": {}}
    for name, run_dir in runs.items():
        for key, row in _rows(load_run(run_dir)[0]).items():
            entry = emptest["rows"].setdefault(key, {"n": row.n, "chance": row.chance, "best": row.best,
                                                     "metrics": {}})  # fmt: skip
            for metric, values in _metric_values(row).items():
                entry["metrics"].setdefault(metric, {})[name] = values
    for cmp_name, (a, b, _) in COMPARISONS.items():
        rows = compare_runs(runs[a], runs[b], seed=config.seed)["tasks"]
        emptest["deltas"][cmp_name] = {
            key: {metric: {k: d[k] for k in ("delta", "interval", "n", "significant")}
                  for metric, d in rows[key]["metrics"].items()}
            for key in emptest["rows"] if key in rows
        }  # fmt: skip
    provenance = json.loads((out_dir / "run.json").read_text())
    return {
        "demo_version": 2,
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
            for lang in config.languages
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
            for i, (lang, text) in enumerate(example_messages(config.examples_per_language, config.languages))
        ],  # fmt: skip
        "stage_wall_s": {name: s["wall_s"] for name, s in stages.items()},
    }
