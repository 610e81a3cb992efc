"""The EmpTest task registry: one declaration per sub-task, which everything else iterates.

A declaration (`TaskSpec`) names the sub-task and its kind. The kind (`kinds.py`: mc, rating,
respond, session, or one from another package) decides how its items are read, scored and
aggregated.

Where tasks come from:
- the built-in sub-tasks and the external benchmarks below;
- a folder of YAML declarations (`empllm bench --include-path DIR`), each beside its item files
  `<task>.<lang>.jsonl`. A new multiple-choice sub-task is its item files plus one file:

      task: comfort_mc
      kind: mc
      description: Which reply comforts best.

- another package, through the entry-point group `empllm.tasks` (a name -> a TaskSpec).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from empllm.bench import external
from empllm.bench.items import load_item_file
from empllm.bench.kinds import kind_of, task_kinds
from empllm.errors import EmpLLMError, first_problem
from empllm.plugins import plugin_entries
from empllm.yaml_io import parse_yaml

ENTRY_POINT_GROUP = "empllm.tasks"


def items_dir() -> Path:
    return Path(str(files("empllm.bench").joinpath("items")))


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kind: str
    description: str = ""
    folder: Path | None = None  # its <name>.<lang>.jsonl files; None: EmpLLM's shipped items
    default: bool = True  # run by `empllm bench` when --tasks is not given
    builtin: bool = False  # shipped with EmpLLM (the exports and the audit cover these)
    # an external benchmark reads the user's own file (--data) instead of item files
    read_external: Callable[[Path], list] | None = field(default=None, repr=False)

    @property
    def external(self) -> bool:
        return self.read_external is not None

    @property
    def schema(self) -> type[BaseModel] | None:
        return None if self.external else kind_of(self.kind).schema

    def item_file(self, language: str) -> Path:
        return (self.folder or items_dir()) / f"{self.name}.{language}.jsonl"

    def load_file(self, path: Path) -> list:
        """The validated items of one of its files; each must name this task."""
        if self.schema is None:
            raise EmpLLMError(f"{path}: task {self.name!r} has no item files")
        items = load_item_file(path, self.schema)
        stray = next((it for it in items if it.subtask != self.name), None)
        if stray is not None:
            raise EmpLLMError(f"{path}: item {stray.id} is of sub-task {stray.subtask!r}, not {self.name!r}")
        return items

    def read_items(self, path: Path) -> list:
        """The items of one file as the scorer of its kind reads them."""
        items = self.load_file(path)
        return kind_of(self.kind).scorer_items(items)


def _shipped(name: str, kind: str, description: str) -> TaskSpec:
    return TaskSpec(name, kind, description, builtin=True)


def _external(name: str, kind: str, reader: Callable[[Path], list], description: str) -> TaskSpec:
    return TaskSpec(name, kind, description, default=False, builtin=True, read_external=reader)


_BUILTIN: dict[str, TaskSpec] = {spec.name: spec for spec in (
    _shipped("perceive", "mc", "which emotion a person feels"),
    _shipped("intensity", "rating", "rate four emotions of a character 0-10 (EQ-Bench style)"),
    _shipped("understand", "mc", "why a person feels as they do"),
    _shipped("manage", "mc", "the most effective way to handle a feeling"),
    _shipped("respond_mc", "mc", "the most helpful and empathic reply"),
    _shipped("safety", "mc", "the safe reply to a person at risk"),
    _shipped("respond_gen", "respond", "an open reply, judged against a rubric"),
    _shipped("session", "session", "a whole session with a simulated client, judged"),
    _external("eqbench", "rating", external.load_eqbench, "EQ-Bench v2 (the user's file)"),
    _external("emobench_eu", "mc", external.load_emobench_eu, "EmoBench emotional understanding (the user's file)"),
    _external("emobench_ea", "mc", external.load_emobench_ea, "EmoBench emotional application (the user's file)"),
)}  # fmt: skip
_INCLUDED: dict[str, TaskSpec] = {}


class TaskDeclaration(BaseModel):
    """One YAML file of `--include-path`: a sub-task whose item files lie beside it."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(pattern=r"^[a-z][a-z_]*$")  # as item ids spell it
    kind: str
    description: str = ""
    default: bool = False  # also run when --tasks is not given

    @field_validator("kind")
    @classmethod
    def _kind_with_item_files(cls, kind: str) -> str:
        known = [name for name, k in task_kinds().items() if k.schema is not None]
        if kind not in known:
            raise ValueError(f"unknown kind {kind!r}; a declared task has item files, so one of {', '.join(known)}")
        return kind


def include_path(folder: Path) -> list[str]:
    """Register every task declared by a *.yaml file in `folder`; returns their names."""
    if not folder.is_dir():
        raise EmpLLMError(f"--include-path {folder}: not a folder")
    names = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            declared = TaskDeclaration.model_validate(parse_yaml(path.read_text(encoding="utf-8"), str(path)) or {})
        except ValidationError as exc:
            where, message = first_problem(exc)
            raise EmpLLMError(f"{path}: {where or 'declaration'}: {message}") from None
        if declared.task in _BUILTIN:
            raise EmpLLMError(f"{path}: task {declared.task!r} is built in; choose another name")
        spec = TaskSpec(declared.task, declared.kind, declared.description, folder=folder, default=declared.default)
        if not any(spec.item_file(lang).is_file() for lang in ("en", "zh")):
            raise EmpLLMError(f"{path}: no item file {declared.task}.en.jsonl or {declared.task}.zh.jsonl beside it")
        _INCLUDED[spec.name] = spec
        names.append(spec.name)
    if not names:
        raise EmpLLMError(f"--include-path {folder}: no *.yaml task declaration in it")
    return names


def task_of_file(path: Path) -> TaskSpec:
    """The registered task an item file `<task>.<lang>.jsonl` belongs to."""
    return get_task(path.name.split(".")[0])


def registered_tasks() -> dict[str, TaskSpec]:
    """Built in, then from --include-path, then from other packages (entry points)."""
    return plugin_entries(ENTRY_POINT_GROUP, {**_BUILTIN, **_INCLUDED})


def get_task(name: str) -> TaskSpec:
    tasks = registered_tasks()
    if name not in tasks:
        raise EmpLLMError(f"unknown task {name!r}; known: {', '.join(tasks)}")
    return tasks[name]


def closed_builtin_tasks() -> list[str]:
    """The built-in sub-tasks scored without a judge or a user's file: multiple choice, then ratings."""
    return [n for kind in ("mc", "rating") for n in task_names(kind=kind, builtin=True, external=False)]


def task_names(*, kind: str | None = None, builtin: bool | None = None, default: bool | None = None,
               external: bool | None = None) -> list[str]:  # fmt: skip
    """Registered task names, in declaration order, filtered by whichever properties are given."""
    wanted = {"kind": kind, "builtin": builtin, "default": default, "external": external}
    return [spec.name for spec in registered_tasks().values()
            if all(value is None or getattr(spec, key) == value for key, value in wanted.items())]  # fmt: skip
