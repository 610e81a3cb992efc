import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from empllm.contemplation_text import parse_contemplation_text, split_think
from empllm.errors import EmpLLMError
from empllm.export import export_dataset, split_by_persona

from .curate.sessions import GOOD_EN, make_session

EMPLLM = str(Path(sys.executable).parent / "empllm")


@pytest.fixture
def curated(tmp_path):
    sessions = [make_session(sid=f"en{i}", persona_id=f"p-en-{i % 3}") for i in range(6)]
    sessions += [make_session(lang="zh", sid=f"zh{i}", persona_id=f"p-zh-{i % 2}") for i in range(4)]
    folder = tmp_path / "curated"
    folder.mkdir()
    (folder / "sessions.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in sessions))
    return folder, {s.id: s for s in sessions}


def test_split_keeps_each_persona_on_one_side(curated):
    _, by_id = curated
    splits = split_by_persona(list(by_id.values()), 0.3, seed=1)
    train = {s.persona_id for s in splits["train"]}
    val = {s.persona_id for s in splits["validation"]}
    assert train and val and not train & val
    assert len(splits["train"]) + len(splits["validation"]) == 10


@pytest.mark.parametrize("mode", ["drop", "think", "field"])
def test_openai_jsonl_round_trip(curated, tmp_path, mode):
    folder, by_id = curated
    out = tmp_path / "out"
    info = export_dataset(folder, out, fmt="openai", mode=mode, validation=0.3)
    rows = [
        json.loads(line)
        for split in ("train", "validation")
        for line in (out / f"{split}.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 10 == sum(info["sessions"].values())
    originals = sorted(by_id.values(), key=lambda s: s.id)
    for row in rows:
        msgs = row["messages"]
        source = next(
            s
            for s in originals
            if [m["content"] for m in msgs if m["role"] == "user"]
            == [t.content for t in s.turns if t.role == "client"][: len([m for m in msgs if m["role"] == "user"])]
        )
        replies = [t for t in source.turns if t.role == "psychologist"]
        assistants = [m for m in msgs if m["role"] == "assistant"]
        assert [m["role"] for m in msgs] == ["user", "assistant"] * (len(msgs) // 2)  # trailing client turn dropped
        for m, turn in zip(assistants, replies, strict=True):
            if mode == "think":
                notes, reply = split_think(m["content"])
                assert reply == turn.content and parse_contemplation_text(notes) == turn.contemplation
            elif mode == "field":
                assert m["content"] == turn.content and parse_contemplation_text(m["reasoning"]) == turn.contemplation
            else:
                assert m["content"] == turn.content and "reasoning" not in m and "<think>" not in m["content"]
    card = (out / "README.md").read_text()
    assert "reflection_of_feelings" in card and "Split by persona" in card


@pytest.mark.parametrize("fmt", ["openai", "hf"])
def test_the_card_front_matter_lets_the_hub_load_the_export(curated, tmp_path, fmt):
    import yaml
    from datasets import load_dataset

    folder, _ = curated
    export_dataset(folder, tmp_path / "out", fmt=fmt, mode="think", validation=0.3)
    card = (tmp_path / "out" / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "apache-2.0" and meta["language"] == ["en", "zh"] and meta["task_categories"]
    ds = load_dataset(str(tmp_path / "out"), cache_dir=str(tmp_path / "hf-cache"))  # as the Hub reads the card
    assert set(ds) == {"train", "validation"} and len(ds["train"]) + len(ds["validation"]) == 10


def test_hf_datasets_round_trip(curated, tmp_path):
    from datasets import load_from_disk

    folder, by_id = curated
    export_dataset(folder, tmp_path / "out", fmt="hf", mode="think", validation=0.3)
    ds = load_from_disk(str(tmp_path / "out" / "hf"))
    assert set(ds) == {"train", "validation"} and len(ds["train"]) + len(ds["validation"]) == 10
    row = ds["train"][0]
    source = by_id[row["id"]]
    notes, reply = split_think(row["messages"][1]["content"])
    assert reply == source.turns[1].content and parse_contemplation_text(notes) == source.turns[1].contemplation
    assert row["messages"][0]["content"] == source.turns[0].content


@pytest.mark.parametrize("fmt", ["sharegpt", "alpaca"])
def test_llama_factory_formats_and_dataset_info(curated, tmp_path, fmt):
    folder, by_id = curated
    out = tmp_path / "out"
    export_dataset(folder, out, fmt=fmt, mode="drop", validation=0.3, name="emp")
    info = json.loads((out / "dataset_info.json").read_text())
    assert set(info) == {"emp_train", "emp_validation"} and info["emp_train"]["file_name"] == "train.json"
    data = json.loads((out / "train.json").read_text())
    if fmt == "sharegpt":
        assert info["emp_train"]["formatting"] == "sharegpt"
        conv = data[0]["conversations"]
        assert conv[0]["from"] == "human" and conv[1]["value"] == by_id[data[0]["id"]].turns[1].content
    else:
        first, second = data[0], data[1]
        assert first["history"] == [] and second["history"] == [[first["instruction"], first["output"]]]


def test_bad_requests_are_clear(curated, tmp_path):
    folder, _ = curated
    with pytest.raises(EmpLLMError, match="--format"):
        export_dataset(folder, tmp_path / "o", fmt="csv", mode="drop")
    with pytest.raises(EmpLLMError, match="field needs"):
        export_dataset(folder, tmp_path / "o", fmt="sharegpt", mode="field")
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(tmp_path / "c")}
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    out = subprocess.run([EMPLLM, "export", str(empty), str(tmp_path / "o")], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "no sessions" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    out = subprocess.run([EMPLLM, "export", str(folder), str(tmp_path / "o"), "--format", "xml"], capture_output=True,
                         text=True, env=env)  # fmt: skip
    assert out.returncode == 2 and "--format 'xml'" in out.stderr


def test_uncurated_failed_turns_are_refused(tmp_path):
    from empllm.types import Turn

    s = make_session(GOOD_EN)
    s.turns[1] = Turn(role="psychologist", content="", raw="x", parse_error="unparseable")
    (tmp_path / "s.jsonl").write_text(s.model_dump_json() + "\n")
    with pytest.raises(EmpLLMError, match="curate the sessions first"):
        export_dataset(tmp_path / "s.jsonl", tmp_path / "o", fmt="openai", mode="think")


def test_field_mode_can_name_the_reasoning_key(tmp_path, curated):
    folder, _ = curated
    info = export_dataset(folder, tmp_path / "out", fmt="openai", mode="field",
                          reasoning_key="reasoning_content", validation=0.0)  # fmt: skip
    rows = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    replies = [m for r in rows for m in r["messages"] if m["role"] == "assistant"]
    assert replies and all(m["reasoning_content"] and "reasoning" not in m for m in replies)
    assert info["reasoning_key"] == "reasoning_content"
    assert "`reasoning_content`" in (tmp_path / "out" / "README.md").read_text()
    with pytest.raises(EmpLLMError, match="reasoning-key"):
        export_dataset(folder, tmp_path / "bad", fmt="openai", mode="field", reasoning_key="thoughts")
