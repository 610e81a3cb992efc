"""`empllm demo`: the whole loop in one command, resumable (rerun the same command after a stop)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from empllm.cli_common import BaseUrlOpt, NoCacheOpt, QuietOpt, settings_from_flags, state
from empllm.errors import EmpLLMError, flag_error


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise EmpLLMError(f"--seed-data {value!r}: expected on or off")
    return value == "on"


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Run folder (every stage's files, results.json, report.html).")] = (
        Path("runs/empllm-demo")
    ),
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run of every stage (about 4 minutes on 2 cores).")] = (
        False
    ),
    model: Annotated[str | None, typer.Option("--model", "-m", help="Simulator (default: the embedded model).")] = None,
    base: Annotated[str | None, typer.Option(help="Model to fine-tune and measure (default hf:gemma-3-270m).")] = None,
    judge: Annotated[str | None, typer.Option(help="A chat model for EmpTest's judged tasks (off by default).")] = None,
    seed_data: Annotated[str, typer.Option(help="on: also train on the hand-written exemplar sessions.")] = "off",
    sessions: Annotated[int | None, typer.Option(min=1, help="Simulated sessions per language.")] = None,
    max_turns: Annotated[int | None, typer.Option(min=2, help="Most psychologist replies per session.")] = None,
    train_steps: Annotated[int | None, typer.Option(min=1, help="Optimizer steps per fine-tuning run.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    max_length: Annotated[int | None, typer.Option(min=64, help="Tokens per training example.")] = None,
    bench_limit: Annotated[
        int | None, typer.Option(min=0, help="EmpTest items per sub-task and language (0: all).")
    ] = None,
    calibrate: Annotated[
        bool | None, typer.Option("--calibrate/--no-calibrate", help="Also score EmpTest's acc_mi (twice the work).")
    ] = None,
    tasks: Annotated[
        str | None, typer.Option(help="EmpTest sub-tasks, comma-separated (default: perceive,respond_mc).")
    ] = None,
    bench_backend: Annotated[
        str | None, typer.Option(help="llamacpp (default for a GGUF base; adapters converted) or hf.")
    ] = None,
    languages: Annotated[str, typer.Option(help="Languages to simulate and measure, comma-separated.")] = "en,zh",
    seed: Annotated[int, typer.Option()] = 0,
    base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Simulate, curate, fine-tune with and without contemplation, run EmpTest on all three, report."""
    from pydantic import ValidationError

    from empllm.bench.tasks import parse_task_list
    from empllm.demo.config import demo_config
    from empllm.demo.pipeline import run_demo

    state.quiet = state.quiet or quiet
    try:
        config = demo_config(quick, model=model, base=base, judge=judge, seed_data=_on_off(seed_data), seed=seed,
                             sessions_per_language=sessions, max_turns=max_turns, train_steps=train_steps,
                             batch_size=batch_size, max_length=max_length, bench_limit=bench_limit,
                             calibrate=calibrate, bench_backend=bench_backend,
                             tasks=parse_task_list(tasks) if tasks else None,
                             languages=[x.strip() for x in languages.split(",") if x.strip()])  # fmt: skip
    except ValidationError as exc:
        raise flag_error(exc) from None
    settings = settings_from_flags(base_url=base_url, use_cache=False if no_cache else None)
    try:
        results = asyncio.run(run_demo(config, out, settings=settings, quiet=state.quiet))
    except KeyboardInterrupt:
        sys.stderr.write(f"empllm: interrupted; finished stages are kept in {out}. Rerun the same command to resume.\n")
        sys.exit(130)
    if not state.quiet:
        for line in results["verdict"]:
            sys.stderr.write(f"  {line}\n")
        total = sum(results["stage_wall_s"].values())
        sys.stderr.write(f"report: {out / 'report.html'} (stages took {total:.0f} s in all)\n")
