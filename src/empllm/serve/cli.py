"""`empllm serve`: start the OpenAI-compatible server and the web chat page."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from empllm.cli_common import AgentStyleOpt, BaseUrlOpt, ModelOpt, checked_style, settings_from_flags


def serve_command(
    model: ModelOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    api_key: Annotated[str | None, typer.Option(help="Require this bearer token (or set EMPLLM_API_KEY).")] = None,
    show_thoughts: Annotated[bool, typer.Option(help="Return the contemplation even when not asked.")] = False,
    locale: Annotated[str | None, typer.Option(help="Default crisis-resource locale (US, UK, IE, CN).")] = None,
    max_tokens_limit: Annotated[int, typer.Option(min=16, help="Largest max_tokens a request may ask.")] = 512,
    max_request_kb: Annotated[int, typer.Option(min=1, help="Largest request body in KiB.")] = 64,
    safety_log: Annotated[Path | None, typer.Option(help="Append crisis events to this JSONL file.")] = None,
    log_text: Annotated[bool, typer.Option(help="Keep message text in the safety log (privacy off).")] = False,
    name: Annotated[str | None, typer.Option(help="Model name to report (default: the spec).")] = None,
    safety_model: Annotated[str | None, typer.Option(help="A chat model that also screens messages.")] = None,
    style: AgentStyleOpt = "auto",
    base_url: BaseUrlOpt = None,
) -> None:
    """Serve the empathetic agent: /v1/chat/completions, /v1/models, /health and a chat page at /."""
    import uvicorn

    from empllm.runtime import build_runtime
    from empllm.serve.app import ServeConfig, create_app

    settings = settings_from_flags(model=model, base_url=base_url)
    runtime = build_runtime(settings.model, settings, base_url=base_url)
    config = ServeConfig(model_name=name or settings.model, api_key=api_key or os.environ.get("EMPLLM_API_KEY"),
                         show_thoughts=show_thoughts, max_request_bytes=max_request_kb * 1024,
                         max_tokens_limit=max_tokens_limit, locale=locale, safety_log=safety_log,
                         privacy=not log_text, style=checked_style(style))  # fmt: skip
    from empllm.safety.model_check import ModelSafetyCheck

    check = ModelSafetyCheck(build_runtime(safety_model, settings, base_url=base_url)) if safety_model else None
    sys.stderr.write(f"empllm: serving {settings.model} on http://{host}:{port}/ (chat page at /)\n")
    uvicorn.run(create_app(runtime, config, check), host=host, port=port, log_level="warning")
