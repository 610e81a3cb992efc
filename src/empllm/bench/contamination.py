"""Is any EmpTest item in a training file? By the canary string, or by an overlap of 13 or more
consecutive words (English) or 13 consecutive characters (Chinese) with any item's text.

Thirteen follows the n-gram overlap used in decontamination studies of GPT-3 and later models:
long enough that shared everyday phrases do not match, short enough to catch a copied sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from empllm.bench.items import CANARY
from empllm.jsonl_store import iter_jsonl

N = 13
_WORD = re.compile(r"[a-z0-9']+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _word_grams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + N]) for i in range(len(words) - N + 1)}


def _char_grams(text: str) -> set[str]:
    chars = "".join(_CJK.findall(text))
    return {chars[i : i + N] for i in range(len(chars) - N + 1)}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


@dataclass(frozen=True)
class Finding:
    where: str  # file and line
    item: str  # the EmpTest item id, or "canary"
    overlap: str  # the shared text


@cache
def _item_index() -> tuple[dict, dict]:
    """13-grams of every shipped item's text -> the item's id."""
    from empllm.bench.registry import items_dir

    words: dict[tuple[str, ...], str] = {}
    chars: dict[str, str] = {}
    for path in sorted(items_dir().glob("*.jsonl")):
        for _, row in iter_jsonl(path):
            if "id" not in row:
                continue
            for text in _strings({k: v for k, v in row.items() if k not in ("id", "source")}):
                words.update(dict.fromkeys(_word_grams(text), row["id"]))
                chars.update(dict.fromkeys(_char_grams(text), row["id"]))
    return words, chars


def find_in_text(text: str, where: str) -> Finding | None:
    if CANARY in text or "EMPTEST CANARY" in text:
        return Finding(where, "canary", "EMPTEST CANARY")
    words, chars = _item_index()
    for gram in _word_grams(text):
        if gram in words:
            return Finding(where, words[gram], " ".join(gram))
    for gram in _char_grams(text):
        if gram in chars:
            return Finding(where, chars[gram], gram)
    return None


def find_in_files(paths: list[Path]) -> list[Finding]:
    """The first overlap of each line of each file (every line is read as text)."""
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if hit := find_in_text(line, f"{path}:{number}"):
                found.append(hit)
    return found
