"""Tokens/s of the embedded model through EmpLLM vs. raw llama-cpp-python, same prompt, same run.

Each measurement runs in its own fresh process (raw and EmpLLM alternate, so machine drift hits
both alike): two llama.cpp users in one process would each bring an OpenMP thread team and slow
each other down. Both sides load the same GGUF with the same context size and thread count, warm
up, then generate greedily from a clean KV cache (EmpLLM resets before every call for
reproducibility, so the raw side does too).

    python benchmarks/embedded_generation.py [--runs 5] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

PROMPT = (
    "The counselor listened quietly while Mei described the week she had lost her job. Afterwards, the counselor said"
)
N_CTX = 2048


def measure_raw(max_tokens: int) -> tuple[int, float]:
    import llama_cpp

    from empllm.backends.embedded import embedded_gguf_path
    from empllm.settings import Settings

    path = embedded_gguf_path(Settings().cache_dir)
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_threads=os.cpu_count(), verbose=False)
    llm.create_completion(PROMPT, max_tokens=8, temperature=0.0)  # warm-up: page in the weights
    llm.reset()
    start = time.perf_counter()
    out = llm.create_completion(PROMPT, max_tokens=max_tokens, temperature=0.0)
    return out["usage"]["completion_tokens"], time.perf_counter() - start


def measure_empllm(max_tokens: int) -> tuple[int, float]:
    from empllm.backends.base import GenerationSettings
    from empllm.runtime import build_runtime
    from empllm.settings import Settings

    async def run() -> tuple[int, float]:
        runtime = build_runtime("llamacpp:gemma-3-270m", Settings(use_cache=False, n_ctx=N_CTX))
        await runtime.complete(PROMPT, GenerationSettings(max_tokens=8, temperature=0.0))
        start = time.perf_counter()
        done = await runtime.complete(PROMPT, GenerationSettings(max_tokens=max_tokens, temperature=0.0))
        elapsed = time.perf_counter() - start
        await runtime.aclose()
        return done.usage.completion_tokens, elapsed

    return asyncio.run(run())


def in_subprocess(side: str, max_tokens: int) -> tuple[int, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", side, "--max-tokens", str(max_tokens)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    tokens, seconds = json.loads(out.stdout.strip().splitlines()[-1])
    return tokens, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/embedded_generation.json"))
    parser.add_argument("--one", choices=["raw", "empllm"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure = measure_raw if args.one == "raw" else measure_empllm
        print(json.dumps(measure(args.max_tokens)))
        return

    raw_rates, emp_rates, token_counts = [], [], set()
    for i in range(args.runs):
        n_raw, t_raw = in_subprocess("raw", args.max_tokens)
        n_emp, t_emp = in_subprocess("empllm", args.max_tokens)
        raw_rates.append(n_raw / t_raw)
        emp_rates.append(n_emp / t_emp)
        token_counts.update({n_raw, n_emp})
        print(f"run {i + 1}/{args.runs}: raw {n_raw / t_raw:6.1f} tok/s   empllm {n_emp / t_emp:6.1f} tok/s")

    raw, emp = statistics.median(raw_rates), statistics.median(emp_rates)
    result = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/embedded_generation.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "model": "llamacpp:gemma-3-270m (Q4_K_M)",
        "n_threads": os.cpu_count(),
        "max_tokens": args.max_tokens,
        "runs": args.runs,
        "completion_tokens_per_run": sorted(token_counts),
        "raw_llama_cpp_tok_s": [round(r, 2) for r in raw_rates],
        "empllm_tok_s": [round(r, 2) for r in emp_rates],
        "raw_llama_cpp_tok_s_median": round(raw, 2),
        "empllm_tok_s_median": round(emp, 2),
        "ratio_empllm_over_raw": round(emp / raw, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
