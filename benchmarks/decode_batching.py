"""Does decoding several sequences at once pay on this machine? Per-position cost of one llama.cpp
decode call over N positions, each with its logits (what N parallel sequences, or N draft tokens to
verify, would need), on the embedded model. On a compute-bound CPU the cost grows with N and
batching buys little; on a memory-bound machine it stays nearly flat and batching pays.

    python benchmarks/decode_batching.py [--sizes 1,2,4,8,16] [--repeats 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

CONTEXT = 400  # tokens already in the cache, as in a mid-session simulation call


def measure(sizes: list[int], repeats: int) -> dict:
    import llama_cpp

    from empllm.backends.embedded import embedded_gguf_path
    from empllm.settings import Settings

    llm = llama_cpp.Llama(model_path=str(embedded_gguf_path(Settings().cache_dir)), n_ctx=2048,
                          n_threads=os.cpu_count(), n_batch=512, logits_all=True, verbose=False)  # fmt: skip
    text = "The counselor listened quietly while Mei described the week she had lost her job. " * 40
    tokens = llm.tokenize(text.encode("utf-8"))[: CONTEXT + max(sizes)]
    llm.eval(tokens[:CONTEXT])
    state = llm.save_state()
    rows = []
    for n in sizes:
        times = []
        for _ in range(repeats):
            llm.load_state(state)
            start = time.perf_counter()
            llm.eval(tokens[CONTEXT : CONTEXT + n])
            times.append(time.perf_counter() - start)
        best = min(times)
        rows.append({"positions": n, "ms_per_call": round(best * 1000, 1), "positions_per_s": round(n / best, 1)})
    single = rows[0]["positions_per_s"] if sizes[0] == 1 else None
    for row in rows:
        row["gain_over_one"] = round(row["positions_per_s"] / single, 2) if single else None
    return {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.machine(),
            "cores": os.cpu_count(), "context_tokens": CONTEXT, "repeats": repeats, "rows": rows}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2,4,8,16")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = measure([int(s) for s in args.sizes.split(",")], args.repeats)
    for row in result["rows"]:
        print(f"{row['positions']:>3} positions: {row['ms_per_call']:>7} ms, {row['positions_per_s']:>7} /s, "
              f"x{row['gain_over_one']}")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
