"""One session: the client opens, the psychologist plans, then they take turns until the client
ends it (after a minimum) or the maximum number of psychologist replies is reached."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from empllm.ask_and_parse import AgentOutputError
from empllm.errors import EmpLLMError
from empllm.simulate.client import ClientAgent
from empllm.simulate.psychologist import PsychologistAgent
from empllm.types import Session, SessionPlan, Turn


@dataclass(frozen=True)
class TurnLimits:
    min_turns: int = 3  # psychologist replies before the client may end the session
    max_turns: int = 8  # psychologist replies at most
    plan_every: int = 4  # revisit the plan after this many replies (chat-tuned models); 0: never


async def run_session(
    *,
    session_id: str,
    client: ClientAgent,
    psychologist: PsychologistAgent,
    limits: TurnLimits,
    record: dict,
) -> Session:
    """Play one session. Never raises for model trouble: failures end the session with
    outcome 'error' and are recorded (with the raw output when it could not be parsed)."""
    start = time.perf_counter()
    turns: list[Turn] = [client.opening()]
    plans: list[SessionPlan] = []
    errors: list[str] = []
    outcome, detail = "max_turns", ""
    try:
        plan = await _plan(psychologist, turns, None, plans, errors)
        replies = 0
        while True:
            turns.append(await psychologist.respond(turns, plan))
            replies += 1
            if replies >= limits.max_turns:
                detail = f"reached {limits.max_turns} psychologist replies"
                break
            if psychologist.chat_style and limits.plan_every and replies % limits.plan_every == 0:
                plan = await _plan(psychologist, turns, plan, plans, errors) or plan
            client_turn, ended = await client.respond(turns, can_end=replies >= limits.min_turns)
            turns.append(client_turn)
            if ended:
                outcome, detail = "client_ended", f"the client ended the session after {replies} replies"
                break
    except AgentOutputError as exc:
        role = "client" if turns[-1].role == "psychologist" else "psychologist"
        turns.append(Turn(role=role, content="", raw=exc.raw, parse_error=str(exc), rejected=exc.rejected))
        outcome, detail = "error", str(exc)
        errors.append(str(exc))
    except EmpLLMError as exc:  # a backend that failed after the runtime's retries
        outcome, detail = "error", str(exc)
        errors.append(str(exc))
    return Session(
        id=session_id,
        persona_id=client.persona.id,
        language=client.persona.language,
        stance=psychologist.stance,
        plans=plans,
        turns=turns,
        outcome=outcome,
        outcome_detail=detail,
        usage={"client": client.usage, "psychologist": psychologist.usage},
        wall_s=round(time.perf_counter() - start, 3),
        errors=errors,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        **record,
    )


async def _plan(psychologist, turns, current, plans, errors) -> SessionPlan | None:
    """Make or revise the plan; a plan that cannot be parsed is recorded, not fatal."""
    try:
        plan, _raw = await psychologist.make_plan(turns, current)
    except AgentOutputError as exc:
        errors.append(str(exc))
        return None
    plans.append(plan)
    return plan
