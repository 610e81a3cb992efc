"""EmpTest items: the schema, the loader, and the artifact baselines the audit checks.

Item files are `items/<subtask>.<language>.jsonl`. The first line of each file is the canary
record {"canary": CANARY}; every other line is one item.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from empllm.errors import EmpLLMError, first_problem
from empllm.types import Language, RiskLevel

CANARY = "EMPTEST CANARY 6b1e0d4c-2f57-4a8e-9c31-empllm: not for training data"
T = TypeVar("T", bound=BaseModel)


class ItemBase(BaseModel):
    """What every EmpTest item has: an id like `<subtask>-<lang>-NNN`, a rationale and a source."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z_]+-(en|zh)-\d{3}$")
    language: Language
    rationale: str = Field(min_length=10)  # one line: why the gold answer is right
    source: str = "written for EmpTest"

    @model_validator(mode="after")
    def _id_names_subtask_and_language(self):
        prefix = f"{self.subtask}-{self.language}-"  # every subclass declares subtask
        if not self.id.startswith(prefix):
            raise ValueError(f"id {self.id} should start with {prefix}")
        return self


class MCItem(ItemBase):
    """A multiple-choice item: a situation, a question, 4-6 options, one gold answer."""

    subtask: str = Field(pattern=r"^[a-z][a-z_]*$")  # a registered mc task (bench/registry.py)
    scenario: str = Field(min_length=20)
    question: str = Field(min_length=5)
    options: list[str] = Field(min_length=4, max_length=6)
    gold: int = Field(ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> MCItem:
        if self.gold >= len(self.options):
            raise ValueError(f"gold {self.gold} is not an option index (0..{len(self.options) - 1})")
        if len({o.strip() for o in self.options}) != len(self.options):
            raise ValueError("options repeat")
        return self


class IntensityItem(ItemBase):
    """EQ-Bench-style: after a short dialogue, rate four named emotions of one character 0-10."""

    subtask: Literal["intensity"] = "intensity"
    dialogue: str = Field(min_length=40)  # a few "Name: line" turns
    character: str = Field(min_length=1)  # whose emotions are rated
    emotions: list[str] = Field(min_length=4, max_length=4)
    reference: list[int] = Field(min_length=4, max_length=4)  # 0-10 per emotion, same order

    @model_validator(mode="after")
    def _consistent(self) -> IntensityItem:
        if any(not 0 <= r <= 10 for r in self.reference):
            raise ValueError("reference ratings must be 0..10")
        if len({e.strip().lower() for e in self.emotions}) != 4:
            raise ValueError("emotions repeat")
        return self


class RespondGenItem(ItemBase):
    """An open reply to a help-seeker's message, scored by a judge against the rubric."""

    subtask: Literal["respond_gen"] = "respond_gen"
    context: str = ""  # optional earlier turns or background, shown before the message
    message: str = Field(min_length=20)  # what the help-seeker writes
    risk_level: RiskLevel = RiskLevel.none
    key_points: list[str] = Field(min_length=2)  # what a good reply notices or does (the judge's guide)
    reference_reply: str = Field(min_length=20)  # one good reply, written here (the "gold answer")


def load_item_file(path: Path, schema: type[T]) -> list[T]:
    """Every item in a canary-headed JSONL file, validated against `schema`; ids must be unique."""
    if not path.is_file():
        raise EmpLLMError(f"item file {path} does not exist")
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    try:
        header = json.loads(lines[0]) if lines else {}
    except json.JSONDecodeError:
        header = {}
    if not isinstance(header, dict) or header.get("canary") != CANARY:
        raise EmpLLMError(f'{path}: the first line must be the canary record {{"canary": "{CANARY}"}}')
    items, seen = [], set()
    for lineno, line in enumerate(lines[1:], 2):
        try:
            item = schema.model_validate_json(line)
        except ValidationError as exc:
            field, message = first_problem(exc)
            raise EmpLLMError(f"{path} line {lineno}: {field or 'item'}: {message}") from None
        if item.id in seen:
            raise EmpLLMError(f"{path} line {lineno}: duplicate id {item.id}")
        seen.add(item.id)
        items.append(item)
    return items


def load_mc_items(path: Path) -> list[MCItem]:
    return load_item_file(path, MCItem)


# -- artifact baselines: a model that only looks at surface features must score near chance ------

_WORD = re.compile(r"[A-Za-z']+|[\u4e00-\u9fff]")
POSITIVE = {
    "en": {"good", "great", "happy", "glad", "love", "wonderful", "hope", "better", "positive", "proud", "amazing",
           "grateful", "calm", "joy", "excited", "support", "care", "understand", "safe", "together"},
    "zh": {"好", "棒", "乐", "爱", "喜", "希", "望", "感", "谢", "安", "暖", "支", "持", "理", "解", "陪", "开", "心"},
}  # fmt: skip


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _pick(scores: list[float]) -> int:
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


ARTIFACTS = ("longest_option", "shortest_option", "most_overlap", "most_positive")


def artifact_baselines(items: list[MCItem]) -> dict[str, float]:
    """Accuracy (%) of surface heuristics, and chance (%), over the items."""
    if not items:
        return {}
    longest = shortest = overlap = positive = 0
    for it in items:
        longest += _pick([len(o) for o in it.options]) == it.gold
        shortest += _pick([-len(o) for o in it.options]) == it.gold
        context = set(_words(it.scenario + " " + it.question))
        overlap += _pick([len(context & set(_words(o))) for o in it.options]) == it.gold
        lexicon = POSITIVE[it.language]
        positive += _pick([sum(w in lexicon for w in _words(o)) for o in it.options]) == it.gold
    n = len(items)
    return {
        "chance": round(100 * sum(1 / len(it.options) for it in items) / n, 1),
        "longest_option": round(100 * longest / n, 1),
        "shortest_option": round(100 * shortest / n, 1),
        "most_overlap": round(100 * overlap / n, 1),
        "most_positive": round(100 * positive / n, 1),
    }


def gold_positions(items: list[MCItem]) -> dict[int, int]:
    return dict(sorted(Counter(it.gold for it in items).items()))
