"""The contamination check: EmpTest items must never reach training data, prompts or exemplars."""

import json
from pathlib import Path

import pytest

from empllm.bench.contamination import N, find_in_files, find_in_text
from empllm.bench.items import CANARY, load_mc_items
from empllm.bench.registry import items_dir
from empllm.errors import EmpLLMError


def _item(task: str, lang: str, i: int = 0):
    return load_mc_items(items_dir() / f"{task}.{lang}.jsonl")[i]


def test_thirteen_words_in_a_row_are_found_and_twelve_are_not():
    item = _item("respond_mc", "en")
    words = item.options[item.gold].split()
    assert len(words) > N
    hit = find_in_text("The counselor said: " + " ".join(words[:N]) + " and then paused.", "x:1")
    assert hit is not None and hit.item == item.id
    assert find_in_text("The counselor said: " + " ".join(words[: N - 1]) + " and then paused.", "x:1") is None


def test_thirteen_chinese_characters_are_found_across_punctuation_and_twelve_are_not():
    item = _item("perceive", "zh", 3)
    chars = [c for c in item.scenario if "\u4e00" <= c <= "\u9fff"]
    assert len(chars) > N
    spaced = "，".join(["".join(chars[:5]), "".join(chars[5:N])])  # punctuation between does not hide it
    assert find_in_text("咨询师：" + spaced, "x:1").item == item.id
    assert find_in_text("咨询师：" + "".join(chars[: N - 1]), "x:1") is None


def test_the_canary_is_found(tmp_path: Path):
    data = tmp_path / "train.jsonl"
    clean = {"messages": [{"role": "user", "content": "I lost my job last week."}]}
    leaked = {"messages": [{"role": "user", "content": f"note: {CANARY}"}]}
    data.write_text(json.dumps(clean) + "\n" + json.dumps(leaked) + "\n")
    found = find_in_files([data])
    assert [(f.item, f.where) for f in found] == [("canary", f"{data}:2")]


def test_the_demo_stops_before_training_on_an_item(tmp_path: Path):
    from empllm.demo.pipeline import check_contamination

    item = _item("manage", "en", 5)
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "assistant", "content": item.scenario}]}) + "\n")
    with pytest.raises(EmpLLMError, match=item.id):
        check_contamination([data])
    data.write_text(json.dumps({"messages": [{"role": "assistant", "content": "How are you feeling?"}]}) + "\n")
    check_contamination([data])


def test_no_item_is_in_the_shipped_prompts_or_exemplars():
    import empllm.prompts
    import empllm.simulate

    shipped = Path(empllm.prompts.__file__).parent.rglob("*.j2")
    exemplars = (Path(empllm.simulate.__file__).parent / "exemplars").glob("*.yaml")
    assert find_in_files(sorted([*shipped, *exemplars])) == []
