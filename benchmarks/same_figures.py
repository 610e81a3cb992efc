"""Does a refactor change any figure? One EmpTest run and one `empllm demo --quick`, each at an
earlier commit and at the working tree, compared number by number.

The earlier commit is checked out into a temporary git worktree and run with the same interpreter
(its `src` first on PYTHONPATH), so both sides share the installed dependencies and the model cache.
The completion cache is off on both sides: every figure is computed afresh.

    python benchmarks/same_figures.py --before 32ce265 [--bench-limit 10] [--out FILE]

Exit status 1 when any figure differs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_CLI = "import sys; from empllm.cli import main; sys.argv[0] = 'empllm'; main()"


def numbers(value, prefix: str = "") -> dict[str, float]:
    """Every number in a JSON document, keyed by its path; run-specific strings are left out."""
    out: dict[str, float] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out |= numbers(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out |= numbers(item, f"{prefix}[{i}]")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out[prefix] = value
    return out


# Numbers that measure the run, not the result: wall times, speeds, dates. A path is timing when any
# of its keys is (stage_wall_s.bench.base is a wall time even though its last key is "base").
TIMING_KEY = re.compile(r"(^|_)(wall|elapsed|duration|time|seconds|date)(_|$)|(^|_)s$|per_s|tok_s")


def is_timing(path: str) -> bool:
    return any(TIMING_KEY.search(key.lower()) for key in re.split(r"[.\[\]]", path) if key)


def run(src: Path, args: list[str], env: dict) -> None:
    started = time.time()
    done = subprocess.run([sys.executable, "-c", RUN_CLI, *args], env={**env, "PYTHONPATH": str(src)},
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{src}: empllm {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    print(f"  {src.parent.name}: empllm {' '.join(args[:2])} in {time.time() - started:.0f} s", file=sys.stderr)


def compare(before: Path, after: Path) -> dict:
    a, b = (numbers(json.loads(p.read_text(encoding="utf-8"))) for p in (before, after))
    shared = sorted(k for k in a.keys() & b.keys() if not is_timing(k))
    differ = {k: [a[k], b[k]] for k in shared if a[k] != b[k]}
    return {"figures_compared": len(shared), "differ": differ,
            "only_before": sorted(k for k in a.keys() - b.keys() if not is_timing(k)),
            "only_after": sorted(k for k in b.keys() - a.keys() if not is_timing(k))}  # fmt: skip


def current_commit() -> str:
    def git(*words):
        return subprocess.run(["git", "-C", str(ROOT), *words], capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+dirty" if git("status", "--porcelain") else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the commit before the refactor")
    parser.add_argument("--bench-limit", type=int, default=10, help="EmpTest items per sub-task and language")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "EMPLLM_USE_CACHE": "false", "EMPLLM_SAFETY_READER": "false", "HF_HUB_OFFLINE": "1"}
    result = {"benchmark": "same_figures", "before": args.before, "after": current_commit(),
              "date": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before], check=True,
                       capture_output=True)  # fmt: skip
        try:
            sides = {"before": tree / "src", "after": ROOT / "src"}
            for name, src in sides.items():
                out = Path(tmp) / name
                run(src, ["bench", "-m", "llamacpp:gemma-3-270m", "--limit", str(args.bench_limit), "--no-cache",
                          "--quiet", "--out", str(out / "bench")], env)  # fmt: skip
                run(src, ["demo", "--quick", "--no-cache", "--quiet", "--out", str(out / "demo")], env)
            result["emptest"] = compare(*(Path(tmp) / n / "bench" / "results.json" for n in sides))
            result["demo_quick"] = compare(*(Path(tmp) / n / "demo" / "results.json" for n in sides))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    same = not (result["emptest"]["differ"] or result["demo_quick"]["differ"])
    print(f"same figures: {same}", file=sys.stderr)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
