import json

import pytest

from empllm.bench.items import ARTIFACTS, CANARY, MCItem, artifact_baselines, gold_positions, load_mc_items
from empllm.errors import EmpLLMError


def item(i, gold, options, scenario="Mara's sister forgot her birthday again this year.", lang="en"):
    return MCItem(id=f"perceive-{lang}-{i:03d}", language=lang, subtask="perceive", scenario=scenario,
                  question="What is Mara most likely feeling?", options=options, gold=gold,
                  rationale="A pattern of being overlooked.")  # fmt: skip


def write(path, items, canary=True):
    lines = ([json.dumps({"canary": CANARY})] if canary else []) + [i.model_dump_json() for i in items]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_planted_length_artifact_is_caught():
    planted = [item(i, i % 4, [("hurt and overlooked by her sister" if j == i % 4 else w)
                               for j, w in enumerate(["joy", "anger", "calm", "fear"])]) for i in range(8)]  # fmt: skip
    base = artifact_baselines(planted)
    assert base["longest_option"] == 100.0 and base["chance"] == 25.0
    assert gold_positions(planted) == {0: 2, 1: 2, 2: 2, 3: 2}


def test_balanced_items_sit_near_chance():
    words = ["hurt", "bored", "proud", "tense"]
    balanced = [item(i, i % 4, words) for i in range(8)]
    base = artifact_baselines(balanced)
    assert abs(base["longest_option"] - base["chance"]) <= 25  # ties go to the first option


def test_loader_needs_the_canary_and_valid_items(tmp_path):
    good = [item(1, 0, ["hurt", "bored", "proud", "tense"])]
    assert load_mc_items(write(tmp_path / "a.jsonl", good))[0].gold == 0
    with pytest.raises(EmpLLMError, match="canary"):
        load_mc_items(write(tmp_path / "b.jsonl", good, canary=False))
    bad = tmp_path / "c.jsonl"
    bad.write_text(
        json.dumps({"canary": CANARY}) + "\n" + good[0].model_dump_json().replace('"gold":0', '"gold":9') + "\n"
    )
    with pytest.raises(EmpLLMError, match="line 2"):
        load_mc_items(bad)
    with pytest.raises(ValueError, match="should start with"):
        MCItem(id="manage-en-001", language="en", subtask="perceive", scenario="x" * 30, question="What now?",
               options=["a", "b", "c", "d"], gold=0, rationale="because it is")  # fmt: skip


def test_shipped_items_pass_the_artifact_checks():
    from importlib.resources import files
    from pathlib import Path

    folder = Path(str(files("empllm.bench").joinpath("items")))
    expected = {"perceive": 60, "understand": 60, "manage": 60, "respond_mc": 60, "safety": 60}
    ids = set()
    for subtask, count in expected.items():
        for lang in ("en", "zh"):
            items = load_mc_items(folder / f"{subtask}.{lang}.jsonl")
            assert len(items) >= count and {i.language for i in items} == {lang}
            ids |= {i.id for i in items}
            base = artifact_baselines(items)
            for key in ARTIFACTS:
                assert abs(base[key] - base["chance"]) <= 10, (subtask, lang, key, base)
            positions = gold_positions(items)
            assert max(positions.values()) - min(positions.values()) <= 2, (subtask, lang, positions)
    assert len(ids) == 2 * sum(expected.values())
