"""The terminal chat. By default every reply comes from the EmpatheticAgent (contemplation, safety
check, reply); `--plain` talks to the bare model instead.

Commands: /reset, /save FILE, /lang en|zh|auto, /thoughts (toggle), /quit.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from empllm.backends.base import GenerationSettings
from empllm.contemplation_text import render_contemplation
from empllm.runtime import build_runtime
from empllm.settings import Settings
from empllm.types import Message

HELP = "/reset to start over, /save FILE, /lang en|zh|auto, /thoughts to show or hide the contemplation, /quit"


async def _read_line(prompt: str) -> str | None:
    """input() in a thread so the event loop stays free; None at end of input."""
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


def _say(text: str) -> None:
    print(text, file=sys.stderr)


async def run_repl(
    settings: Settings, gen: GenerationSettings, *, system: str | None, base_url: str | None, quiet: bool,
    plain: bool = False, show_thoughts: bool = False, language: str | None = None, locale: str | None = None,
    style: str = "auto",
) -> None:  # fmt: skip
    from empllm.agent import EmpatheticAgent

    runtime = build_runtime(settings.model, settings, base_url=base_url)
    agent = EmpatheticAgent(runtime, language=language, locale=locale, max_reply_tokens=gen.max_tokens,
                            seed=gen.seed or 0, style=style)  # fmt: skip
    start: list[Message] = [Message(role="system", content=system)] if system else []
    history = list(start)
    saved: list[dict] = []  # what /save writes: every exchange, with its contemplation and safety verdict
    interactive = sys.stdin.isatty()
    if not quiet:
        kind = "plain model" if plain else f"empathetic agent ({agent.style})"
        _say(f"[{runtime.spec}, {kind}] {HELP}")
    try:
        while True:
            line = await _read_line("you> " if interactive else "")
            if line is None or line.strip() in {"/quit", "/exit"}:
                break
            command, _, arg = line.strip().partition(" ")
            if not line.strip():
                continue
            if command == "/reset":
                history, saved = list(start), []
                agent.reset()
                _say("(conversation cleared)")
                continue
            if command == "/save":
                path = Path(arg.strip() or "conversation.jsonl")
                path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in saved), encoding="utf-8")
                _say(f"(saved {len(saved)} exchanges to {path})")
                continue
            if command == "/lang":
                agent.fixed_language = None if arg.strip() in ("", "auto") else arg.strip()
                _say(f"(language: {agent.fixed_language or 'auto'})")
                continue
            if command == "/thoughts":
                show_thoughts = not show_thoughts
                _say(f"(contemplation {'shown' if show_thoughts else 'hidden'})")
                continue
            sys.stdout.write("assistant> ")
            if plain:
                history.append(Message(role="user", content=line))
                pieces = []
                async for piece in runtime.stream_chat(history, gen):
                    pieces.append(piece)
                    sys.stdout.write(piece)
                    sys.stdout.flush()
                reply = "".join(pieces).strip()
                history.append(Message(role="assistant", content=reply))
                saved.append({"user": line, "assistant": reply})
            else:
                async for kind, value in agent.stream(line):
                    if kind == "head" and show_thoughts and value.contemplation is not None:
                        _say("\n[contemplation]\n" + render_contemplation(value.contemplation, value.language))
                    elif kind == "delta":
                        sys.stdout.write(value)
                        sys.stdout.flush()
                    elif kind == "turn":
                        turn = value
                notes = turn.contemplation.model_dump(mode="json") if turn.contemplation else None
                saved.append({"user": line, "assistant": turn.reply, "language": turn.language,
                              "contemplation": notes, "crisis": turn.safety.crisis,
                              "categories": turn.safety.categories})  # fmt: skip
            sys.stdout.write("\n")
    finally:
        await runtime.aclose()
