"""Print sessions so a person can read what was generated: replies, contemplations, client state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from empllm.errors import EmpLLMError
from empllm.jsonl_store import iter_jsonl
from empllm.types import Session


def session_files(target: Path) -> list[Path]:
    if target.is_dir():
        files = sorted(target.glob("sessions*.jsonl"))
        if not files:
            raise EmpLLMError(f"{target} holds no sessions*.jsonl files")
        return files
    if not target.is_file():
        raise EmpLLMError(f"{target} does not exist")
    return [target]


def iter_sessions(target: Path) -> Iterator[Session]:
    """Every session of a run folder or file, one at a time (memory stays flat however many)."""
    for path in session_files(target):
        for i, (_, record) in enumerate(iter_jsonl(path), 1):
            try:
                yield Session.model_validate(record)
            except ValueError as exc:
                raise EmpLLMError(f"{path} record {i}: not a session ({str(exc).splitlines()[0]})") from None


def count_sessions(target: Path) -> int:
    """Records in the session files, counted by line without parsing them (for progress)."""
    total = 0
    for path in session_files(target):
        with path.open("rb") as f:
            total += sum(1 for line in f if line.strip())
    return total


def load_sessions(target: Path) -> list[Session]:
    return list(iter_sessions(target))


def print_session(s: Session, console: Console) -> None:
    head = (f"[bold]{s.id}[/bold]  persona {s.persona_id} ({s.language}), {s.stance}, "
            f"outcome [bold]{s.outcome}[/bold] {escape(s.outcome_detail)}")  # fmt: skip
    console.rule(head)
    models = f"client {s.models.get('client')} · psychologist {s.models.get('psychologist')}"
    console.print(f"[dim]{models} · seed {s.seed} · config {s.config_hash} · prompts {s.prompts_version} · "
                  f"{s.wall_s:.1f}s[/dim]")  # fmt: skip
    for plan in s.plans:
        console.print(f"[cyan]plan after turn {plan.after_turn}:[/cyan] " + escape("; ".join(plan.goals)))
    for turn in s.turns:
        if turn.parse_error:
            console.print(f"[red]{turn.role}: unparseable output: {escape(turn.parse_error)}[/red]")
            console.print(Panel(escape(turn.raw or ""), title="raw output", border_style="red"))
            continue
        if turn.role == "client":
            st = turn.client_state
            if st is not None:
                extra = f" · disclosed: {escape('; '.join(st.disclosed))}" if st.disclosed else ""
                reaction = f" · reaction: {escape(st.reaction)}" if st.reaction else ""
                console.print(
                    f"[dim]  (intensity {st.emotion_intensity}/10 · trust {st.trust}/10{reaction}{extra})[/dim]"
                )
            console.print(f"[bold green]Client:[/bold green] {escape(turn.content)}")
        else:
            c = turn.contemplation
            if c is not None:
                console.print(
                    f"[dim italic]  ⟨{c.emotion.value} {c.intensity}/10 · cause: {escape(c.cause)} · appraisal: "
                    f"{escape(c.appraisal)} · need: {escape(c.unmet_need)} · risk: {c.risk_level.value} · "
                    f"strategy: {c.strategy.value} — {escape(c.rationale)}⟩[/dim italic]"
                )
            console.print(f"[bold blue]Psychologist:[/bold blue] {escape(turn.content)}")
    for err in s.errors:
        console.print(f"[red]error: {escape(err)}[/red]")
    usage = " · ".join(f"{role} {u.calls} calls, {u.completion_tokens} tokens" for role, u in s.usage.items())
    if usage:
        console.print(f"[dim]{usage}[/dim]")
