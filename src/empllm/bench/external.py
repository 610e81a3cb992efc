"""Loaders for external benchmarks the user brings (their data is never shipped): EQ-Bench v2 and
EmoBench (EU and EA). They become the same item shapes as EmpTest's own sub-tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from empllm.errors import EmpLLMError
from empllm.jsonl_store import read_jsonl


@dataclass(frozen=True)
class RatingItem:
    """Rate named emotions 0-10 (EmpTest `intensity`, EQ-Bench v2)."""

    id: str
    language: str
    prompt: str  # everything the model reads before its ratings
    emotions: list[str]
    reference: list[float]


@dataclass(frozen=True)
class ChoiceItem:
    """One multiple-choice question (EmoBench parts); mirrors the fields of MCItem the scorers use."""

    id: str
    language: str
    scenario: str
    question: str
    options: list[str]
    gold: int
    parts: list[ChoiceItem] = field(default_factory=list)  # EmoBench EU: emotion and cause, both must be right


def _read_json(path: Path, what: str):
    if not path.is_file():
        raise EmpLLMError(f"{what} file {path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmpLLMError(f"{what} file {path} is not valid JSON ({exc})") from None


def _number(value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise EmpLLMError(f"{where}: {value!r} is not a number") from None


def load_eqbench(path: Path) -> list[RatingItem]:
    data = _read_json(path, "EQ-Bench")
    if not isinstance(data, dict) or not data:
        raise EmpLLMError(f"EQ-Bench file {path}: expected a JSON object keyed by question id")
    items = []
    for qid, q in data.items():
        where = f"EQ-Bench file {path} question {qid}"
        if not isinstance(q, dict) or "prompt" not in q or "reference_answer_fullscale" not in q:
            raise EmpLLMError(f"{where}: needs 'prompt' and 'reference_answer_fullscale'")
        ref = q["reference_answer_fullscale"]
        try:
            emotions = [str(ref[f"emotion{i}"]) for i in range(1, 5)]
            scores = [_number(ref[f"emotion{i}_score"], where) for i in range(1, 5)]
        except KeyError as exc:
            raise EmpLLMError(f"{where}: reference_answer_fullscale lacks {exc.args[0]}") from None
        items.append(RatingItem(id=f"eqbench-{qid}", language="en", prompt=str(q["prompt"]), emotions=emotions,
                                reference=scores))  # fmt: skip
    return items


def _jsonl(path: Path, what: str) -> list[tuple[int, dict]]:
    """(record number, record) pairs; a broken line is an error naming the file and line."""
    if not path.is_file():
        raise EmpLLMError(f"{what} file {path} does not exist")
    rows = list(enumerate(read_jsonl(path), 1))
    if not rows:
        raise EmpLLMError(f"{what} file {path} holds no items")
    return rows


def _gold(label, choices: list[str], where: str) -> int:
    if isinstance(label, int) and 0 <= label < len(choices):
        return label
    if isinstance(label, str) and label in choices:
        return choices.index(label)
    raise EmpLLMError(f"{where}: label {label!r} is not one of the choices")


def _field(row: dict, key: str, where: str):
    if key not in row:
        raise EmpLLMError(f"{where}: missing field {key!r}")
    return row[key]


def _language(row: dict) -> str:
    lang = str(row.get("language", "en")).lower()
    return "zh" if lang.startswith(("zh", "ch")) else "en"


QUESTIONS = {
    "emotion": {
        "en": "What emotion would {s} ultimately feel in this situation?",
        "zh": "在这种情况下，{s}最终会有什么情绪？",
    },
    "cause": {"en": "Why would {s} feel this way?", "zh": "{s}为什么会有这样的情绪？"},
    "action": {
        "en": "In this scenario, what is the most effective response for {s}?",
        "zh": "在这种情况下，{s}最有效的做法是什么？",
    },
}


def load_emobench_eu(path: Path) -> list[ChoiceItem]:
    items = []
    for lineno, row in _jsonl(path, "EmoBench EU"):
        where = f"EmoBench EU file {path} record {lineno}"
        lang, subject = _language(row), str(_field(row, "subject", where))
        qid, scenario = str(_field(row, "qid", where)), str(_field(row, "scenario", where))
        parts = []
        for part in ("emotion", "cause"):
            choices = [str(c) for c in _field(row, f"{part}_choices", where)]
            gold = _gold(_field(row, f"{part}_label", where), choices, where)
            question = QUESTIONS[part][lang].format(s=subject)
            parts.append(ChoiceItem(f"emobench_eu-{lang}-{qid}-{part}", lang, scenario, question, choices, gold))
        items.append(ChoiceItem(f"emobench_eu-{lang}-{qid}", lang, scenario, parts[0].question, parts[0].options,
                                parts[0].gold, parts))  # fmt: skip
    return _unique_ids(items, path)


def load_emobench_ea(path: Path) -> list[ChoiceItem]:
    items = []
    for lineno, row in _jsonl(path, "EmoBench EA"):
        where = f"EmoBench EA file {path} record {lineno}"
        lang, subject = _language(row), str(_field(row, "subject", where))
        choices = [str(c) for c in _field(row, "choices", where)]
        gold = _gold(_field(row, "label", where), choices, where)
        items.append(ChoiceItem(f"emobench_ea-{lang}-{_field(row, 'qid', where)}", lang,
                                str(_field(row, "scenario", where)), QUESTIONS["action"][lang].format(s=subject),
                                choices, gold))  # fmt: skip
    return _unique_ids(items, path)


def _unique_ids(items: list[ChoiceItem], path: Path) -> list[ChoiceItem]:
    """EmoBench numbers its English and Chinese halves 1..N each, so an id carries the language;
    two records that still share one would mix up recorded responses and resume."""
    seen = set()
    for item in items:
        if item.id in seen:
            raise EmpLLMError(f"EmoBench file {path}: two records give the item id {item.id} (same qid and language)")
        seen.add(item.id)
    return items
