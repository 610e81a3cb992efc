"""Simulation throughput: orchestration overhead against a fixed-latency stub server, and
sessions/hour on the embedded model.

Stub part: a local OpenAI-compatible server answers every call after exactly LATENCY. A session
here is 8 sequential calls (plan, 4 psychologist replies, 3 client turns), so with K sessions in
flight the ideal throughput is K / (8 x LATENCY) sessions/s; the figure is achieved / ideal.

Embedded part: real sessions with the default model (Gemma 3 270M, in process), both languages,
with the share of turns the base model produced in a parseable form.

    python benchmarks/simulation_throughput.py [--latency-ms 100] [--concurrency 1 16 64] [--embedded-sessions 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from empllm.jsonl_store import read_jsonl
from empllm.settings import Settings
from empllm.simulate.runner import SimulationConfig, run_simulation

CALLS_PER_SESSION = 8  # plan + 4 psychologist replies + 3 client turns (max_turns=4, client never ends)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_stub(latency_ms: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("stub_openai_server.py")),
                             "--port", str(port), "--latency-ms", str(latency_ms)])  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/models", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("stub server did not start")


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of another one from /proc."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


async def stub_run(url: str, concurrency: int, sessions: int, latency_s: float, stub_pid: int) -> dict:
    # checks=False: the stub's fixed answers are not grounded in what each persona says, and the line
    # checks would resample them; this part measures the orchestration of a fixed 8 calls a session.
    config = SimulationConfig(sessions=sessions, client_model="openai:stub", psychologist_model="openai:stub",
                              min_turns=4, max_turns=4, plan_every=0, language="all", checks=False)  # fmt: skip
    settings = Settings(base_url=url, use_cache=False, retries=0)
    with tempfile.TemporaryDirectory() as tmp:
        cpu_before = cpu_seconds(), cpu_seconds(stub_pid)
        start = time.perf_counter()
        summary = await run_simulation(config, Path(tmp) / "run", settings=settings, concurrency=concurrency)
        wall = time.perf_counter() - start
        client_cpu, stub_cpu = cpu_seconds() - cpu_before[0], cpu_seconds(stub_pid) - cpu_before[1]
        records = read_jsonl(summary.out_file)
    calls = sum(u["calls"] for r in records for u in r["usage"].values())
    assert calls == sessions * CALLS_PER_SESSION, (calls, [r["outcome_detail"] for r in records][:3])
    ideal_per_s = concurrency / (CALLS_PER_SESSION * latency_s)
    achieved_per_s = sessions / wall
    return {
        "concurrency": concurrency, "sessions": sessions, "wall_s": round(wall, 2),
        "achieved_sessions_per_hour": round(achieved_per_s * 3600),
        "ideal_sessions_per_hour": round(ideal_per_s * 3600),
        "achieved_over_ideal": round(achieved_per_s / ideal_per_s, 3),
        "outcomes": sorted({r["outcome"] for r in records}),
        # where the time goes: CPU per call of the simulating process and of the stub server
        "client_cpu_ms_per_call": round(1000 * client_cpu / calls, 3),
        "stub_cpu_ms_per_call": round(1000 * stub_cpu / calls, 3),
    }  # fmt: skip


async def embedded_run(sessions: int, max_turns: int) -> dict:
    config = SimulationConfig(sessions=sessions, client_model="llamacpp:gemma-3-270m",
                              psychologist_model="llamacpp:gemma-3-270m", min_turns=2, max_turns=max_turns)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = await run_simulation(config, Path(tmp) / "run", settings=Settings(use_cache=False), concurrency=1)
        wall = time.perf_counter() - start
        records = read_jsonl(summary.out_file)
    psych_turns = [t for r in records for t in r["turns"] if t["role"] == "psychologist"]
    client_turns = [t for r in records for t in r["turns"][1:] if t["role"] == "client"]
    calls = {role: sum(r["usage"][role]["calls"] for r in records) for role in ("client", "psychologist")}
    return {
        "sessions": sessions, "max_turns": max_turns, "wall_s": round(wall, 1),
        "sessions_per_hour": round(sessions / wall * 3600, 1),
        "outcomes": {o: sum(r["outcome"] == o for r in records) for o in ("client_ended", "max_turns", "error")},
        "psychologist_turns_parsed": sum(t["contemplation"] is not None for t in psych_turns),
        "psychologist_turns_failed": sum(t["parse_error"] is not None for t in psych_turns),
        "client_turns_parsed": sum(t["client_state"] is not None for t in client_turns),
        "model_calls": calls,
        "completion_tokens": sum(u["completion_tokens"] for r in records for u in r["usage"].values()),
    }  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--rounds", type=int, default=4, help="sessions per run = rounds x concurrency")
    parser.add_argument("--embedded-sessions", type=int, default=4)
    parser.add_argument("--embedded-max-turns", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/simulation.json"))
    args = parser.parse_args()

    result = {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/simulation_throughput.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "latency_ms": args.latency_ms,
        "stub": [],
    }
    proc, url = start_stub(args.latency_ms)
    try:
        for k in args.concurrency:
            row = await stub_run(url, k, args.rounds * k, args.latency_ms / 1000, proc.pid)
            result["stub"].append(row)
            print(f"stub, concurrency {k:3d}: {row['achieved_sessions_per_hour']:>8} sessions/h "
                  f"(ideal {row['ideal_sessions_per_hour']}), achieved/ideal {row['achieved_over_ideal']}, "
                  f"CPU ms a call: client {row['client_cpu_ms_per_call']}, "
                  f"stub {row['stub_cpu_ms_per_call']}")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait()
    if args.embedded_sessions:
        result["embedded"] = await embedded_run(args.embedded_sessions, args.embedded_max_turns)
        print("embedded:", json.dumps(result["embedded"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
