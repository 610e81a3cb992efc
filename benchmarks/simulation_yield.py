"""Yield and speed of simulation on the embedded model: how many simulated sessions `curate` keeps
with its default filters, and sessions per hour, per language, for the shipped path (rejection
sampling, shared few-shot prefix evaluated once) against the path before it (no line checks, the
whole prompt evaluated on every call, a new exemplar draw per session), at the same number of
replies. Raw llama-cpp-python tokens/s is measured in the same run, so figures from machines of
different speed can be compared.

    python benchmarks/simulation_yield.py [--sessions 8] [--baseline-sessions 3] [--max-turns 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from empllm.curate.pipeline import CurateConfig, run_curation
from empllm.jsonl_store import read_jsonl
from empllm.settings import Settings
from empllm.simulate.runner import SimulationConfig, run_simulation

MODEL = "llamacpp:gemma-3-270m"
PATHS = {  # what differs between the shipped simulation and the one before this change
    "shipped": {},
    "before": {"checks": False, "reuse_prefix": False, "exemplar_sets": 0, "attempts": 3},
}


def raw_tokens_per_s(max_tokens: int = 128) -> float:
    """Greedy generation with llama-cpp-python alone, in a fresh process (one OpenMP team at a time)."""
    code = (
        "import os,time,json,llama_cpp\n"
        "from empllm.backends.embedded import embedded_gguf_path\nfrom empllm.settings import Settings\n"
        "llm=llama_cpp.Llama(model_path=str(embedded_gguf_path(Settings().cache_dir)),n_ctx=2048,"
        "n_threads=os.cpu_count(),verbose=False)\n"
        "p='The counselor listened quietly while Mei described the week she had lost her job. Afterwards,'\n"
        "llm.create_completion(p,max_tokens=8,temperature=0.0);llm.reset()\n"
        f"t=time.perf_counter();o=llm.create_completion(p,max_tokens={max_tokens},temperature=0.0)\n"
        "print(json.dumps(o['usage']['completion_tokens']/(time.perf_counter()-t)))\n"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


async def one_path(path: str, lang: str, sessions: int, max_turns: int, work: Path) -> dict:
    config = SimulationConfig(personas="built-in", sessions=sessions, client_model=MODEL, psychologist_model=MODEL,
                              language=lang, seed=0, min_turns=min(3, max_turns), max_turns=max_turns,
                              **PATHS[path])  # fmt: skip
    out = work / f"{path}-{lang}"
    settings = Settings(use_cache=False)
    start = time.perf_counter()
    await run_simulation(config, out, settings=settings, concurrency=1)
    wall = time.perf_counter() - start
    rows = read_jsonl(out / "sessions.jsonl")
    summary = await run_curation(out, work / f"{path}-{lang}-curated", CurateConfig())
    psych_turns = [t for r in rows for t in r["turns"] if t["role"] == "psychologist" and not t.get("parse_error")]
    client_turns = [t for r in rows for t in r["turns"][1:] if t["role"] == "client" and not t.get("parse_error")]
    rejected = [reason.split(":")[0] for r in rows for t in r["turns"] for reason in t.get("rejected", [])]
    return {
        "sessions": len(rows),
        "outcomes": {o: sum(r["outcome"] == o for r in rows) for o in {r["outcome"] for r in rows}},
        "kept": summary.kept,
        "kept_share": summary.kept / len(rows),
        "dropped_by": dict(summary.dropped_by),
        "codes": dict(summary.codes),
        "replies": len(psych_turns),
        "wall_s": round(wall, 1),
        "sessions_per_hour": round(len(rows) / wall * 3600, 1),
        "replies_per_hour": round(len(psych_turns) / wall * 3600, 1),
        "kept_sessions_per_hour": round(summary.kept / wall * 3600, 1),
        "samples_per_line": round(
            (len(psych_turns) + len(client_turns) + len(rejected)) / max(1, len(psych_turns) + len(client_turns)), 2
        ),  # fmt: skip
        "rejected_by": {code: rejected.count(code) for code in sorted(set(rejected))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8, help="sessions per language on the shipped path")
    parser.add_argument("--baseline-sessions", type=int, default=3, help="sessions per language on the old path")
    parser.add_argument("--max-turns", type=int, default=4)
    parser.add_argument("--languages", nargs="+", default=["en", "zh"])
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/simulation_yield.json"))
    args = parser.parse_args()

    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.machine(),
              "cores": os.cpu_count(), "model": MODEL, "max_turns": args.max_turns,
              "raw_llama_cpp_tokens_per_s": round(raw_tokens_per_s(), 1), "languages": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.languages:
            row = {}
            for path, n in (("shipped", args.sessions), ("before", args.baseline_sessions)):
                print(f"[{lang}] {path}: {n} sessions", file=sys.stderr, flush=True)
                row[path] = asyncio.run(one_path(path, lang, n, args.max_turns, Path(tmp)))
            row["speedup_sessions_per_hour"] = round(
                row["shipped"]["sessions_per_hour"] / row["before"]["sessions_per_hour"], 2
            )
            row["speedup_replies_per_hour"] = round(
                row["shipped"]["replies_per_hour"] / row["before"]["replies_per_hour"], 2
            )
            result["languages"][lang] = row
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
