"""The `empllm` command. Each verb is thin: it parses flags and calls a stage."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from empllm import __version__
from empllm.backends.base import GenerationSettings
from empllm.cli_common import AgentStyleOpt, BaseUrlOpt, ModelOpt, NoCacheOpt, QuietOpt, checked_style, state
from empllm.cli_common import settings_from_flags as _settings
from empllm.errors import EmpLLMError, flag_error

app = typer.Typer(
    name="empllm",
    help="EmpLLM: simulate counseling sessions, curate, fine-tune, benchmark and serve empathetic models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"empllm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    config: Annotated[Path | None, typer.Option("--config", help="YAML settings file.")] = None,
    models_file: Annotated[
        Path | None,
        typer.Option(
            "--models-file",
            help="YAML of named OpenAI-compatible endpoints: openai:NAME uses its server "
            "and key variable (see README, 'Each model on its own server').",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or usage output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    state.config, state.models_file, state.quiet = config, models_file, quiet
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _print_usage(runtime) -> None:
    if state.quiet:
        return
    u = runtime.usage
    rate = u.completion_tokens / u.wall_s if u.wall_s > 0 else 0.0
    # plain write: rich would wrap the line at 80 columns when stderr is not a terminal
    sys.stderr.write(
        f"{runtime.spec}: {u.prompt_tokens} prompt + {u.completion_tokens} completion tokens, "
        f"{u.wall_s:.2f}s ({rate:.1f} tok/s), {u.cache_hits} cached\n"
    )


@app.command()
def models() -> None:
    """List the model backends and whether each is usable here (and why not)."""
    from empllm.backends.registry import describe_backends

    table = Table("backend", "spec", "usable", "notes")
    for row in describe_backends(_settings()):
        table.add_row(row.kind, row.example, "yes" if row.usable else "no", row.why)
    Console().print(table)


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="Text to continue (or, with --chat, a user message).")],
    model: ModelOpt = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens to generate.")] = 128,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 is greedy.")] = 0.7,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    chat: Annotated[bool, typer.Option("--chat", help="Send PROMPT as a chat message.")] = False,
    base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Generate a continuation of PROMPT (proves a model runs end to end)."""
    state.quiet = state.quiet or quiet
    from empllm.runtime import build_runtime

    settings = _settings(model=model, base_url=base_url, use_cache=False if no_cache else None)
    gen = GenerationSettings(max_tokens=max_tokens, temperature=temperature, seed=seed)

    async def run() -> None:
        runtime = build_runtime(settings.model, settings, base_url=base_url)
        try:
            if chat:
                done = await runtime.chat([{"role": "user", "content": prompt}], gen)
                print(done.text)
            else:
                done = await runtime.complete(prompt, gen)
                print(prompt + done.text)
            _print_usage(runtime)
        finally:
            await runtime.aclose()

    asyncio.run(run())


