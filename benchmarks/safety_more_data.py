"""Would the crisis detector generalise better if its classifier also trained on the held-out sets,
and could that classifier also veto the rules' false alarms?

Leave one set out: for each held-out set K, the n-gram classifier is trained on the development
messages plus every other held-out set (same features, same out-of-fold threshold rule as the
shipped build) and scores K. K never enters its own training or threshold, so every figure below
is held out. Each message of K is recorded once (the rules' verdict, the shipped classifier's
probability, the fold classifier's probability and its threshold), and the policies are computed
from those records:
- `shipped`: rules, then the shipped classifier (trained on the development messages only);
- `more_data`: rules, then the fold classifier;
- `more_data_veto`: as more_data, with the fold classifier's veto: a rule's hit is set aside when
  the classifier gives the message a probability below the veto threshold the build chose on the
  fold's own training messages (out of fold), unless a rule that may never be vetoed fired.

    python benchmarks/safety_more_data.py [--out docs/benchmarks/safety_more_data.json] [--records FILE]

The seven former held-out sets are development files now (src/empllm/safety/data/dev/
crisis-heldoutN.LANG.jsonl and benign-heldoutN.LANG.jsonl); `shipped` is rebuilt here from the
other development files, as it was shipped before they joined.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import safety_detection  # noqa: E402

from empllm.safety import classifier  # noqa: E402
from empllm.safety.build_classifier import train_payload  # noqa: E402
from empllm.safety.detector import assess_by_rules, vetoable_rule_hit  # noqa: E402
from empllm.safety.normalise import normalise  # noqa: E402

# the former held-out sets, now development files named crisis-heldoutN.LANG.jsonl / benign-heldoutN...
SETS = sorted({p.name.split("-", 1)[1].split(".")[0] for p in classifier.DEV_DIR.glob("*-heldout*.jsonl")})


def messages(language: str, *, only: str | None = None, without: tuple[str, ...] = ()) -> list[dict]:
    """Development messages: the files of one former held-out set, or all but some of them."""
    rows = []
    for path in sorted(classifier.DEV_DIR.glob(f"*.{language}.jsonl")):
        origin = path.name.split("-", 1)[1].split(".")[0] if "-heldout" in path.name else None
        if (only is not None and origin != only) or (origin is not None and origin in without):
            continue
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def fold_records(language: str, left_out: str, before: classifier.LanguageModel) -> tuple[list[dict], dict]:
    payload, _, _ = train_payload(messages(language, without=(left_out,)), language)
    trained = classifier.model_from_payload(payload)
    records = []
    for row in messages(language, only=left_out):
        text = normalise(row["text"])
        rules = assess_by_rules(row["text"], language)
        records.append({"id": row["id"], "label": row["label"], "explicitness": row.get("explicitness"),
                        "means": safety_detection.is_means_question(row), "rules": rules.rules,
                        "vetoable": vetoable_rule_hit(row["text"], language),
                        "p_shipped": round(before.probability(text), 4),
                        "p_fold": round(trained.probability(text), 4)})  # fmt: skip
    return records, {"threshold": payload["threshold"], "veto": payload["veto"]}


def fired(record: dict, policy: str, fold: dict, shipped_threshold: float) -> bool:
    if policy == "shipped":
        return bool(record["rules"]) or record["p_shipped"] >= shipped_threshold
    if record["rules"]:
        return not (policy == "more_data_veto" and record["vetoable"] and record["p_fold"] < fold["veto"])
    return record["p_fold"] >= fold["threshold"]


def rates(folds: dict[str, dict], policy: str, shipped_threshold: float) -> dict:
    counts = {"explicit": [0, 0], "indirect": [0, 0], "benign": [0, 0], "means": [0, 0]}
    for fold in folds.values():
        for r in fold["records"]:
            hit = fired(r, policy, fold, shipped_threshold)
            key = "benign" if r["label"] != "crisis" else r["explicitness"]
            counts[key][0] += hit
            counts[key][1] += 1
            if r["means"]:
                counts["means"][0] += hit
                counts["means"][1] += 1
    return {"recall_explicit": round(counts["explicit"][0] / counts["explicit"][1], 3),
            "recall_indirect": round(counts["indirect"][0] / counts["indirect"][1], 3),
            "false_positive_rate": round(counts["benign"][0] / counts["benign"][1], 3),
            "means_questions_caught": f"{counts['means'][0]}/{counts['means'][1]}"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "safety_more_data.json")
    parser.add_argument("--records", type=Path, help="also write every message's scores here")
    args = parser.parse_args()
    result = {"benchmark": "safety_more_data", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": platform.machine(), "sets": SETS, "languages": {}}  # fmt: skip
    for language in ("en", "zh"):
        # the detector as shipped before the held-out sets joined: trained on the other files only
        before = classifier.model_from_payload(train_payload(messages(language, without=tuple(SETS)), language)[0])
        folds = {}
        for name in SETS:
            records, chosen = fold_records(language, name, before)
            folds[name] = {**chosen, "records": records}
            print(language, name, chosen, flush=True)
        shipped_threshold = before.threshold
        summary = {policy: rates(folds, policy, shipped_threshold)
                   for policy in ("shipped", "more_data", "more_data_veto")}  # fmt: skip
        for policy, figures in summary.items():
            print(language, policy, figures, flush=True)
        result["languages"][language] = {"pooled": summary, "folds": folds}
    if args.records:  # every message's scores, to study other policies without refitting
        args.records.write_text(json.dumps(result, ensure_ascii=False) + "\n", encoding="utf-8")
    for figures in result["languages"].values():
        figures["folds"] = {
            name: {k: v for k, v in fold.items() if k != "records"} for name, fold in figures["folds"].items()
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
