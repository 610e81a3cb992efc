"""A thin terminal chat over the runtime. The empathetic agent will replace the plain model call."""

from __future__ import annotations

import asyncio
import sys

from empllm.backends.base import GenerationSettings
from empllm.runtime import build_runtime
from empllm.settings import Settings
from empllm.types import Message


async def _read_line(prompt: str) -> str | None:
    """input() in a thread so the event loop stays free; None at end of input."""
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def run_repl(
    settings: Settings, gen: GenerationSettings, *, system: str | None, base_url: str | None, quiet: bool
) -> None:
    runtime = build_runtime(settings.model, settings, base_url=base_url)
    start: list[Message] = [Message(role="system", content=system)] if system else []
    history = list(start)
    interactive = sys.stdin.isatty()
    if not quiet:
        kind = "chat-tuned" if runtime.capabilities.chat_tuned else "base model: transcript prompting"
        print(f"[{runtime.spec}, {kind}] /reset to start over, /quit to leave", file=sys.stderr)
    try:
        while True:
            line = await _read_line("you> " if interactive else "")
            if line is None or line.strip() in {"/quit", "/exit"}:
                break
            if not line.strip():
                continue
            if line.strip() == "/reset":
                history = list(start)
                print("(conversation cleared)", file=sys.stderr)
                continue
            history.append(Message(role="user", content=line))
            sys.stdout.write("assistant> ")
            pieces = []
            async for piece in runtime.stream_chat(history, gen):
                pieces.append(piece)
                sys.stdout.write(piece)
                sys.stdout.flush()
            sys.stdout.write("\n")
            history.append(Message(role="assistant", content="".join(pieces).strip()))
    finally:
        await runtime.aclose()
