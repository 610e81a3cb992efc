"""The `empllm` command. Each verb is thin: it parses flags and calls a stage."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from empllm import __version__
from empllm.backends.base import GenerationSettings
from empllm.errors import EmpLLMError
from empllm.settings import DEFAULT_MODEL, Settings, load_settings

app = typer.Typer(
    name="empllm",
    help="EmpLLM: simulate counseling sessions, curate, fine-tune, benchmark and serve empathetic models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class _State:
    config: Path | None = None
    quiet: bool = False


state = _State()

ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help=f"Model spec (default {DEFAULT_MODEL}; see `empllm models`)."),
]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server for openai: specs.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or usage output.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the completion cache.")]


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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or usage output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    state.config, state.quiet = config, quiet
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _settings(**overrides) -> Settings:
    return load_settings(state.config, **overrides)


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
    base_url: BaseUrlOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """A minimal terminal chat that streams replies. Commands: /reset, /quit."""
    state.quiet = state.quiet or quiet
    from empllm.chat_repl import run_repl

    # a conversation is not replayed from the cache: the same words may deserve a fresh reply
    settings = _settings(model=model, base_url=base_url, use_cache=False)
    gen = GenerationSettings(max_tokens=max_tokens, temperature=temperature, seed=seed)
    asyncio.run(run_repl(settings, gen, system=system, base_url=base_url, quiet=state.quiet))


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
