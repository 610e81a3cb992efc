"""`empllm simulate`: many sessions, concurrently, appended to JSONL, resumable and shardable.

The work is a fixed list derived from the config (session i plays persona order[i mod P] with
seed f(seed, i)), so a rerun, or shard k of n, knows exactly which sessions exist without asking
anyone: finished ids are read back from the output file and skipped.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from empllm import __version__
from empllm.backends.base import GenerationSettings
from empllm.errors import EmpLLMError
from empllm.jsonl_store import JsonlAppender, read_jsonl, repair_torn_tail
from empllm.personas.loader import load_persona_source
from empllm.prompts import PROMPTS_VERSION
from empllm.provenance import check_run_file, stable_hash
from empllm.runtime import Runtime, build_runtime
from empllm.settings import Settings
from empllm.simulate.client import ClientAgent
from empllm.simulate.exemplars import Exemplar, builtin_exemplars
from empllm.simulate.line_checks import LineChecks
from empllm.simulate.psychologist import PsychologistAgent
from empllm.simulate.session import TurnLimits, run_session
from empllm.types import Persona, Session, Stance


class SimulationConfig(BaseModel):
    """Everything that decides which sessions a run produces (and so its config hash)."""

    model_config = ConfigDict(extra="forbid")

    personas: str = "built-in"
    sessions: int = Field(ge=1)
    client_model: str
    psychologist_model: str
    stance: Stance = "person_centred"
    language: Literal["en", "zh", "all"] = "all"
    seed: int = 0
    min_turns: int = Field(default=3, ge=1)
    max_turns: int = Field(default=8, ge=1)
    plan_every: int = Field(default=4, ge=0)
    temperature: float = Field(default=0.8, ge=0)
    top_p: float = Field(default=0.95, gt=0, le=1)
    max_tokens: int = Field(default=320, ge=16)
    exemplars: int = Field(default=2, ge=0, description="few-shot sessions for base models")
    # Sessions draw their few-shot exemplars from this many fixed draws (0: a new draw per session),
    # so a model that keeps an evaluated prompt prefix evaluates each draw once per run.
    exemplar_sets: int = Field(default=4, ge=0)
    attempts: int = Field(default=8, ge=1, description="samples per line before the session fails")
    # Rejection sampling: resample a line that is empty, off-language, a repeat, breaks a curate
    # rule or whose notes name what the client never said (simulate/line_checks.py).
    checks: bool = True
    # Declare the few-shot exemplars a shared prompt prefix, evaluated once and reused (llama.cpp).
    reuse_prefix: bool = True
    # Base models: the reply starts with an opener that fits the strategy the notes named
    # (prompts/*/reply_opener.j2), so it comes out as that kind of reply, in the counselor's voice.
    openers: bool = True
    # Grammar-constrained lines for base models on llama.cpp: every turn parses, but sampling under
    # a grammar over Gemma's 262k-token vocabulary ran about 3x slower here, which cost more good
    # sessions per hour than the parse failures it prevents (docs/performance.md). Off by default.
    constrain: bool = Field(default=False, description="grammar-constrained lines for base models on llama.cpp")


@dataclass
class WorkItem:
    index: int
    session_id: str
    persona: Persona
    seed: int


@dataclass
class RunSummary:
    out_file: Path
    planned: int
    already_done: int
    written: int = 0
    outcomes: Counter = field(default_factory=Counter)
    completion_tokens: int = 0
    wall_s: float = 0.0

    @property
    def sessions_per_hour(self) -> float:
        return self.written / self.wall_s * 3600 if self.wall_s > 0 else 0.0


def _digest(items: list[BaseModel]) -> str:
    return stable_hash([i.model_dump(mode="json") for i in items], ensure_ascii=False)


def config_hash(config: SimulationConfig, personas: list[Persona], exemplars: list[Exemplar]) -> str:
    return stable_hash({"config": config.model_dump(), "personas": _digest(personas), "exemplars": _digest(exemplars),
                        "prompts": PROMPTS_VERSION})  # fmt: skip


def plan_work(config: SimulationConfig, personas: list[Persona]) -> list[WorkItem]:
    chosen = sorted((p for p in personas if config.language in ("all", p.language)), key=lambda p: p.id)
    if not chosen:
        raise EmpLLMError(f"no personas in language {config.language!r} in {config.personas}")
    order = list(range(len(chosen)))
    random.Random(config.seed).shuffle(order)
    items = []
    for i in range(config.sessions):
        persona = chosen[order[i % len(chosen)]]
        items.append(WorkItem(i, f"s{i:05d}-{persona.id}", persona, config.seed * 100_003 + i))
    return items


def sessions_file(out_dir: Path, shard: tuple[int, int] | None) -> Path:
    return out_dir / ("sessions.jsonl" if shard is None else f"sessions.shard-{shard[0]}-of-{shard[1]}.jsonl")


def _pick_exemplars(pool: list[Exemplar], k: int, seed: int, sets: int, run_seed: int) -> list[Exemplar]:
    draw = seed if not sets else run_seed * 7919 + seed % sets
    return random.Random(draw).sample(pool, min(k, len(pool))) if k else []


async def run_simulation(
    config: SimulationConfig,
    out_dir: Path,
    *,
    settings: Settings,
    concurrency: int = 4,
    shard: tuple[int, int] | None = None,
    on_session=None,  # called with (Session, RunSummary) after each written session
    runtimes: dict[str, Runtime] | None = None,  # injected by tests; built from settings otherwise
) -> RunSummary:
    personas = load_persona_source(config.personas)
    exemplars = {lang: builtin_exemplars(lang) for lang in ("en", "zh")}
    chash = config_hash(config, personas, exemplars["en"] + exemplars["zh"])
    work = plan_work(config, personas)
    if shard is not None:
        work = [w for w in work if w.index % shard[1] == shard[0]]
    check_run_file(out_dir, config.model_dump(), chash)

    path = sessions_file(out_dir, shard)
    repair_torn_tail(path)
    done = {r.get("id") for r in read_jsonl(path)} if path.is_file() else set()
    todo = [w for w in work if w.session_id not in done]
    summary = RunSummary(out_file=path, planned=len(work), already_done=len(work) - len(todo))
    if not todo:
        return summary

    own_runtimes = runtimes is None
    if runtimes is None:
        runtimes = {}
        for spec in {config.client_model, config.psychologist_model}:
            runtimes[spec] = build_runtime(spec, settings.model_copy(update={"max_concurrency": concurrency}))
    limits = TurnLimits(config.min_turns, config.max_turns, config.plan_every)
    record = {
        "config_hash": chash,
        "prompts_version": PROMPTS_VERSION,
        "models": {"client": config.client_model, "psychologist": config.psychologist_model},
        "empllm_version": __version__,
    }
    gate = asyncio.Semaphore(concurrency)
    start = time.perf_counter()

    async def one(item: WorkItem, writer: JsonlAppender) -> None:
        async with gate:
            gen = GenerationSettings(
                max_tokens=config.max_tokens, temperature=config.temperature, top_p=config.top_p, seed=item.seed
            )
            lang = item.persona.language
            shots = _pick_exemplars(exemplars[lang], config.exemplars, item.seed, config.exemplar_sets, config.seed)
            checks = LineChecks(lang, shots) if config.checks else None
            client = ClientAgent(runtimes[config.client_model], item.persona, gen=gen, exemplars=shots,
                                 attempts=config.attempts, constrain=config.constrain, checks=checks,
                                 reuse_prefix=config.reuse_prefix)  # fmt: skip
            psychologist = PsychologistAgent(
                runtimes[config.psychologist_model], language=lang, stance=config.stance,
                gen=gen, exemplars=shots, attempts=config.attempts, constrain=config.constrain, checks=checks,
                reuse_prefix=config.reuse_prefix, openers=config.openers,
            )  # fmt: skip
            try:
                session = await run_session(session_id=item.session_id, client=client, psychologist=psychologist,
                                            limits=limits, record={**record, "seed": item.seed})  # fmt: skip
            except Exception as exc:  # a bug must not lose the record either
                session = Session(
                    id=item.session_id, persona_id=item.persona.id, language=item.persona.language,
                    stance=config.stance, seed=item.seed, outcome="error", outcome_detail=repr(exc),
                    errors=[repr(exc)], created=datetime.now(UTC).isoformat(timespec="seconds"), **record,
                )  # fmt: skip
            writer.write(session.model_dump(mode="json"))
            summary.written += 1
            summary.outcomes[session.outcome] += 1
            summary.completion_tokens += sum(u.completion_tokens for u in session.usage.values())
            summary.wall_s = time.perf_counter() - start
            if on_session is not None:
                on_session(session, summary)

    try:
        with JsonlAppender(path) as writer:
            await asyncio.gather(*(one(item, writer) for item in todo))
    finally:
        summary.wall_s = time.perf_counter() - start
        if own_runtimes:
            for rt in runtimes.values():
                await rt.aclose()
    return summary
