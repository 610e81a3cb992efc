"""The hand-written exemplar sessions as session records, so `--seed-data on` can add them to the
training data through the same export as simulated sessions. Their provenance says so: models
"hand-written", ids "seed-…", so the report can count them apart from simulated sessions."""

from __future__ import annotations

from empllm import __version__
from empllm.prompts import PROMPTS_VERSION
from empllm.simulate.exemplars import Exemplar, builtin_exemplars
from empllm.types import Session, Turn

HAND_WRITTEN = "hand-written"
SEED_PREFIX = "seed-"


def exemplar_session(ex: Exemplar) -> Session:
    turns = [Turn(role=t.role, content=t.content, contemplation=t.contemplation, client_state=t.state)
             for t in ex.turns]  # fmt: skip
    return Session(
        id=SEED_PREFIX + ex.id, persona_id=SEED_PREFIX + ex.id, language=ex.language, stance=ex.stance, seed=0,
        config_hash=HAND_WRITTEN, prompts_version=PROMPTS_VERSION,
        models={"client": HAND_WRITTEN, "psychologist": HAND_WRITTEN}, created="2026-11-25T00:00:00+00:00",
        empllm_version=__version__, turns=turns, outcome="client_ended" if ex.turns[-1].end else "max_turns",
    )  # fmt: skip


def seed_sessions() -> list[Session]:
    return [exemplar_session(ex) for ex in builtin_exemplars()]


def is_seed(session_id: str) -> bool:
    return session_id.startswith(SEED_PREFIX)
