"""`empllm bench export hf DIR`: the items as parquet with a Hub card that `datasets` loads."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from empllm.bench.items import CANARY
from empllm.bench.registry import items_dir

EMPLLM = str(Path(sys.executable).parent / "empllm")


def test_every_sub_task_and_language_loads_with_its_gold_answers(tmp_path):
    from datasets import load_dataset

    out = tmp_path / "emptest"
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([EMPLLM, "bench", "export", "hf", str(out)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    meta = yaml.safe_load((out / "README.md").read_text(encoding="utf-8").split("---\n")[1])
    assert meta["license"] and meta["language"] == ["en", "zh"] and "multiple-choice" in meta["task_categories"]
    assert CANARY in (out / "README.md").read_text(encoding="utf-8")
    names = [c["config_name"] for c in meta["configs"]]
    expected = sorted(p.name.removesuffix(".jsonl").replace(".", "_") for p in items_dir().glob("*.jsonl"))
    assert sorted(names) == expected
    for name in names:
        rows = load_dataset(str(out), name, split="test", cache_dir=str(tmp_path / "hf-cache"))  # never a stale copy
        task, lang = name.rsplit("_", 1)
        lines = (items_dir() / f"{task}.{lang}.jsonl").read_text(encoding="utf-8").splitlines()[1:]
        items = [json.loads(line) for line in lines if line.strip()]
        assert [r["id"] for r in rows] == [it["id"] for it in items], name
        gold = "gold" if "gold" in items[0] else "reference" if "reference" in items[0] else "reference_reply"
        assert [r[gold] for r in rows] == [it[gold] for it in items], name
        assert all(r["canary"] == CANARY for r in rows)
    bad = subprocess.run([EMPLLM, "bench", "export", "csv", str(tmp_path / "x")], capture_output=True, text=True,
                         env=env)  # fmt: skip
    assert bad.returncode != 0 and "unknown export format 'csv'" in bad.stderr and not (tmp_path / "x").exists()
