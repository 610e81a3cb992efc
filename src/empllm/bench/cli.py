"""`empllm bench` (run EmpTest), `empllm bench audit`, `empllm bench compare` and `empllm bench report`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from empllm.bench.progress import BenchProgress
from empllm.cli_common import BaseUrlOpt, NoCacheOpt, QuietOpt, settings_from_flags, state
from empllm.errors import EmpLLMError, flag_error

bench_app = typer.Typer(help="EmpTest: measure empathy and emotional intelligence.", invoke_without_command=True)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text).strip("-")[:60]


def _print_results(results: dict) -> None:
    table = Table(title=f"EmpTest · {results['model']}")
    for col in ("task", "method", "n", "score", "95% interval", "chance", "chance-norm."):
        table.add_column(col, justify="right" if col not in ("task", "method") else "left")
    for key, row in results["tasks"].items():
        ci = row["interval"]
        fmt = lambda x: "–" if x is None else f"{x:.1f}"  # noqa: E731
        table.add_row(key, str(row["method"]), f"{row['n']}/{row['n_items']}", fmt(row["score"]),
                      f"{fmt(ci and ci[0])}–{fmt(ci and ci[1])}", fmt(row["chance"]),
                      fmt(row["chance_normalized"]))  # fmt: skip
    Console().print(table)
    for name, why in results.get("skipped", {}).items():
        sys.stderr.write(f"skipped {name}: {why}\n")


@bench_app.callback()
def bench(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model spec to measure.")] = None,
    tasks: Annotated[str | None, typer.Option("--tasks", help="Comma-separated (default: the built-in ones).")] = None,
    task: Annotated[str | None, typer.Option("--task", help="One task, e.g. eqbench with --data.")] = None,
    language: Annotated[str, typer.Option(help="en, zh or all")] = "all",
    judge: Annotated[str | None, typer.Option(help="Judge model spec (respond_gen, session, pairwise).")] = None,
    client: Annotated[str | None, typer.Option(help="Client model for `session` (default: the judge).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N items per task and language.")] = None,
    method: Annotated[str, typer.Option(help="auto, loglikelihood or generate (closed tasks).")] = "auto",
    mc_format: Annotated[str, typer.Option(help="cloze or listed (log-likelihood prompts).")] = "cloze",
    permutations: Annotated[int, typer.Option(min=1, help="Cyclic option orders averaged (listed).")] = 1,
    calibrate: Annotated[
        bool, typer.Option("--calibrate/--no-calibrate", help="Also acc_mi (options' prior removed).")
    ] = True,
    data: Annotated[Path | None, typer.Option(help="External benchmark file (eqbench, emobench_*).")] = None,
    include_path: Annotated[
        Path | None, typer.Option(help="A folder of task declarations (*.yaml) beside their item files.")
    ] = None,
    responses: Annotated[Path | None, typer.Option(help="JSONL of {id, response} to score without a model.")] = None,
    pairwise: Annotated[str | None, typer.Option(help="'reference' or a run folder: pairwise respond_gen.")] = None,
    session_replies: Annotated[int, typer.Option(min=1, help="Replies per `session` conversation.")] = 4,
    seed: Annotated[int, typer.Option()] = 0,
    concurrency: Annotated[int, typer.Option(min=1, help="Items in flight.")] = 4,
    out: Annotated[Path | None, typer.Option(help="Run folder (default bench-runs/<model>-<config>).")] = None,
    base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run EmpTest on a model; rerun the same command to resume. Subcommands: audit, compare, report."""
    if ctx.invoked_subcommand is not None:
        return
    from pydantic import ValidationError

    from empllm.bench.registry import include_path as include_tasks
    from empllm.bench.run import BenchConfig, config_hash, run_bench
    from empllm.bench.tasks import default_tasks, load_units, parse_task_list

    state.quiet = state.quiet or quiet
    overrides = {"base_url": base_url} | ({"use_cache": False} if no_cache else {})
    settings = settings_from_flags(model=model, **overrides)
    if task and tasks:
        raise EmpLLMError("give --task or --tasks, not both")
    if include_path is not None:
        include_tasks(include_path)
    try:
        config = BenchConfig(
            model=None if responses and not model else settings.model,
            tasks=parse_task_list(task or tasks or ",".join(default_tasks())),
            language=language, judge=judge, client=client, limit=limit, method=method, mc_format=mc_format,
            permutations=permutations, calibrate=calibrate, seed=seed, data=str(data) if data else None,
            responses=str(responses) if responses else None, pairwise=pairwise, session_replies=session_replies,
            include_path=str(include_path) if include_path else None,
        )  # fmt: skip
    except ValidationError as exc:
        raise flag_error(exc) from None
    if out is None:
        units = load_units(config.tasks, config.language, data=data, limit=limit)
        out = Path("bench-runs") / f"{_slug(config.model or 'responses')}-{config_hash(config, units)[:8]}"
    try:
        with BenchProgress(enabled=not state.quiet) as progress:
            results = asyncio.run(run_bench(config, out, settings=settings, progress=progress, concurrency=concurrency))
    except KeyboardInterrupt:
        sys.stderr.write(f"empllm: interrupted; scored items are in {out}. Rerun the same command to resume.\n")
        sys.exit(130)
    if not state.quiet:
        _print_results(results)
    sys.stderr.write(f"wrote {out / 'results.json'}, {out / 'samples.jsonl'} and {out / 'report.html'}\n")


