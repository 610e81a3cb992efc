"""What every `empllm` verb shares: the global flags' state, settings loading and common options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empllm.errors import EmpLLMError
from empllm.settings import DEFAULT_MODEL, Settings, load_settings


class _State:
    config: Path | None = None
    models_file: Path | None = None
    quiet: bool = False


state = _State()

ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help=f"Model spec (default {DEFAULT_MODEL}; see `empllm models`)."),
]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server for openai: specs.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or usage output.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the completion cache.")]
AgentStyleOpt = Annotated[
    str,
    typer.Option("--style", help="How the agent gets its contemplation: auto, think (the model writes <think>, "
                 "replies stream token by token), structured (JSON from a chat model) or transcript (base model)."),
]  # fmt: skip


def checked_style(style: str) -> str:
    from typing import get_args

    from empllm.agent import Style  # imported here: the agent pulls in the runtime

    if style not in get_args(Style):
        raise EmpLLMError(f"--style {style!r}: expected one of {', '.join(get_args(Style))}")
    return style


def settings_from_flags(**overrides) -> Settings:
    return load_settings(state.config, **({"models_file": state.models_file} | overrides))
