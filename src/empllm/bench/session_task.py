"""The `session` sub-task: the model under test talks with a simulated client played from an
evaluation persona (disjoint from the simulation library); the judge rates the whole transcript
and the client's own state says whether they ended up calmer and more trusting."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from empllm.ask_and_parse import AgentOutputError
from empllm.backends.base import GenerationSettings
from empllm.bench.judge import RUBRIC_FLOOR, Judge
from empllm.errors import EmpLLMError
from empllm.personas.loader import load_personas
from empllm.prompts import render
from empllm.runtime import Runtime
from empllm.simulate import transcript_style as ts
from empllm.simulate.client import ClientAgent
from empllm.simulate.exemplars import builtin_exemplars
from empllm.types import Message, Persona, Turn


def eval_persona_files() -> list[Path]:
    return sorted(Path(str(files("empllm.bench").joinpath("personas"))).glob("eval_*.yaml"))


@cache
def eval_personas() -> tuple[Persona, ...]:
    return tuple(p for path in eval_persona_files() for p in load_personas(path))


def transcript(turns: list[Turn], language: str) -> str:
    return "\n".join(ts.speaker_line(t.role, t.content, language) for t in turns)


def _as_messages(turns: list[Turn], language: str) -> list[Message]:
    msgs = [Message(role="system", content=render("bench_respond_system", language))]
    for t in turns:
        msgs.append(Message(role="user" if t.role == "client" else "assistant", content=t.content))
    return msgs


async def run_eval_session(
    persona: Persona, *, model: Runtime, client: Runtime, judge: Judge, replies: int, seed: int
) -> dict:
    """A sample record: the transcript, the client's state at the start and end, the judge's rating."""
    gen = GenerationSettings(max_tokens=200, temperature=0.7, seed=seed)
    shots = builtin_exemplars(persona.language)[:2]
    agent = ClientAgent(client, persona, gen=gen, exemplars=shots, attempts=3)
    turns = [agent.opening()]
    error = None
    reply_gen = GenerationSettings(max_tokens=200, temperature=0.0, seed=seed)
    try:
        for n in range(replies):
            done = await model.chat(_as_messages(turns, persona.language), reply_gen)
            turns.append(Turn(role="psychologist", content=done.text.strip()))
            if n == replies - 1:
                break
            client_turn, ended = await agent.respond(turns, can_end=n + 1 >= min(2, replies))
            turns.append(client_turn)
            if ended:
                break
    except (AgentOutputError, EmpLLMError) as exc:
        error = str(exc)
    states = [t.client_state for t in turns if t.role == "client" and t.client_state is not None]
    start, end = states[0], states[-1]
    record = {
        "method": "session",
        "chance": RUBRIC_FLOOR,  # judged: the rubric's floor stands in for chance
        "persona": persona.id,
        "turns": [t.model_dump(mode="json", exclude_none=True) for t in turns],
        "error": error,
        "intensity_start": start.emotion_intensity,
        "intensity_end": end.emotion_intensity,
        "trust_start": start.trust,
        "trust_end": end.trust,
        "intensity_delta": end.emotion_intensity - start.emotion_intensity,
        "trust_delta": end.trust - start.trust,
    }
    if error is not None and len(turns) < 2:
        return {**record, "judge_parsed": False, "judge_raw": "", "rubric": None, "score": None}
    return {**record, **await judge.rate_transcript(persona.language, transcript(turns, persona.language))}
