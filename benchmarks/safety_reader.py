"""Does the Gemma crisis reader (safety/reader.py) beat the n-gram classifier? Per language, on a
labelled set, beside the shipped detector and the rules alone:
- the reader alone (its threshold per language, chosen at build time on held-back development data);
- rules, then the reader (what the rules miss);
- rules, then the n-gram classifier or the reader (either may raise the alarm);
- the detector as it serves: rules, then the mean of the n-gram's and the reader's probabilities
  (`assess_text`; reader.COMBINATIONS, per language).
It also times the reader per message, one at a time as a server sees them (p50, p95).

    python benchmarks/safety_reader.py --set heldout14 [--reader DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from safety_detection import NEWEST_SET, SET_CHOICES, is_means_question, load  # noqa: E402

from empllm.safety.classifier import language_model  # noqa: E402
from empllm.safety.detector import assess_by_rules, assess_text  # noqa: E402
from empllm.safety.normalise import normalise  # noqa: E402
from empllm.safety.reader import READER_DIR, CrisisReader  # noqa: E402


def figures(fired: list[bool], rows: list[dict]) -> dict:
    def rate(keep):
        chosen = [f for f, r in zip(fired, rows, strict=True) if keep(r)]
        return round(sum(chosen) / len(chosen), 3) if chosen else None

    out = {"recall_explicit": rate(lambda r: r["label"] == "crisis" and r.get("explicitness") == "explicit"),
           "recall_indirect": rate(lambda r: r["label"] == "crisis" and r.get("explicitness") == "indirect"),
           "false_positive_rate": rate(lambda r: r["label"] != "crisis")}  # fmt: skip
    means = [f for f, r in zip(fired, rows, strict=True) if is_means_question(r)]
    if means:
        out["means_questions_caught"] = f"{sum(means)}/{len(means)}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=SET_CHOICES, default=NEWEST_SET)
    parser.add_argument("--reader", type=Path, default=READER_DIR, help="a reader folder (build_reader --out-dir)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    reader = CrisisReader(args.reader)
    result = {"benchmark": "safety_reader", "set": args.set, "reader": reader.meta,
              "date": datetime.now(UTC).isoformat(timespec="seconds"), "languages": {}}  # fmt: skip
    times = []
    for lang in ("en", "zh"):
        rows = load(args.set, lang)
        texts = [normalise(r["text"]) for r in rows]
        rules = [assess_by_rules(r["text"], lang).crisis for r in rows]
        ngram = language_model(lang)
        ngram_fired = [ngram.probability(t) >= ngram.threshold for t in texts]
        p = []
        for text in texts:
            started = time.perf_counter()
            p.append(reader.probability(text))
            times.append(time.perf_counter() - started)
        read = [x >= reader.threshold(lang) for x in p]
        shipped = [assess_text(r["text"], lang, reader=False).crisis for r in rows]
        served = [assess_text(r["text"], lang).crisis for r in rows]

        def either(*columns, rows=rows):
            return figures([any(fired) for fired in zip(*columns, strict=True)], rows)

        table = {"rules alone": figures(rules, rows),
                 "rules, then n-gram (reader off)": figures(shipped, rows),
                 "detector as served (rules, then mean of n-gram and reader)": figures(served, rows),
                 "reader alone": figures(read, rows),
                 "rules, then reader": either(rules, read),
                 "rules, then n-gram or reader": either(rules, ngram_fired, read),
                 "n-gram detector or reader": either(shipped, read)}  # fmt: skip
        result["languages"][lang] = table
        for name, row in table.items():
            print(f"{lang} {name:58s} {row}", file=sys.stderr)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    result["reader_ms"] = {"p50": round(statistics.median(times) * 1000, 1), "p95": round(p95 * 1000, 1),
                           "messages": len(times)}  # fmt: skip
    print(f"reader per message: {result['reader_ms']}", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
