"""The performance suite: every benchmark of docs/performance.md in one command, then one table.

Each benchmark runs as its own process (as it would alone), writes its JSON under --out, and the
suite reads those files back into docs/benchmarks/suite.md (a Markdown table) and suite.json.
Each figure is a ratio of two things measured side by side in the same run on the same machine,
except serving, whose figures are the server's own overhead and throughput.

    python benchmarks/run_all.py [--quick] [--out docs/benchmarks] [--only NAME ...]

Default sizes take about 30 minutes on 2 CPU cores; --quick about 12. lm-evaluation-harness must be
installed for the scoring benchmark (`pip install -e '.[lmeval]'`); without it that row says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (script, default args, --quick args, JSON file)
BENCHMARKS = {
    "simulation": ("simulation_throughput.py", ["--embedded-sessions", "0"], ["--embedded-sessions", "0"],
                   "simulation.json"),
    "generation": ("embedded_generation.py", ["--runs", "5"], ["--runs", "2", "--max-tokens", "64"],
                   "embedded_generation.json"),
    "scoring": ("mc_scoring_vs_lm_eval.py", ["--per-language", "30", "--runs", "2"],
                ["--per-language", "10", "--runs", "1"], "mc_scoring.json"),
    "training": ("training_throughput.py", ["--steps", "6", "--runs", "2"], ["--steps", "3", "--runs", "1"],
                 "training.json"),
    "serving": ("serve_latency.py", ["--scripted-requests", "400", "--embedded-requests", "8"],
                ["--scripted-requests", "200", "--embedded-requests", "4"], "serve.json"),
}  # fmt: skip


def _rows(name: str, d: dict) -> list[list[str]]:
    """Table rows (what, EmpLLM, baseline, ratio) from one benchmark's JSON."""
    if name == "simulation":
        return [[f"simulation orchestration, concurrency {r['concurrency']} (stub server, "
                 f"{d['latency_ms']:g} ms per call)", f"{r['achieved_sessions_per_hour']} sessions/h",
                 f"{r['ideal_sessions_per_hour']} ideal", f"{r['achieved_over_ideal']}"]
                for r in d["stub"]]  # fmt: skip
    if name == "generation":
        raw = f"{d['raw_llama_cpp_tok_s_median']} tok/s raw llama-cpp-python"
        return [["embedded generation (llama.cpp, Gemma 3 270M Q4_K_M)", f"{d['empllm_tok_s_median']} tok/s", raw,
                 f"{d['ratio_empllm_over_raw']}"]]  # fmt: skip
    if name == "scoring":
        return [[f"multiple-choice scoring ({d['items']} perceive items, hf, CPU)", f"{d['empllm_median']} items/s",
                 f"{d['lm_eval_median']} items/s lm-evaluation-harness",
                 f"{d['ratio']} (same choice on {d['identical_choices']})"]]  # fmt: skip
    if name == "training":
        m = d["median_tokens_per_s"]
        return [[f"LoRA training ({d['settings']['steps']} steps, batch {d['settings']['batch_size']} x "
                 f"{d['settings']['max_length']})", f"{m['empllm']} tok/s", f"{m['plain_trl']} tok/s plain TRL",
                 f"{d['ratio_empllm_over_plain']}"]]  # fmt: skip
    if name == "serving":
        s, e = d["scripted"]["1"], d["embedded"]["1"]
        return [["serving overhead (scripted backend, concurrency 1)", f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms",
                 f"{s['requests_per_s']} requests/s", "–"],
                ["serving the embedded model (concurrency 1)", f"{e['requests_per_s']} requests/s",
                 f"p50 {e['p50_ms'] / 1000:.1f} s", "–"]]  # fmt: skip
    raise ValueError(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (rough figures, about 12 minutes)")
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "benchmarks")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    suite = {"measured": datetime.now(UTC).isoformat(timespec="seconds"), "quick": args.quick, "benchmarks": {}}
    table = [["what", "EmpLLM", "baseline (same run)", "ratio"], ["---"] * 4]
    for name, (script, full, quick, out_name) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        if name == "scoring" and importlib.util.find_spec("lm_eval") is None:
            table.append([name, "not run: lm-evaluation-harness is not installed", "", ""])
            continue
        out = args.out / out_name
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full), "--out", str(out)]
        print(f"[suite] {name}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=HERE.parent)
        wall = round(time.perf_counter() - start, 1)
        if done.returncode != 0:
            table.append([name, f"failed (exit {done.returncode})", "", ""])
            suite["benchmarks"][name] = {"failed": done.returncode, "wall_s": wall}
            continue
        data = json.loads(out.read_text())
        suite["benchmarks"][name] = {"json": str(out.relative_to(HERE.parent)) if out.is_relative_to(HERE.parent)
                                     else str(out), "wall_s": wall}  # fmt: skip
        table += _rows(name, data)
    text = "\n".join("| " + " | ".join(row) + " |" for row in table) + "\n"
    (args.out / "suite.md").write_text(f"Measured {suite['measured']}{' (--quick)' if args.quick else ''}\n\n{text}")
    (args.out / "suite.json").write_text(json.dumps(suite, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
