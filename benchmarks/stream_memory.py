"""Peak memory of `curate` (all default steps, MinHash LSH included) and `export` on a large
generated session file: both stream their input, so the peak should not grow with it.

    python benchmarks/stream_memory.py --sessions 100000 [--out docs/benchmarks/stream_memory.json]

The sessions are generated here from a few sentence templates with random words, so the
near-duplicate step drops most of them. Both stages read the whole generated file. Each stage runs
in a child process of its own, which reports its own peak RSS (ru_maxrss) and wall time.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WORDS = (
    "garden kitchen sister brother office manager neighbour teacher landlord cousin river bicycle violin "
    "painting recipe holiday wedding funeral promotion deadline exam project interview apartment village "
    "grandmother grandfather daughter husband partner roommate colleague coach doctor nurse bakery library "
    "train station harbour bridge market concert festival birthday anniversary letter phone message photo "
    "album notebook novel garden shed piano guitar football tennis swimming marathon hike mountain forest "
    "beach island winter summer autumn spring morning evening weekend holiday budget rent loan savings "
    "shift schedule meeting report presentation client customer team lecture seminar thesis grade"
).split()


def make_session(i: int, rng: random.Random) -> dict:
    w = rng.sample(WORDS, 9)
    client = [f"Lately I keep thinking about my {w[0]} and the {w[1]} near the {w[2]}, it sits with me all day.",
              f"Mostly the {w[3]}. My {w[4]} says I worry too much about the {w[5]}.",
              f"I suppose the {w[6]} matters more than I admit, and the {w[7]} too."]  # fmt: skip
    replies = [f"It sounds like the {w[0]} and the {w[1]} are weighing on you. What stays with you most?",
               f"So the {w[3]} keeps coming back, and hearing it called worry stings. How does that land?"]  # fmt: skip
    notes = {"emotion": "anxiety", "intensity": 5, "cause": f"thinking about my {w[0]} and the {w[1]}",
             "appraisal": f"the {w[3]} matters and the {w[4]} says I worry too much",
             "unmet_need": f"to talk about the {w[0]}", "risk_level": "none", "strategy": "reflection_of_feelings",
             "rationale": "reflect first"}  # fmt: skip
    turns = []
    for k, text in enumerate([client[0], replies[0], client[1], replies[1], client[2]]):
        if k % 2 == 0:
            state = {"emotion_intensity": 5, "trust": 4, "disclosed": [], "reaction": ""}
            turns.append({"role": "client", "content": text, "client_state": state})
        else:
            turns.append({"role": "psychologist", "content": text, "contemplation": notes})
    return {"id": f"s{i:06d}", "persona_id": f"p{i % 5000:04d}", "language": "en", "stance": "person_centred",
            "seed": i, "config_hash": "bench", "prompts_version": "bench",
            "models": {"client": "c", "psychologist": "p"},
            "created": "2026-12-03T00:00:00+00:00", "empllm_version": "bench", "turns": turns,
            "outcome": "client_ended"}  # fmt: skip


def stage(name: str, src: Path, out: Path) -> None:
    """Runs in the child: one stage, then its own peak RSS and wall time as JSON on stdout."""
    import asyncio

    started = time.perf_counter()
    if name == "curate":
        from empllm.curate.pipeline import CurateConfig, run_curation

        summary = asyncio.run(run_curation(src, out, CurateConfig()))
        detail = {"kept": summary.kept, "total": summary.total}
    else:
        from empllm.export import export_dataset

        info = export_dataset(src, out, fmt="openai", mode="think", validation=0.02)
        detail = {"sessions": info["sessions"]}
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"stage": name, "wall_s": round(time.perf_counter() - started, 1),
                      "peak_rss_mib": round(peak_mib, 1), **detail}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stage", choices=["curate", "export"], help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dst", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        return stage(args.stage, args.src, args.dst)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rng = random.Random(0)
        src = work / "sim" / "sessions.jsonl"
        src.parent.mkdir()
        with src.open("w", encoding="utf-8") as f:
            for i in range(args.sessions):
                f.write(json.dumps(make_session(i, rng)) + "\n")
        results = {"benchmark": "stream_memory", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                   "sessions": args.sessions, "input_mib": round(src.stat().st_size / 2**20, 1),
                   "stages": []}  # fmt: skip
        # both stages read the whole generated file (export does not need curation first)
        for name, inp, out in (("curate", src, work / "cur"), ("export", src, work / "data")):
            done = subprocess.run([sys.executable, __file__, "--stage", name, "--src", str(inp), "--dst", str(out)],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            results["stages"].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(results["stages"][-1]), file=sys.stderr)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
