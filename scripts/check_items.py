"""Check EmpTest item files: schema, canary, gold positions, artifact baselines.

python scripts/check_items.py src/empllm/bench/items/perceive.en.jsonl [...]
The sub-task is read from the file name (<subtask>.<lang>.jsonl) and looked up in the task registry.
"""

import sys
from collections import Counter
from pathlib import Path

from empllm.bench.items import ARTIFACTS, artifact_baselines, gold_positions
from empllm.bench.registry import task_of_file
from empllm.errors import EmpLLMError

ok = True
for name in sys.argv[1:]:
    try:
        spec = task_of_file(Path(name))
        items = spec.load_file(Path(name))
    except EmpLLMError as exc:
        print(f"INVALID {exc}")
        ok = False
        continue
    if spec.kind == "rating":
        ratings = Counter(r for it in items for r in it.reference)
        print(f"{name}: {len(items)} items; reference ratings used {dict(sorted(ratings.items()))}")
        continue
    if spec.kind == "respond":
        print(f"{name}: {len(items)} items; risk levels {dict(Counter(i.risk_level.value for i in items))}")
        continue
    base = artifact_baselines(items)
    flags = [k for k in ARTIFACTS if abs(base[k] - base["chance"]) > 10]
    print(
        f"{name}: {len(items)} items; gold positions {gold_positions(items)}; {base}"
        + (f"  ARTIFACT: {', '.join(flags)} more than 10 points from chance" if flags else "  baselines ok")
    )
    ok = ok and not flags
sys.exit(0 if ok else 1)
