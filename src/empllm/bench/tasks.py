"""Which items each EmpTest task runs: the shipped sub-tasks (en + zh) and the external files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from empllm.bench import external
from empllm.bench.items import IntensityItem, RespondGenItem, load_item_file, load_mc_items
from empllm.errors import EmpLLMError
from empllm.prompts import render

MC_TASKS = ("perceive", "understand", "manage", "respond_mc", "safety")
SHIPPED_TASKS = ("perceive", "intensity", "understand", "manage", "respond_mc", "safety", "respond_gen", "session")
JUDGED_TASKS = ("respond_gen", "session")
EXTERNAL_TASKS = ("eqbench", "emobench_eu", "emobench_ea")
KIND = {**{t: "mc" for t in MC_TASKS}, "intensity": "rating", "respond_gen": "respond", "session": "session",
        "eqbench": "rating", "emobench_eu": "mc", "emobench_ea": "mc"}  # fmt: skip


@dataclass
class TaskUnit:
    """One task in one language: what the runner schedules, scores and reports as a row."""

    task: str
    language: str
    items: list
    source: str  # the item file (its hash goes into results.json)

    @property
    def name(self) -> str:
        return f"{self.task}.{self.language}"

    @property
    def kind(self) -> str:
        return KIND[self.task]


def items_dir() -> Path:
    return Path(str(files("empllm.bench").joinpath("items")))


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def rating_items(items: list[IntensityItem]) -> list[external.RatingItem]:
    return [external.RatingItem(it.id, it.language, render("bench_intensity", it.language, item=it, ask_format=True),
                                list(it.emotions), [float(r) for r in it.reference]) for it in items]  # fmt: skip


def parse_task_list(tasks: str) -> list[str]:
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    known = SHIPPED_TASKS + EXTERNAL_TASKS
    unknown = [t for t in names if t not in known]
    if unknown:
        raise EmpLLMError(f"unknown task {unknown[0]!r}; known: {', '.join(known)}")
    if not names:
        raise EmpLLMError("--tasks names no task")
    return names


def load_units(tasks: list[str], language: str, *, data: Path | None, limit: int | None) -> list[TaskUnit]:
    from empllm.bench.session_task import eval_persona_files, eval_personas

    units: list[TaskUnit] = []
    langs = ("en", "zh") if language == "all" else (language,)
    for task in tasks:
        if task in EXTERNAL_TASKS:
            if data is None:
                raise EmpLLMError(f"--task {task} needs --data FILE (the benchmark's own file; EmpLLM ships none)")
            loader = {"eqbench": external.load_eqbench, "emobench_eu": external.load_emobench_eu,
                      "emobench_ea": external.load_emobench_ea}[task]  # fmt: skip
            items = loader(data)
            for lang in sorted({it.language for it in items}):
                if language in ("all", lang):
                    units.append(TaskUnit(task, lang, [it for it in items if it.language == lang], str(data)))
            continue
        for lang in langs:
            if task == "session":
                items = [p for p in eval_personas() if p.language == lang]
                source = str(next(p for p in eval_persona_files() if p.stem.endswith(lang)))
            else:
                path = items_dir() / f"{task}.{lang}.jsonl"
                source = str(path)
                if task == "intensity":
                    items = rating_items(load_item_file(path, IntensityItem))
                elif task == "respond_gen":
                    items = load_item_file(path, RespondGenItem)
                else:
                    items = load_mc_items(path)
            units.append(TaskUnit(task, lang, items, source))
    if not units:
        raise EmpLLMError(f"no items for tasks {', '.join(tasks)} in language {language!r}")
    for unit in units:
        unit.items = unit.items[:limit] if limit else unit.items
    return units
