"""Crisis detection recall and false-positive rate, per language, on the labelled sets: the
shipped detector (rules, then the classifier) and the rules alone.

src/empllm/safety/data/dev/ is what the rules were written against and what the classifier trains
on. tests/safety/data/heldout*/ were each written by a writer who saw neither the rules nor any
labelled data, and were never used to write rules or train. They came one after another:
heldout was looked at many times, heldout2 to heldout4 a few times each while the detector was
worked on, and heldout5 once, after that work ended. The newest set's figures are the honest ones.
tests/safety/data/means_heldout/ holds questions about means (and near-misses), measured once.
heldout6 (100 crisis and 100 benign per language, half the benign ones hard near-misses, a fifth of
the crisis ones questions about means) was written after the shipped classifier became a frozen
artefact (acf08b0) and measured once. heldout7 (the same design, another writer's session) was
written while development round 7 was made and measured once after it (986b751), beside the
detector before that round. On 2026-12-03 those seven sets joined the development data (leave one
set out first: benchmarks/safety_more_data.py), and heldout8 was written for the detector built from
all of it. On 2026-12-05 heldout13 to heldout17 joined it too (with dev18, written for questions
about means), and heldout18 was written for the detector built from them. A set that joined the
development data is still read by its name (crisis-NAME.LANG.jsonl there).

    python benchmarks/safety_detection.py [--set dev|heldoutN|heldout-all|means_heldout]
        [--show] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from empllm.jsonl_store import read_jsonl  # noqa: E402
from empllm.safety.classifier import DEV_DIR, labelled_messages  # noqa: E402
from empllm.safety.detector import assess_text  # noqa: E402

HELDOUT_DIR = ROOT / "tests" / "safety" / "data"
HELDOUT_SETS = sorted(
    (p.name for p in HELDOUT_DIR.glob("heldout*")), key=lambda name: int(name.removeprefix("heldout") or 1)
)  # heldout2 before heldout12
NEWEST_SET = (HELDOUT_SETS or ["means_heldout"])[-1]
# sets that joined the development data, still read by name (crisis-NAME.LANG.jsonl in DEV_DIR)
JOINED_SETS = sorted({p.name.split(".")[0].removeprefix("crisis-") for p in DEV_DIR.glob("crisis-*.jsonl")})
SET_CHOICES = [*HELDOUT_SETS, *JOINED_SETS, "heldout-all", "means_heldout"]  # what --set may name


def fold_glob(name: str, lang: str) -> str:
    """The file names of a set that joined the development data: crisis-NAME.LANG.jsonl, benign-NAME..."""
    return f"*-{name}.{lang}.jsonl"


def development_set(name: str, lang: str) -> list[Path]:
    return sorted(DEV_DIR.glob(fold_glob(name, lang)))


def load(which: str, lang: str) -> list[dict]:
    # dev ships with the package (the classifier trains on it); held-out lives with the tests. A
    # held-out set that has since joined the development data is still read by its name.
    if which == "dev":
        return labelled_messages(DEV_DIR, lang)
    if which == "heldout-all" or (HELDOUT_DIR / which).is_dir():
        sets = HELDOUT_SETS if which == "heldout-all" else [which]
        return [row for name in sets for row in labelled_messages(HELDOUT_DIR / name, lang)]
    paths = development_set(which, lang)
    if not paths:
        raise SystemExit(f"no labelled set {which!r} in {HELDOUT_DIR} or {DEV_DIR}")
    return [row for path in paths for row in read_jsonl(path)]


def is_means_question(row: dict) -> bool:
    """heldout6 and later mark questions about means; in means_heldout the category says so."""
    return bool(row.get("means_question")) or row.get("category") == "means_question"


def measure(rows: list[dict], lang: str, show: bool = False, classifier: bool = True) -> dict:
    caught: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    false_pos = benign = 0
    means = [0, 0]  # questions about means (heldout6 marks them; means_heldout is all of them)
    for row in rows:
        fired = assess_text(row["text"], lang, classifier=classifier).crisis
        if is_means_question(row):
            means[0] += fired
            means[1] += 1
        if row["label"] == "crisis":
            for key, table in ((row["explicitness"], caught), (row["category"], by_category)):
                table[key][0] += fired
                table[key][1] += 1
            if show and not fired:
                print(f"MISS {row['id']}: {row['text']}")
        else:
            benign += 1
            false_pos += fired
            if show and fired:
                print(f"FALSE POSITIVE {row['id']}: {row['text']}")
    recall = {k: round(v[0] / v[1], 3) for k, v in caught.items()}
    total = [sum(v[0] for v in caught.values()), sum(v[1] for v in caught.values())]
    return {"recall_explicit": recall.get("explicit"), "recall_indirect": recall.get("indirect"),
            "recall_all": round(total[0] / total[1], 3), "crisis_messages": total[1],
            "false_positive_rate": round(false_pos / benign, 3), "benign_messages": benign,
            "recall_by_category": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_category.items())},
            "means_questions_caught": f"{means[0]}/{means[1]}"}  # fmt: skip


def latency(which: str) -> dict:
    """Milliseconds per message through the shipped detector (loaded first, as the server does at start)."""
    from empllm.safety.detector import load_detector

    load_detector()
    times = []
    for lang in ("en", "zh"):
        for row in load(which, lang):
            started = time.perf_counter()
            assess_text(row["text"], lang)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"messages": len(times), "p50": round(statistics.median(times), 2),
            "p95": round(times[int(0.95 * (len(times) - 1))], 2), "max": round(times[-1], 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", choices=["dev", *SET_CHOICES],
                        default=NEWEST_SET, help="heldout-all pools every held-out set; means_heldout: "
                        "questions about means")  # fmt: skip
    parser.add_argument("--show", action="store_true", help="print every miss and false positive")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = {"benchmark": "safety_detection", "set": args.set, "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "detector": "rules (src/empllm/safety/rules.yaml) then the classifier (classifier.py)",
              "languages": {lang: measure(load(args.set, lang), lang, args.show) for lang in ("en", "zh")},
              "rules_only": {lang: measure(load(args.set, lang), lang, classifier=False)
                             for lang in ("en", "zh")},
              "latency_ms": latency(args.set)}  # fmt: skip
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
