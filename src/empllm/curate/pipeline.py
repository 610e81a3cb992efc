"""`empllm curate IN OUT`: the configured steps (curate/steps.py; by default rules -> grounding ->
safety -> near-duplicates) on every session in input order, then the optional judge (concurrently)
-> OUT/sessions.jsonl (kept), OUT/decisions.jsonl (every session, with its reasons), OUT/curate.json
(config, input hash, funnel). Resumable; never touches its input.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from empllm import __version__
from empllm.curate.config import JUDGE, CurateConfig
from empllm.curate.decision import Decision, Issue
from empllm.curate.judge import SessionJudge
from empllm.curate.steps import build_steps
from empllm.errors import EmpLLMError
from empllm.jsonl_store import JsonlAppender, iter_jsonl, repair_torn_tail
from empllm.runtime import Runtime
from empllm.session_view import count_sessions, iter_sessions, session_files
from empllm.types import RiskLevel, Session


@dataclass
class CurateSummary:
    total: int
    kept: int = 0
    dropped_by: Counter = field(default_factory=Counter)  # the first filter that dropped a session
    codes: Counter = field(default_factory=Counter)  # every issue code found
    already_done: int = 0
    steps: list[str] = field(default_factory=list)  # in the order they ran: the funnel's rows


def _input_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.read_bytes())
    return digest.hexdigest()[:16]


def _persona_risks(in_path: Path) -> dict[str, RiskLevel]:
    """Risk levels of the personas the run used (from its run.json), so the safety filter knows
    which sessions were at risk even where no contemplation flagged it."""
    from empllm.personas.loader import load_persona_source

    run_file = (in_path if in_path.is_dir() else in_path.parent) / "run.json"
    try:
        source = json.loads(run_file.read_text())["config"]["personas"]
        return {p.id: p.risk_level for p in load_persona_source(source)}
    except (OSError, ValueError, KeyError, EmpLLMError):
        return {}


def _first_filter(issues: list[Issue], order: list[str]) -> str | None:
    return min((i.filter for i in issues), key=lambda f: order.index(f) if f in order else len(order), default=None)


async def run_curation(
    in_path: Path, out_dir: Path, config: CurateConfig, *, judge_runtime: Runtime | None = None,
    concurrency: int = 4, on_progress=None,
) -> CurateSummary:  # fmt: skip
    inputs = session_files(in_path)
    total = count_sessions(in_path)  # sessions are read one at a time below: memory stays flat
    if not total:
        raise EmpLLMError(f"{in_path} holds no sessions")
    if out_dir.resolve() in {p.parent.resolve() for p in inputs}:
        raise EmpLLMError("OUT must be a different folder from IN (curate never modifies its input)")
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_file = out_dir / "curate.json"
    meta = {"config": config.model_dump(), "input": [str(p) for p in inputs], "input_hash": _input_hash(inputs)}
    if meta_file.is_file():
        old = json.loads(meta_file.read_text())
        if (old.get("config"), old.get("input_hash")) != (meta["config"], meta["input_hash"]):
            raise EmpLLMError(f"{out_dir} holds a curation of other input or settings; use another OUT")

    decisions_path, kept_path = out_dir / "decisions.jsonl", out_dir / "sessions.jsonl"
    for p in (decisions_path, kept_path):
        repair_torn_tail(p)
    decided = {d["id"]: Decision.model_validate(d)
               for _, d in (iter_jsonl(decisions_path) if decisions_path.is_file() else [])}  # fmt: skip
    kept_ids = {r["id"] for _, r in (iter_jsonl(kept_path) if kept_path.is_file() else [])}
    summary = CurateSummary(total=total, already_done=len(decided), steps=config.funnel_order())
    steps = build_steps(config, _persona_risks(in_path))
    order = config.funnel_order()
    judge = SessionJudge(judge_runtime) if judge_runtime is not None else None

    with JsonlAppender(decisions_path) as decisions_out, JsonlAppender(kept_path) as kept_out:

        def record(session: Session, issues: list[Issue]) -> None:
            decision = Decision(id=session.id, kept=not issues, issues=issues)
            decisions_out.write(decision.model_dump(mode="json"))  # the decision first: see reconcile below
            if decision.kept:
                kept_out.write(session.model_dump(mode="json"))
                kept_ids.add(session.id)
            _count(summary, decision, order)
            if on_progress:
                on_progress(summary)

        gate = asyncio.Semaphore(concurrency)

        async def judged(session: Session) -> None:
            async with gate:
                issues = await judge.check(session)
            record(session, issues)

        pending: list[Session] = []  # for the judge, a bounded batch at a time
        for session in iter_sessions(in_path):  # the steps in input order (dedup keeps the first of near-duplicates)
            if session.id in decided:
                done = decided[session.id]
                if not any(i.filter != JUDGE for i in done.issues):
                    for step in steps:
                        step.remember(session)
                if done.kept and session.id not in kept_ids:  # killed between the two writes
                    kept_out.write(session.model_dump(mode="json"))
                    kept_ids.add(session.id)
                _count(summary, done, order)
                continue
            issues = [issue for step in steps for issue in step.check(session)]
            if issues or judge is None:
                record(session, issues)
            else:
                pending.append(session)
            if not issues:
                for step in steps:
                    step.remember(session)
            if len(pending) >= 8 * concurrency:
                await asyncio.gather(*(judged(s) for s in pending))
                pending.clear()

        await asyncio.gather(*(judged(s) for s in pending))

    meta.update(
        summary={"total": summary.total, "kept": summary.kept, "steps": summary.steps,
                 "dropped_by": dict(summary.dropped_by), "codes": dict(summary.codes)},
        empllm_version=__version__, updated=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    meta_file.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return summary


def _count(summary: CurateSummary, decision: Decision, order: list[str]) -> None:
    if decision.kept:
        summary.kept += 1
    else:
        summary.dropped_by[_first_filter(decision.issues, order)] += 1
    summary.codes.update({i.code for i in decision.issues})  # once per session
