"""EmpTest as a Hugging Face dataset: `empllm bench export hf DIR`.

One parquet file per sub-task and language (`data/<subtask>/<lang>/test.parquet`, config
`<subtask>_<lang>`), and a README.md with the Hub's front-matter, so that
`datasets.load_dataset(DIR, "perceive_en")` (or a Hub repo made from DIR) gives the items with
their gold answers. The canary string stays in every row and in the card: a crawler that
respects it keeps EmpTest out of training data, and EmpLLM's own contamination check looks for it.
The `session` sub-task is not exported: its items are persona cards that an EmpLLM client agent plays.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from empllm.bench.items import CANARY, load_item_file
from empllm.bench.registry import get_task, task_names
from empllm.errors import EmpLLMError
from empllm.hub_card import front_matter

TASK_CATEGORIES = ["multiple-choice", "text-classification", "text-generation"]


def shipped_item_tasks() -> list[str]:
    """The built-in sub-tasks that have item files (all but `session`), multiple choice first."""
    return [n for kind in ("mc", "rating", "respond") for n in task_names(kind=kind, builtin=True, external=False)]


def export_hf(out_dir: Path, languages: tuple[str, ...] = ("en", "zh")) -> dict[str, int]:
    """Writes the parquet files and the card; returns items per config."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise EmpLLMError("empllm bench export hf needs pyarrow (pip install 'empllm[train]')") from None

    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    counts: dict[str, int] = {}
    for task in shipped_item_tasks():
        spec = get_task(task)
        for lang in languages:
            items = load_item_file(spec.item_file(lang), spec.schema)
            rows = [{**item.model_dump(mode="json"), "canary": CANARY} for item in items]
            target = partial / "data" / task / lang / "test.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows), target)
            counts[f"{task}_{lang}"] = len(rows)
    (partial / "README.md").write_text(_card(counts), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    partial.replace(out_dir)  # the folder appears whole or not at all
    return counts


def _card(counts: dict[str, int]) -> str:
    configs = []
    for name in counts:
        task, lang = name.rsplit("_", 1)
        files = [{"split": "test", "path": f"data/{task}/{lang}/*.parquet"}]
        configs.append({"config_name": name, "data_files": files})
    header = front_matter(pretty_name="EmpTest", languages=sorted({n.rsplit("_", 1)[1] for n in counts}),
                          task_categories=TASK_CATEGORIES, tags=["empathy", "emotional-intelligence", "benchmark",
                          "empllm"], size=sum(counts.values()), configs=configs)  # fmt: skip
    table = "\n".join(f"| `{name}` | {n} |" for name, n in counts.items())
    return f"""{header}# EmpTest

EmpLLM's benchmark of empathy and emotional intelligence, in English and Chinese, written for EmpLLM.
Every row holds its gold answer (`gold` for multiple choice, `reference` for intensity ratings,
`reference_reply` and `key_points` for open replies) and a `rationale`.

**Canary: {CANARY}.** Keep these items out of any training data.

| config | items (split `test`) |
| --- | --- |
{table}

```python
from datasets import load_dataset
items = load_dataset("path/to/this/folder", "perceive_en", split="test")
```

Scoring as EmpLLM does it (log-likelihood over the options, `acc`, `acc_norm` per UTF-8 byte and
`acc_mi`; the EQ-Bench v2 formula for intensity; a rubric judge for open replies) is
`empllm bench`; see EmpLLM's docs/emptest.md.
"""
