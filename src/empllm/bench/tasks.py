"""Which items each EmpTest task runs, per language: the units the runner schedules and reports.
What the tasks are is declared in `registry.py`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from empllm.bench.kinds import kind_of
from empllm.bench.registry import get_task, registered_tasks, task_names
from empllm.errors import EmpLLMError


def mc_tasks() -> list[str]:
    """The built-in multiple-choice sub-tasks."""
    return task_names(kind="mc", builtin=True, external=False)


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
        return get_task(self.task).kind


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def default_tasks() -> list[str]:
    return task_names(default=True)


def parse_task_list(tasks: str) -> list[str]:
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    known = registered_tasks()
    unknown = [t for t in names if t not in known]
    if unknown:
        raise EmpLLMError(f"unknown task {unknown[0]!r}; known: {', '.join(known)}")
    if not names:
        raise EmpLLMError("--tasks names no task")
    return names


def load_units(tasks: list[str], language: str, *, data: Path | None, limit: int | None) -> list[TaskUnit]:
    units: list[TaskUnit] = []
    langs = ("en", "zh") if language == "all" else (language,)
    for task in tasks:
        spec = get_task(task)
        if spec.external:
            if data is None:
                raise EmpLLMError(f"--task {task} needs --data FILE (the benchmark's own file; EmpLLM ships none)")
            items = spec.read_external(data)
            for lang in sorted({it.language for it in items}):
                if language in ("all", lang):
                    units.append(TaskUnit(task, lang, [it for it in items if it.language == lang], str(data)))
            continue
        kind = kind_of(spec.kind)
        for lang in langs:
            if kind.own_items is not None:
                items, source = kind.own_items(lang)
            else:
                path = spec.item_file(lang)
                if spec.folder is not None and not path.is_file():
                    continue  # an included task may come in one language only
                items, source = spec.read_items(path), str(path)
            units.append(TaskUnit(task, lang, items, source))
    if not units:
        raise EmpLLMError(f"no items for tasks {', '.join(tasks)} in language {language!r}")
    for unit in units:
        unit.items = unit.items[:limit] if limit else unit.items
    return units
