"""Check EmpTest item files: schema, canary, gold positions, artifact baselines.

python scripts/check_items.py src/empllm/bench/items/perceive.en.jsonl [...]
The subtask is read from the file name (<subtask>.<lang>.jsonl).
"""

import sys
from collections import Counter
from pathlib import Path

from empllm.bench.items import (
    ARTIFACTS,
    IntensityItem,
    RespondGenItem,
    artifact_baselines,
    gold_positions,
    load_item_file,
    load_mc_items,
)
from empllm.errors import EmpLLMError

ok = True
for name in sys.argv[1:]:
    subtask = Path(name).name.split(".")[0]
    try:
        if subtask == "intensity":
            items = load_item_file(Path(name), IntensityItem)
            ratings = Counter(r for it in items for r in it.reference)
            print(f"{name}: {len(items)} items; reference ratings used {dict(sorted(ratings.items()))}")
            continue
        if subtask == "respond_gen":
            items = load_item_file(Path(name), RespondGenItem)
            print(f"{name}: {len(items)} items; risk levels {dict(Counter(i.risk_level.value for i in items))}")
            continue
        items = load_mc_items(Path(name))
    except EmpLLMError as exc:
        print(f"INVALID {exc}")
        ok = False
        continue
    base = artifact_baselines(items)
    flags = [k for k in ARTIFACTS if abs(base[k] - base["chance"]) > 10]
    print(
        f"{name}: {len(items)} items; gold positions {gold_positions(items)}; {base}"
        + (f"  ARTIFACT: {', '.join(flags)} more than 10 points from chance" if flags else "  baselines ok")
    )
    ok = ok and not flags
sys.exit(0 if ok else 1)
