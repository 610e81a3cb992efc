"""Training tokens/s on CPU: `empllm train` vs. a plain TRL SFTTrainer script, same data and settings.

Both run LoRA r=8 on Gemma 3 270M (the embedded weights, dequantized), batch 4, 512 tokens, the
same Gemma turn template with loss on replies only, each in a fresh process, alternating.
Tokens/s is TRL's count of input tokens seen over the time inside `trainer.train()`.

    python benchmarks/training_throughput.py [--steps 10] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from empllm.backends.embedded import embedded_gguf_path  # noqa: E402
from empllm.backends.hf import dequantized_checkpoint  # noqa: E402
from empllm.export import export_dataset  # noqa: E402
from empllm.settings import Settings  # noqa: E402
from tests.curate.sessions import make_session  # noqa: E402  (crafted sessions: en and zh)


def make_data(folder: Path, copies: int) -> Path:
    sessions = [make_session(sid=f"en{i}", persona_id=f"p{i}") for i in range(copies)]
    sessions += [make_session(lang="zh", sid=f"zh{i}", persona_id=f"q{i}") for i in range(copies)]
    (folder / "cur").mkdir()
    (folder / "cur" / "sessions.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in sessions))
    export_dataset(folder / "cur", folder / "data", fmt="openai", mode="think", validation=0.0)
    return folder / "data" / "train.jsonl"


def run_empllm(data: Path, out: Path, steps: int, batch: int, max_length: int) -> tuple[int, float]:
    empllm = str(Path(sys.executable).parent / "empllm")
    subprocess.run([empllm, "-q", "train", str(data), "--out", str(out), "--max-steps", str(steps), "--batch-size",
                    str(batch), "--max-length", str(max_length)], check=True)  # fmt: skip
    summary = json.loads((out / "train_summary.json").read_text())
    return summary["tokens_seen"], summary["train_wall_s"]


def run_plain(data: Path, base: Path, out: Path, steps: int, batch: int, max_length: int) -> tuple[int, float]:
    script = str(Path(__file__).with_name("plain_trl_sft.py"))
    cmd = [sys.executable, script, str(data), str(base), str(out), "--steps", str(steps), "--batch-size", str(batch),
           "--max-length", str(max_length)]  # fmt: skip
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["tokens"], result["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/training.json"))
    args = parser.parse_args()
    settings = Settings()
    base = dequantized_checkpoint(embedded_gguf_path(settings.cache_dir), settings.cache_dir)
    rates: dict[str, list[float]] = {"empllm": [], "plain_trl": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp), copies=8)
        for i in range(args.runs):
            tokens, secs = run_empllm(data, Path(tmp) / f"e{i}", args.steps, args.batch_size, args.max_length)
            rates["empllm"].append(tokens / secs)
            tokens_p, secs_p = run_plain(data, base, Path(tmp) / f"p{i}", args.steps, args.batch_size, args.max_length)
            rates["plain_trl"].append(tokens_p / secs_p)
            print(f"run {i + 1}: empllm {tokens / secs:.1f} tok/s ({tokens} tokens), plain TRL {tokens_p / secs_p:.1f} "
                  f"tok/s ({tokens_p} tokens)")  # fmt: skip
    med = {k: statistics.median(v) for k, v in rates.items()}
    result = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/training_throughput.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU",
        "settings": {"steps": args.steps, "batch_size": args.batch_size, "max_length": args.max_length, "lora_r": 8},
        "tokens_per_s": {k: [round(x, 1) for x in v] for k, v in rates.items()},
        "median_tokens_per_s": {k: round(v, 1) for k, v in med.items()},
        "ratio_empllm_over_plain": round(med["empllm"] / med["plain_trl"], 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