@bench_app.command("audit")
def audit_command(
    items: Annotated[Path | None, typer.Option(help="A folder of item files (default: the shipped items).")] = None,
) -> None:
    """Check the items: schema, unique ids, near-duplicates, gold balance, artifact baselines; exit 1 on failure."""
    from empllm.bench.audit import audit
    from empllm.bench.registry import items_dir

    checks = audit(items or items_dir(), personas=items is None)
    table = Table(title="EmpTest audit")
    for col in ("file", "check", "result", "detail"):
        table.add_column(col)
    for c in checks:
        table.add_row(c.target, c.check, "ok" if c.ok else "FAIL", c.detail)
    Console(width=160).print(table)
    failed = [c for c in checks if not c.ok]
    if failed:
        sys.stderr.write(f"empllm: audit failed: {len(failed)} of {len(checks)} checks\n")
        raise typer.Exit(1)
    sys.stderr.write(f"audit passed: {len(checks)} checks\n")


@bench_app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="The baseline run folder (A).")],
    run_b: Annotated[Path, typer.Argument(help="The run compared with it (B).")],
    html: Annotated[Path | None, typer.Option(help="Also write a report with the comparison view here.")] = None,
) -> None:
    """Per-task deltas B - A with paired bootstrap 95% intervals over shared items."""
    from empllm.bench.compare import compare_runs
    from empllm.bench.report import write_report

    comparison = compare_runs(run_a, run_b)
    table = Table(title=f"B = {comparison['b']['model']}  vs  A = {comparison['a']['model']}")
    for col in ("task", "metric", "A", "B", "delta", "95% interval", "n", "verdict"):
        table.add_column(col)
    for key, row in comparison["tasks"].items():
        for metric, r in row["metrics"].items():
            lo, hi = r["interval"]
            verdict = "B higher" if lo > 0 else "B lower" if hi < 0 else "within noise"
            table.add_row(key, metric, f"{r['a']:.1f}", f"{r['b']:.1f}", f"{r['delta']:+.1f}",
                          f"{lo:+.1f} to {hi:+.1f}", str(r["n"]), verdict)  # fmt: skip
    Console(width=140).print(table)
    if html is not None:
        write_report(run_b, compare_with=run_a, out=html)
        sys.stderr.write(f"wrote {html}\n")


@bench_app.command("report")
def report_command(
    run: Annotated[Path, typer.Argument(help="A bench run folder.")],
    compare_with: Annotated[Path | None, typer.Option("--compare", help="A baseline run to compare with.")] = None,
) -> None:
    """(Re)write RUN/report.html, with a comparison view against another run if given."""
    from empllm.bench.report import write_report

    sys.stderr.write(f"wrote {write_report(run, compare_with=compare_with)}\n")


@bench_app.command("export")
def export_command(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="hf (parquet, with a card) or lm-eval (lm-eval tasks).")],
    out: Annotated[Path, typer.Argument(help="The folder to write (replaced whole).")],
) -> None:
    """Write EmpTest for other tools: `hf` gives a folder `datasets.load_dataset(DIR, "perceive_en")` reads,
    `lm-eval` one that `lm_eval --include_path DIR --tasks emptest` runs."""
    if fmt == "hf":
        from empllm.bench.dataset_export import export_hf

        counts = export_hf(out)
        sys.stderr.write(f"wrote {out}: {len(counts)} configs, {sum(counts.values())} items\n")
    elif fmt == "lm-eval":
        from empllm.bench.lm_eval_export import export_lm_eval

        counts = export_lm_eval(out)
        sys.stderr.write(f"wrote {out}: {len(counts)} tasks, {sum(counts.values())} items; "
                         f"run: lm_eval --model hf --model_args pretrained=MODEL --include_path {out} "
                         f"--tasks emptest\n")  # fmt: skip
    else:
        raise EmpLLMError(f"unknown export format {fmt!r}; known: hf, lm-eval")