@app.command()
def chat(
    model: ModelOpt = None,
    system: Annotated[str | None, typer.Option(help="System message for the conversation.")] = None,
    max_tokens: Annotated[int, typer.Option(min=1)] = 200,
    temperature: Annotated[float, typer.Option(min=0.0)] = 0.7,
    seed: Annotated[int | None, typer.Option()] = None,
    show_thoughts: Annotated[bool, typer.Option(help="Print the agent's contemplation before each reply.")] = False,
    language: Annotated[str | None, typer.Option(help="en or zh (default: follow each message).")] = None,
    locale: Annotated[str | None, typer.Option(help="Crisis-resource locale: US, UK, IE, CN.")] = None,
    plain: Annotated[bool, typer.Option(help="Talk to the bare model, without the agent.")] = False,
    style: AgentStyleOpt = "auto",
    base_url: BaseUrlOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Chat in the terminal with the empathetic agent (streamed). /reset, /save FILE, /lang, /thoughts, /quit."""
    state.quiet = state.quiet or quiet
    from empllm.chat_repl import run_repl

    # a conversation is not replayed from the cache: the same words may deserve a fresh reply
    settings = _settings(model=model, base_url=base_url, use_cache=False)
    gen = GenerationSettings(max_tokens=max_tokens, temperature=temperature, seed=seed)
    asyncio.run(run_repl(settings, gen, system=system, base_url=base_url, quiet=state.quiet, plain=plain,
                         show_thoughts=show_thoughts, language=language, locale=locale,
                         style=checked_style(style)))  # fmt: skip


personas_app = typer.Typer(help="Persona cards: list, show, validate, generate and coverage.", no_args_is_help=True)
app.add_typer(personas_app, name="personas")

PersonaSourceOpt = Annotated[str, typer.Option("--personas", help="'built-in' or a YAML/JSONL file of persona cards.")]


@personas_app.command("list")
def personas_list(
    personas: PersonaSourceOpt = "built-in",
    language: Annotated[str | None, typer.Option(help="en or zh")] = None,
) -> None:
    """A table of persona cards."""
    from empllm.personas.loader import load_persona_source

    table = Table("id", "lang", "topic", "emotion", "style", "attitude", "risk")
    rows = [p for p in load_persona_source(personas) if language in (None, p.language)]
    for p in rows:
        table.add_row(p.id, p.language, p.topic.value, f"{p.primary_emotion.value} {p.starting_intensity}",
                      p.talking_style, p.attitude, p.risk_level.value)  # fmt: skip
    Console().print(table)
    Console().print(f"{len(rows)} personas")


@personas_app.command("show")
def personas_show(persona_id: str, personas: PersonaSourceOpt = "built-in") -> None:
    """One persona card in full (YAML)."""
    import yaml

    from empllm.personas.loader import load_persona_source

    match = next((p for p in load_persona_source(personas) if p.id == persona_id), None)
    if match is None:
        raise EmpLLMError(f"no persona with id {persona_id!r} in {personas}")
    print(yaml.safe_dump(match.model_dump(mode="json"), allow_unicode=True, sort_keys=False), end="")


@personas_app.command("validate")
def personas_validate(
    file: Annotated[Path, typer.Argument(help="A YAML list or JSONL file of persona cards.")],
) -> None:
    """Check a file of persona cards against the schema; one line per problem, exit 2 if any."""
    from collections import Counter

    from empllm.personas.loader import load_personas

    cards = load_personas(file)
    by_lang = Counter(p.language for p in cards)
    print(f"{file}: {len(cards)} valid persona cards ({', '.join(f'{k} {v}' for k, v in sorted(by_lang.items()))})")


@personas_app.command("generate")
def personas_generate(
    out: Annotated[Path, typer.Option("--out", help="Folder: personas.jsonl, attempts.jsonl, funnel, coverage.")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="How many new cards to keep.")] = 10,
    language: Annotated[str, typer.Option(help="en or zh")] = "en",
    model: ModelOpt = None,
    seed: Annotated[int, typer.Option(help="Seeds the attribute draws and the sampling.")] = 0,
    temperature: Annotated[float, typer.Option(min=0.0)] = 0.9,
    concurrency: Annotated[int, typer.Option(min=1, help="Cards written at once (a server).")] = 1,
    max_attempts: Annotated[int | None, typer.Option(min=1, help="Attempts in all (default: 4 per card).")] = None,
    base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """New persona cards from a chat model, seeded by attributes of the built-in cards; validated, near-duplicates
    removed, resumable (run it again with the same arguments)."""
    state.quiet = state.quiet or quiet
    from empllm.personas.loader import builtin_personas
    from empllm.personas.synthesis import generate_personas
    from empllm.runtime import build_runtime

    if language not in ("en", "zh"):
        raise EmpLLMError(f"--language {language!r}: expected en or zh")
    settings = _settings(model=model, base_url=base_url, use_cache=False if no_cache else None)

    def progress(kept, asked, attempt):
        if not state.quiet:
            line = f"attempt {attempt.index + 1}: {attempt.outcome} {attempt.reason}".rstrip()
            print(f"{line} ({kept}/{asked} kept)", file=sys.stderr)

    async def run() -> dict:
        runtime = build_runtime(settings.model, settings, base_url=base_url)
        try:
            return await generate_personas(runtime, builtin_personas(), out, language=language, n=n, seed=seed,
                                           temperature=temperature, concurrency=concurrency,
                                           max_attempts=max_attempts, progress=progress)  # fmt: skip
        finally:
            await runtime.aclose()

    funnel = asyncio.run(run())
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(funnel["outcomes"].items()))
    print(f"{funnel['kept']} of {n} cards kept after {funnel['attempts']} attempts ({outcomes}); "
          f"{out / 'personas.jsonl'}")  # fmt: skip
    if funnel["kept"] == 0:
        raise EmpLLMError(f"no card passed the checks; see {out / 'attempts.jsonl'} for why")


@personas_app.command("coverage")
def personas_coverage(personas: PersonaSourceOpt = "built-in") -> None:
    """Cards per language, topic, talking style, attitude and risk level (JSON), and the topics with no card."""
    from empllm.personas.coverage import coverage
    from empllm.personas.loader import load_persona_source

    print(json.dumps(coverage(load_persona_source(personas)), indent=2, ensure_ascii=False))


def _parse_shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        i, n = (int(x) for x in value.split("/"))
    except ValueError:
        raise EmpLLMError(f"--shard {value!r}: expected i/n, e.g. 0/4") from None
    if not (n >= 1 and 0 <= i < n):
        raise EmpLLMError(f"--shard {value!r}: need 0 <= i < n")
    return i, n


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Run folder (sessions.jsonl, run.json).")],
    sessions: Annotated[int, typer.Option("--sessions", "-n", min=1, help="How many sessions in all.")] = 4,
    personas: PersonaSourceOpt = "built-in",
    model: ModelOpt = None,
    client_model: Annotated[str | None, typer.Option(help="Model for the client (default: --model).")] = None,
    psychologist_model: Annotated[
        str | None, typer.Option(help="Model for the psychologist (default: --model).")
    ] = None,
    stance: Annotated[str, typer.Option(help="person_centred, cbt or motivational_interviewing")] = "person_centred",
    language: Annotated[str, typer.Option(help="en, zh or all")] = "all",
    concurrency: Annotated[int, typer.Option(min=1, help="Sessions in flight.")] = 4,
    seed: Annotated[int, typer.Option()] = 0,
    shard: Annotated[str | None, typer.Option(help="i/n: this process's share of the sessions.")] = None,
    min_turns: Annotated[int, typer.Option(min=1, help="Replies before the client may end.")] = 3,
    max_turns: Annotated[int, typer.Option(min=1, help="Most psychologist replies.")] = 8,
    temperature: Annotated[float, typer.Option(min=0.0)] = 0.8,
    constrain: Annotated[
        bool,
        typer.Option(
            "--constrain/--no-constrain", help="Grammar-constrained lines for base models (llama.cpp; slower)."
        ),
    ] = False,
    checks: Annotated[
        bool,
        typer.Option("--checks/--no-checks", help="Resample lines that fail the cheap checks (rejection sampling)."),
    ] = True,
    attempts: Annotated[int, typer.Option(min=1, help="Samples per line before a session fails.")] = 8,
    openers: Annotated[
        bool,
        typer.Option("--openers/--no-openers", help="Base models: start each reply as its strategy suggests."),
    ] = True,
    base_url: BaseUrlOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Simulate counseling sessions; rerun the same command to resume after an interruption."""
    from pydantic import ValidationError

    from empllm.simulate.progress import SimulationProgress
    from empllm.simulate.runner import SimulationConfig, run_simulation

    state.quiet = state.quiet or quiet
    settings = _settings(model=model, base_url=base_url)
    try:
        config = SimulationConfig(
            personas=personas, sessions=sessions, client_model=client_model or settings.model,
            psychologist_model=psychologist_model or settings.model, stance=stance, language=language, seed=seed,
            min_turns=min_turns, max_turns=max(max_turns, min_turns), temperature=temperature, constrain=constrain,
            checks=checks, attempts=attempts, openers=openers,
        )  # fmt: skip
    except ValidationError as exc:
        raise flag_error(exc) from None
    shard_pair = _parse_shard(shard)
    progress = SimulationProgress(enabled=not state.quiet)
    try:
        with progress:
            summary = asyncio.run(
                run_simulation(
                    config,
                    out,
                    settings=settings,
                    concurrency=concurrency,
                    shard=shard_pair,
                    on_session=progress.update,
                    runtimes=None,
                )  # fmt: skip
            )
    except KeyboardInterrupt:
        sys.stderr.write(f"empllm: interrupted; finished sessions are in {out}. Rerun the same command to resume.\n")
        sys.exit(130)
    progress.report(summary)


@app.command()
def show(
    target: Annotated[Path, typer.Argument(help="A run folder or a sessions .jsonl file.")],
    session: Annotated[str | None, typer.Option("--session", help="Only this session id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many sessions.")] = 20,
) -> None:
    """Print sessions readably: replies, contemplations and the client's hidden state."""
    from empllm.session_view import load_sessions, print_session

    found = load_sessions(target)
    if session is not None:
        found = [s for s in found if s.id == session]
        if not found:
            raise EmpLLMError(f"no session {session!r} in {target}")
    console = Console()
    for s in found[:limit]:
        print_session(s, console)
    if len(found) > limit:
        console.print(f"[dim]({len(found) - limit} more; use --limit or --session)[/dim]")


@app.command()
def curate(
    source: Annotated[Path, typer.Argument(metavar="IN", help="A simulation run folder or sessions .jsonl file.")],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Output folder (kept sessions, decisions, curate.json).")],
    judge: Annotated[
        str | None, typer.Option(help="A chat-tuned model spec for the rubric judge (off by default).")
    ] = None,
    min_replies: Annotated[int, typer.Option(min=1)] = 2,
    max_replies: Annotated[int, typer.Option(min=1)] = 30,
    dedup_threshold: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="MinHash Jaccard for whole sessions.")
    ] = 0.8,
    steps: Annotated[
        str | None,
        typer.Option(help="Curation steps in order, comma-separated (default: rules,grounding,safety,dedup)."),
    ] = None,
    no_safety: Annotated[bool, typer.Option("--no-safety", help="Skip the reply-safety filter.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Judge calls in flight.")] = 4,
    base_url: BaseUrlOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Keep the sessions worth training on; every drop is recorded with its reason. Resumable."""
    from empllm.curate.config import DEFAULT_STEPS, CurateConfig
    from empllm.curate.pipeline import run_curation
    from empllm.runtime import build_runtime

    state.quiet = state.quiet or quiet
    chosen = [name.strip() for name in steps.split(",") if name.strip()] if steps else list(DEFAULT_STEPS)
    chosen = [name for name in chosen if not (no_safety and name == "safety")]
    config = CurateConfig(min_replies=min_replies, max_replies=max_replies, dedup_threshold=dedup_threshold,
                          steps=chosen, judge=judge)  # fmt: skip

    async def run():
        runtime = build_runtime(judge, _settings(base_url=base_url), base_url=base_url) if judge else None
        try:
            return await run_curation(source, out, config, judge_runtime=runtime, concurrency=concurrency)
        finally:
            if runtime is not None:
                await runtime.aclose()

    summary = asyncio.run(run())
    if state.quiet:
        return
    table = Table("", "sessions", title=f"curate {source} -> {out}")
    table.add_row("in", str(summary.total))
    for name in summary.steps:
        table.add_row(f"dropped by {name}", str(summary.dropped_by.get(name, 0)))
    table.add_row("[bold]kept[/bold]", f"[bold]{summary.kept}[/bold]")
    Console(stderr=True).print(table)
    if summary.codes:
        codes = Table("reason code", "sessions")
        for code, n in summary.codes.most_common():
            codes.add_row(code, str(n))
        Console(stderr=True).print(codes)


@app.command()
def export(
    source: Annotated[Path, typer.Argument(metavar="IN", help="Curated sessions: a curate folder or .jsonl file.")],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Output folder.")],
    fmt: Annotated[str, typer.Option("--format", help="openai, sharegpt, alpaca or hf")] = "openai",
    contemplation: Annotated[str, typer.Option(help="drop, think (<think>…</think>) or field (reasoning)")] = "think",
    reasoning_key: Annotated[
        str,
        typer.Option(
            help="With --contemplation field: reasoning, or reasoning_content "
            "(what Qwen3-style templates and vLLM read)."
        ),
    ] = "reasoning",
    validation: Annotated[float, typer.Option(min=0.0, max=0.9, help="Share of personas held out.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the persona split.")] = 0,
    name: Annotated[str, typer.Option(help="Dataset name in dataset_info.json.")] = "empllm",
    quiet: QuietOpt = False,
) -> None:
    """Write training data from sessions, split by persona, with a dataset card."""
    from empllm.export import export_dataset

    info = export_dataset(source, out, fmt=fmt, mode=contemplation, validation=validation, seed=seed, name=name,
                          reasoning_key=reasoning_key)  # fmt: skip
    if not (state.quiet or quiet):
        sys.stderr.write(f"wrote {out}: {info['sessions']} sessions ({info['format']}, contemplation "
                         f"{info['contemplation']}), dataset card {out / 'README.md'}\n")  # fmt: skip


@app.command("train")
def train_command(
    data: Annotated[Path, typer.Argument(help="`empllm export --format openai|hf` folder, or an OpenAI JSONL file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: adapter, checkpoints, train_summary.json.")],
    base: Annotated[
        str,
        typer.Option(help="Base model: hf:gemma-3-270m or hf:smollm2-135m-instruct (embedded), hf:PATH or a hub id."),
    ] = "hf:gemma-3-270m",
    contemplation: Annotated[
        str, typer.Option(help="think: learn to contemplate first; drop: replies only.")
    ] = "think",
    full: Annotated[bool, typer.Option("--full", help="Full fine-tuning instead of LoRA.")] = False,
    qlora: Annotated[
        bool, typer.Option("--qlora", help="LoRA on a 4-bit base (bitsandbytes; needs a CUDA GPU).")
    ] = False,
    max_steps: Annotated[int, typer.Option(min=1)] = 30,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
    grad_accum: Annotated[int, typer.Option(min=1)] = 1,
    learning_rate: Annotated[float, typer.Option(min=0.0)] = 2e-4,
    max_length: Annotated[int, typer.Option(min=32, help="Tokens per example (longer ones are cut).")] = 512,
    lora_r: Annotated[int, typer.Option(min=1)] = 8,
    target_modules: Annotated[
        str, typer.Option(help="LoRA targets: comma-separated module names, or all-linear.")
    ] = "q_proj,k_proj,v_proj,o_proj",
    gradient_checkpointing: Annotated[
        bool, typer.Option("--gradient-checkpointing", help="Recompute activations: less memory, slower steps.")
    ] = False,
    report_to: Annotated[
        str, typer.Option(help="Log to these trackers (comma-separated: tensorboard, wandb, ...).")
    ] = "none",
    seed: Annotated[int, typer.Option()] = 0,
    merge: Annotated[bool, typer.Option("--merge", help="Also write merged weights to OUT/merged.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Fine-tune a base model on EmpLLM data (TRL SFT + LoRA, loss on replies only). Resumable."""
    from empllm.train.sft import TrainConfig, is_main_process, train

    state.quiet = state.quiet or quiet
    if contemplation not in ("think", "drop"):
        raise EmpLLMError(f"--contemplation {contemplation!r}: expected think or drop")
    modules = [m.strip() for m in target_modules.split(",") if m.strip()]
    if not modules:
        raise EmpLLMError("--target-modules: name at least one module, or all-linear")
    trackers = [t.strip() for t in report_to.split(",") if t.strip() and t.strip() != "none"]
    config = TrainConfig(base=base, contemplation=contemplation, full=full, qlora=qlora, max_steps=max_steps,
                         batch_size=batch_size, grad_accum=grad_accum, learning_rate=learning_rate,
                         max_length=max_length, lora_r=lora_r,
                         target_modules=modules, gradient_checkpointing=gradient_checkpointing, report_to=trackers,
                         seed=seed)  # fmt: skip
    summary = train(data, out, config, settings=_settings(), merge=merge, quiet=state.quiet)
    if not state.quiet and is_main_process():  # under accelerate launch, rank 0 speaks for the run
        sys.stderr.write(
            f"trained {summary['steps']} steps, loss {summary['loss_curve'][0]['loss']:.3f} -> "
            f"{summary['loss_curve'][-1]['loss']:.3f}, {summary['tokens_per_s']} tokens/s; "
            f"use it as --model {summary['adapter_spec']}\n"
        )


def _add_subcommands() -> None:
    from empllm.bench.cli import bench_app
    from empllm.demo.cli import demo_command
    from empllm.serve.cli import serve_command

    app.add_typer(bench_app, name="bench")
    app.command("serve")(serve_command)
    app.command("demo")(demo_command)


_add_subcommands()


def main() -> None:
    try:
        app()
    except EmpLLMError as exc:
        sys.stderr.write(f"empllm: error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("empllm: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
