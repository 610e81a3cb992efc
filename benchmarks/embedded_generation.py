"""Tokens/s of the embedded model through EmpLLM vs. raw llama-cpp-python, same prompt, same run.

Both sides load the same GGUF with the same context size and thread count, generate greedily
from a clean KV cache (EmpLLM resets before every call for reproducibility, so the raw side does
too), and are timed in alternation so machine drift hits both alike.

    python benchmarks/embedded_generation.py [--runs 5] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from empllm.backends.base import GenerationSettings
from empllm.runtime import build_runtime
from empllm.settings import Settings

PROMPT = (
    "The counselor listened quietly while Mei described the week she had lost her job. Afterwards, the counselor said"
)


def raw_llama(model_path: Path, n_ctx: int, n_threads: int):
    import llama_cpp

    return llama_cpp.Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)


def time_raw(llm, max_tokens: int) -> tuple[int, float]:
    llm.reset()
    start = time.perf_counter()
    out = llm.create_completion(PROMPT, max_tokens=max_tokens, temperature=0.0)
    return out["usage"]["completion_tokens"], time.perf_counter() - start


async def time_empllm(runtime, max_tokens: int) -> tuple[int, float]:
    start = time.perf_counter()
    done = await runtime.complete(PROMPT, GenerationSettings(max_tokens=max_tokens, temperature=0.0))
    return done.usage.completion_tokens, time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/embedded_generation.json"))
    args = parser.parse_args()

    settings = Settings(use_cache=False, n_ctx=2048)
    runtime = build_runtime("llamacpp:gemma-3-270m", settings)
    backend = runtime.backend
    llm = raw_llama(backend.model_path, settings.n_ctx, backend.n_threads)
    time_raw(llm, 8)  # warm both (first call pays page-in of the mmap'd weights)
    await time_empllm(runtime, 8)

    raw_rates, emp_rates, token_counts = [], [], set()
    for i in range(args.runs):
        n_raw, t_raw = time_raw(llm, args.max_tokens)
        n_emp, t_emp = await time_empllm(runtime, args.max_tokens)
        raw_rates.append(n_raw / t_raw)
        emp_rates.append(n_emp / t_emp)
        token_counts.update({n_raw, n_emp})
        print(f"run {i + 1}/{args.runs}: raw {n_raw / t_raw:6.1f} tok/s   empllm {n_emp / t_emp:6.1f} tok/s")

    raw, emp = statistics.median(raw_rates), statistics.median(emp_rates)
    result = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "model": "llamacpp:gemma-3-270m (Q4_K_M)",
        "n_threads": backend.n_threads,
        "max_tokens": args.max_tokens,
        "runs": args.runs,
        "completion_tokens_per_run": sorted(token_counts),
        "raw_llama_cpp_tok_s_median": round(raw, 2),
        "empllm_tok_s_median": round(emp, 2),
        "ratio_empllm_over_raw": round(emp / raw, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    await runtime.aclose()
    llm.close()


if __name__ == "__main__":
    asyncio.run(main())
