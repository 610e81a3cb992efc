"""What a demo run is: its models, sizes and seed. Two presets: the default (about 20 minutes on 2
CPU cores) and --quick (a smoke run of every stage in about 4 minutes); any size can be overridden
for a real-scale run (see docs/demo.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from empllm.bench.registry import closed_builtin_tasks, task_names
from empllm.provenance import stable_hash

LANGUAGES = ("en", "zh")
MODES = ("think", "drop")  # the contemplation kept as <think>, or dropped (the ablation)


class DemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = "llamacpp:gemma-3-270m"  # plays client and psychologist in simulation
    base: str = "hf:gemma-3-270m"  # fine-tuned, and measured as the baseline
    # how EmpTest scores a GGUF base and its adapters: llama.cpp (adapters converted) or transformers
    bench_backend: Literal["llamacpp", "hf"] = "llamacpp"
    judge: str | None = None  # a chat model for the judged EmpTest tasks (off: closed tasks only)
    seed_data: bool = False  # also train on the hand-written exemplar sessions
    seed: int = 0
    languages: list[Literal["en", "zh"]] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    sessions_per_language: int = Field(ge=1)
    max_turns: int = Field(ge=2)
    exemplars: int = Field(ge=0)  # few-shot sessions in each base-model simulation prompt
    train_steps: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    max_length: int = Field(ge=64)
    bench_limit: int = Field(ge=0)  # items per sub-task and language; 0: all of them
    calibrate: bool  # also score options after a bare answer cue (acc_mi); doubles the scoring work
    tasks: list[str] = Field(min_length=1)  # the EmpTest sub-tasks measured (closed: scored by log-likelihood)
    examples_per_language: int = Field(ge=0)
    example_max_tokens: int = Field(ge=8)

    @field_validator("languages")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a language is named twice")
        return value

    @property
    def bench_language(self) -> str:
        return self.languages[0] if len(self.languages) == 1 else "all"

    @property
    def bench_tasks(self) -> list[str]:
        # a judge adds the judged replies; `session` is left to `empllm bench` (minutes per item)
        return list(self.tasks) + (task_names(kind="respond", builtin=True) if self.judge else [])

    def hash(self) -> str:
        return stable_hash(self.model_dump())


PRESETS = {
    # measured on 2 cores: see docs/demo.md for each stage's wall time
    # The default scores every item of two sub-tasks (120 each, both languages) on three models, with
    # acc_mi: scoring costs about 1 s an item on 2 cores, so all six closed sub-tasks (720 items)
    # would take some 40 minutes; --tasks adds the others (docs/demo.md).
    "default": dict(sessions_per_language=8, max_turns=4, exemplars=2, train_steps=24, batch_size=2, max_length=384,
                    bench_limit=0, calibrate=True, tasks=["perceive", "respond_mc"], examples_per_language=1,
                    example_max_tokens=96),
    "quick": dict(sessions_per_language=1, max_turns=2, exemplars=1, train_steps=3, batch_size=2, max_length=192,
                  bench_limit=1, calibrate=True, tasks=closed_builtin_tasks(), examples_per_language=1,
                  example_max_tokens=48),
}  # fmt: skip


def demo_config(quick: bool, **overrides) -> DemoConfig:
    values = dict(PRESETS["quick" if quick else "default"])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return DemoConfig(**values)
