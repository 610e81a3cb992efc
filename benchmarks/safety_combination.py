"""Choose how the detector combines the n-gram classifier and the Gemma reader, per language, on a
validation set (never on the test set): every weight, threshold, veto and means threshold (the lower
alarm on a question about means the rules missed) of a grid, through the detector's own verdict
function, and the n-gram alone beside them. The choice is the combination with false alarms at most
--max-false-alarms and the most crisis messages caught (explicit, indirect and questions about means
counted once each), fewer false alarms breaking ties.

    python benchmarks/safety_combination.py --set heldout13 [--reader DIR] [--out FILE]

With --folds, the validation messages are sets that joined the development data, each scored out of
fold: an n-gram trained on every development file but that set's (its own threshold and veto, as
build_classifier chooses them), and a reader built without all of them (build_reader --exclude;
checked). So every message is scored by models that never saw it, and the choice is made on more
messages than one held-out set holds.

    python benchmarks/safety_combination.py --folds heldout13,heldout14,heldout15,heldout16,heldout17
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from safety_detection import HELDOUT_SETS, JOINED_SETS, development_set, fold_glob, is_means_question, load  # noqa: E402
from safety_reader import figures  # noqa: E402

from empllm.safety.build_classifier import train_payload  # noqa: E402
from empllm.safety.classifier import DEV_DIR, dev_files, labelled_messages, language_model, model_from_payload  # noqa: E402
from empllm.safety.detector import _learned_verdict, _read_rules, default_rules  # noqa: E402
from empllm.safety.normalise import normalise  # noqa: E402
from empllm.safety.reader import READER_DIR, CrisisReader  # noqa: E402

WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
THRESHOLDS = tuple(round(0.3 + 0.05 * i, 2) for i in range(13))  # 0.30 .. 0.90
VETOES = (0.1, 0.2, 0.3, 0.4)
MEANS_THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)  # above the threshold, it is the threshold


def out_of_fold_ngram(fold: str, lang: str):
    """An n-gram model trained on every development file of `lang` but the fold's."""
    rows = labelled_messages(DEV_DIR, lang, exclude=(fold_glob(fold, lang),))
    return model_from_payload(train_payload(rows, lang)[0])


def check_reader_never_saw(reader: CrisisReader, folds: list[str]) -> None:
    excluded = tuple(reader.meta.get("excluded_dev_files", []))
    for lang in ("en", "zh"):
        seen = set(dev_files(lang, DEV_DIR, excluded))
        for fold in folds:
            for path in seen.intersection(development_set(fold, lang)):
                raise SystemExit(f"the reader was trained on {path.name}: it cannot score {fold} out of fold")


def caught(fired: list[bool], rows: list[dict]) -> int:
    """Crisis messages caught, a question about means counted once more: the category never to miss."""
    return sum(f and r["label"] == "crisis" for f, r in zip(fired, rows, strict=True)) + sum(
        f and is_means_question(r) for f, r in zip(fired, rows, strict=True)
    )


def false_alarms(fired: list[bool], rows: list[dict]) -> float:
    benign = [f for f, r in zip(fired, rows, strict=True) if r["label"] != "crisis"]
    return sum(benign) / len(benign)


def validation_messages(args, lang: str, reader: CrisisReader, ruleset) -> tuple[list[dict], list[tuple]]:
    """The rows, and per row what the grid needs: the text, the rules' verdict, the rules that fired,
    whether a never-veto rule locked it, whether it asks about means, the n-gram's probability and
    threshold and veto (its own model's, out of fold), and the reader's probability."""
    if args.folds:
        parts = [(load(fold, lang), out_of_fold_ngram(fold, lang)) for fold in args.folds]
    else:
        parts = [(load(args.set, lang), language_model(lang))]
    rows, messages = [], []
    for part, ngram in parts:
        for row in part:
            text = normalise(row["text"])
            verdict, fired, about_means = _read_rules(text, lang, ruleset)
            locked = verdict.crisis and any(rule.never_veto for rule in fired)
            messages.append((text, verdict, fired, locked, about_means, ngram.probability(text),
                             ngram.threshold, ngram.veto, reader.probability(text)))  # fmt: skip
            rows.append(row)
    return rows, messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--set", choices=[*HELDOUT_SETS, *JOINED_SETS, "heldout-all"])
    which.add_argument(
        "--folds",
        type=lambda value: value.split(","),
        help="comma-separated sets that joined the development data, each scored out of fold",
    )
    parser.add_argument("--reader", type=Path, default=READER_DIR)
    parser.add_argument("--max-false-alarms", type=float, default=0.05)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    reader, ruleset = CrisisReader(args.reader), default_rules()
    if args.folds:
        unknown = [fold for fold in args.folds if fold not in JOINED_SETS]
        if unknown:
            parser.error(f"not sets of the development data: {', '.join(unknown)}")
        check_reader_never_saw(reader, args.folds)
    result = {"benchmark": "safety_combination", "set": args.set, "folds": args.folds, "reader": reader.meta,
              "max_false_alarms": args.max_false_alarms, "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "languages": {}}  # fmt: skip
    for lang in ("en", "zh"):
        rows, messages = validation_messages(args, lang, reader, ruleset)

        def verdicts(score, threshold: float | None, veto: float | None, means: float | None,
                     messages=messages) -> list[bool]:  # fmt: skip
            # threshold None: each message's own n-gram threshold and veto (the n-gram alone)
            return [v.crisis if locked else
                    _learned_verdict(v, fired, text, ruleset, score(p, r),
                                     own_threshold if threshold is None else threshold,
                                     own_veto if veto is None else veto,
                                     means if about_means and means is not None else None).crisis
                    for text, v, fired, locked, about_means, p, own_threshold, own_veto, r in messages]  # fmt: skip

        options = {"n-gram alone": verdicts(lambda p, r: p, None, None, None)}
        for w, t, v, m in itertools.product(WEIGHTS, THRESHOLDS, VETOES, MEANS_THRESHOLDS):
            if m < t:
                options[f"weight {w} threshold {t} veto {v} means {m}"] = verdicts(
                    lambda p, r, w=w: w * r + (1 - w) * p, t, v, m
                )
        allowed = {name: fired for name, fired in options.items() if false_alarms(fired, rows) <= args.max_false_alarms}
        ranked = sorted(allowed, key=lambda name: (caught(allowed[name], rows), -false_alarms(allowed[name], rows)),
                        reverse=True)  # fmt: skip
        best = ranked[0]
        result["languages"][lang] = {
            "messages": len(rows), "chosen": best, "chosen_figures": figures(options[best], rows),
            "n-gram alone": figures(options["n-gram alone"], rows),
            "combinations_within_the_false_alarm_limit": len(allowed) - 1,
            "next_best": {name: figures(options[name], rows) for name in ranked[1:11]},
        }  # fmt: skip
        print(f"{lang}: chosen {best} {figures(options[best], rows)}; n-gram alone "
              f"{figures(options['n-gram alone'], rows)}", file=sys.stderr)  # fmt: skip
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
