"""Traditional -> simplified Chinese before crisis detection: opencc-python-reimplemented (what
EmpLLM depends on) against the maintained OpenCC package (`opencc` on PyPI, compiled).

Both install as the module `opencc`, so each runs in its own environment:

    python benchmarks/opencc_compare.py convert --out /tmp/reimpl.json            # EmpLLM's venv
    /other/venv/bin/python benchmarks/opencc_compare.py convert --out /tmp/official.json --other /tmp/reimpl.json
    python benchmarks/opencc_compare.py compare /tmp/reimpl.json /tmp/official.json \\
        [--out docs/benchmarks/opencc_compare.json]

`convert` takes every Chinese message of the held-out crisis sets (written in simplified), turns
each into traditional with its converter (s2t) and back (t2s), and times t2s. `compare` crosses
them: each converter's t2s on each converter's traditional text. It counts how often the
simplified original comes back exactly, and how often the crisis detector's verdict on the
converted text equals its verdict on the original.
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
HELDOUT_DIR = ROOT / "tests" / "safety" / "data"


def originals() -> list[str]:
    texts = []
    for path in sorted(HELDOUT_DIR.glob("*/*.zh.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def convert(out: Path) -> None:
    import opencc

    to_traditional, to_simplified = opencc.OpenCC("s2t").convert, opencc.OpenCC("t2s").convert
    texts = originals()
    traditional = [to_traditional(t) for t in texts]
    times = []
    for t in traditional:
        start = time.perf_counter()
        to_simplified(t)
        times.append((time.perf_counter() - start) * 1000)
    module = getattr(opencc, "__file__", "")
    out.write_text(json.dumps({"module": module, "version": getattr(opencc, "__version__", None),
                               "originals": texts, "traditional": traditional,
                               "t2s_ms_p50": round(statistics.median(times), 3)}, ensure_ascii=False))  # fmt: skip


def simplify_all(texts: list[str]) -> list[str]:
    """t2s with this environment's converter (the comparison step runs it for EmpLLM's own)."""
    import opencc

    to_simplified = opencc.OpenCC("t2s").convert
    return [to_simplified(t) for t in texts]


def compare(a_file: Path, b_file: Path, out: Path | None) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from empllm.safety.detector import assess_text

    a, b = json.loads(a_file.read_text()), json.loads(b_file.read_text())
    texts = a["originals"]
    truth = [assess_text(t, "zh").crisis for t in texts]
    # this environment's converter is a's; b's conversions were saved by `convert --other`
    result = {"benchmark": "opencc_compare", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "messages": len(texts), "converters": {"a": a["module"], "b": b["module"]},
              "t2s_ms_p50": {"a": a["t2s_ms_p50"], "b": b["t2s_ms_p50"]}, "rows": {}}  # fmt: skip
    for source in ("a", "b"):
        traditional = (a if source == "a" else b)["traditional"]
        for converter, simplified in (("a", simplify_all(traditional)), ("b", b.get("t2s_of_" + source))):
            if simplified is None:
                continue
            exact = sum(s == t for s, t in zip(simplified, texts, strict=True))
            same = sum(assess_text(s, "zh").crisis == v for s, v in zip(simplified, truth, strict=True))
            result["rows"][f"{converter}.t2s({source}.s2t)"] = {"exact": f"{exact}/{len(texts)}",
                                                                 "same_verdict": f"{same}/{len(texts)}"}  # fmt: skip
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if out:
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--other", type=Path, help="another environment's convert output: also simplify its texts")
    m = sub.add_parser("compare")
    m.add_argument("a", type=Path)
    m.add_argument("b", type=Path)
    m.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.command == "convert":
        convert(args.out)
        if args.other:  # t2s of the other converter's traditional text, with this one
            data = json.loads(args.out.read_text())
            other = json.loads(args.other.read_text())
            data["t2s_of_a"] = simplify_all(other["traditional"])
            data["t2s_of_b"] = simplify_all(data["traditional"])
            args.out.write_text(json.dumps(data, ensure_ascii=False))
    else:
        compare(args.a, args.b, args.out)


if __name__ == "__main__":
    main()
