"""Choose how the detector combines the n-gram classifier and the Gemma reader, per language, on a
validation set (never on the test set): every weight, threshold and veto of a grid, through the
detector's own verdict function, and the n-gram alone beside them. The choice is the combination
with false alarms at most --max-false-alarms and the most crisis messages caught (explicit,
indirect and questions about means counted once each), fewer false alarms breaking ties.

    python benchmarks/safety_combination.py --set heldout13 [--reader DIR] [--out FILE]
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
from safety_detection import HELDOUT_SETS, is_means_question, load  # noqa: E402
from safety_reader import figures  # noqa: E402

from empllm.safety.classifier import language_model  # noqa: E402
from empllm.safety.detector import _learned_verdict, _rules_verdict, default_rules  # noqa: E402
from empllm.safety.normalise import normalise  # noqa: E402
from empllm.safety.reader import READER_DIR, CrisisReader  # noqa: E402

WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
THRESHOLDS = tuple(round(0.3 + 0.05 * i, 2) for i in range(13))  # 0.30 .. 0.90
VETOES = (0.1, 0.2, 0.3, 0.4)


def caught(fired: list[bool], rows: list[dict]) -> int:
    """Crisis messages caught, a question about means counted once more: the category never to miss."""
    return sum(f and r["label"] == "crisis" for f, r in zip(fired, rows, strict=True)) + sum(
        f and is_means_question(r) for f, r in zip(fired, rows, strict=True)
    )


def false_alarms(fired: list[bool], rows: list[dict]) -> float:
    benign = [f for f, r in zip(fired, rows, strict=True) if r["label"] != "crisis"]
    return sum(benign) / len(benign)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=[*HELDOUT_SETS, "heldout-all"], required=True)
    parser.add_argument("--reader", type=Path, default=READER_DIR)
    parser.add_argument("--max-false-alarms", type=float, default=0.05)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    reader, ruleset = CrisisReader(args.reader), default_rules()
    result = {"benchmark": "safety_combination", "set": args.set, "reader": reader.meta,
              "max_false_alarms": args.max_false_alarms, "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "languages": {}}  # fmt: skip
    for lang in ("en", "zh"):
        rows = load(args.set, lang)
        ngram = language_model(lang)
        messages = []
        for row in rows:
            text = normalise(row["text"])
            verdict, fired = _rules_verdict(text, lang, ruleset)
            locked = verdict.crisis and any(rule.never_veto for rule in fired)
            messages.append((text, verdict, fired, locked, ngram.probability(text), reader.probability(text)))

        def verdicts(score, threshold: float, veto: float, messages=messages) -> list[bool]:
            return [v.crisis if locked else
                    _learned_verdict(v, fired, text, ruleset, score(p, r), threshold, veto).crisis
                    for text, v, fired, locked, p, r in messages]  # fmt: skip

        options = {"n-gram alone": verdicts(lambda p, r: p, ngram.threshold, ngram.veto)}
        for w, t, v in itertools.product(WEIGHTS, THRESHOLDS, VETOES):
            options[f"weight {w} threshold {t} veto {v}"] = verdicts(lambda p, r, w=w: w * r + (1 - w) * p, t, v)
        allowed = {name: fired for name, fired in options.items() if false_alarms(fired, rows) <= args.max_false_alarms}
        ranked = sorted(allowed, key=lambda name: (caught(allowed[name], rows), -false_alarms(allowed[name], rows)),
                        reverse=True)  # fmt: skip
        best = ranked[0]
        result["languages"][lang] = {
            "chosen": best, "chosen_figures": figures(options[best], rows),
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
