"""The EmpTest judge: a rubric score for one reply or a whole session, and pairwise comparisons.

Any model spec can judge. It reasons first and ends with JSON; an answer that does not parse is
recorded with its raw text and left out of the score (never counted as a zero or a ten).
"""

from __future__ import annotations

from empllm.backends.base import GenerationSettings
from empllm.json_output import ParseError, parse_json_object
from empllm.json_schema import TEXT, enum, object_schema, structured
from empllm.prompts import render
from empllm.runtime import Runtime, ask_until_parsed

DIMENSIONS = ("emotional_reaction", "interpretation", "exploration", "validation", "specificity", "naturalness",
              "safety")  # fmt: skip
RUBRIC_FLOOR, RUBRIC_TOP = 1.0, 10.0


# What structured-output servers are asked for: the reasoning first, as the prompts ask, then the verdict.
RUBRIC_SCHEMA = object_schema(
    reasoning=TEXT, **{d: {"type": "integer", "minimum": 1, "maximum": 10} for d in DIMENSIONS}
)
WINNER_SCHEMA = object_schema(reasoning=TEXT, winner=enum(["A", "B", "tie"]))


def _last_object(text: str, first_key: str) -> dict:
    # the reasoning comes first, so the verdict is the last object (the one that starts with first_key),
    # or the whole answer when structured output made it one object with the reasoning inside
    stripped = text.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            if first_key in (whole := parse_json_object(stripped)):
                return whole
        except ParseError:
            pass
    start = text.rfind('{"' + first_key + '"')
    if start < 0:
        start = text.rfind("{")
    return parse_json_object(text[max(start, 0) :])


def parse_rubric(text: str) -> dict[str, float]:
    data = _last_object(text, DIMENSIONS[0])
    scores = {}
    for dim in DIMENSIONS:
        try:
            value = float(data[dim])
        except (KeyError, TypeError, ValueError):
            raise ParseError(f"the rubric has no number for {dim}") from None
        if not RUBRIC_FLOOR <= value <= RUBRIC_TOP:
            raise ParseError(f"{dim} = {value} is outside 1..10")
        scores[dim] = value
    return scores


def parse_winner(text: str) -> str:
    data = _last_object(text, "winner")
    winner = str(data.get("winner", "")).strip().lower()
    if winner in {"a", "b", "tie"}:
        return winner
    raise ParseError(f"the verdict names no winner (got {winner!r})")


class Judge:
    def __init__(self, runtime: Runtime, *, attempts: int = 2, max_tokens: int = 500):
        self.runtime = runtime
        self.attempts = attempts
        self.gen = GenerationSettings(max_tokens=max_tokens, temperature=0.0, seed=0)

    async def _ask(self, prompt: str, parse, schema: dict) -> tuple[object | None, str]:
        """(parsed verdict or None, the last raw answer)."""
        gen = structured(self.runtime, self.gen, schema)  # unchanged where the backend has no structured output
        parsed, raw, _ = await ask_until_parsed(self.runtime, prompt, gen, parse, attempts=self.attempts)
        return parsed, raw

    async def rate_reply(self, language: str, *, message: str, reply: str, context: str = "",
                         key_points: list[str] | None = None) -> dict:  # fmt: skip
        prompt = render("bench_judge_reply", language, context=context, message=message, reply=reply,
                        key_points=key_points or [])  # fmt: skip
        return self._rubric_record(*await self._ask(prompt, parse_rubric, RUBRIC_SCHEMA))

    async def rate_transcript(self, language: str, transcript: str) -> dict:
        prompt = render("bench_judge_transcript", language, transcript=transcript)
        return self._rubric_record(*await self._ask(prompt, parse_rubric, RUBRIC_SCHEMA))

    @staticmethod
    def _rubric_record(scores: dict | None, raw: str) -> dict:
        if scores is None:
            return {"judge_parsed": False, "judge_raw": raw, "rubric": None, "score": None}
        return {"judge_parsed": True, "judge_raw": raw, "rubric": scores, "score": sum(scores.values()) / len(scores)}

    async def compare(self, language: str, *, message: str, context: str, reply: str, reference: str) -> dict:
        """Both orders; the outcome for `reply` is 1 (win), 0.5 (tie or inconsistent) or 0 (loss)."""
        verdicts = []
        for first, second in ((reply, reference), (reference, reply)):
            prompt = render("bench_judge_pairwise", language, context=context, message=message, reply_a=first,
                            reply_b=second)  # fmt: skip
            verdicts.append((await self._ask(prompt, parse_winner, WINNER_SCHEMA))[0])
        forward, backward = verdicts
        if forward is None or backward is None:
            return {"pair_parsed": False, "verdicts": verdicts, "outcome": None, "consistent": None}
        as_reply = {"a": 1.0, "b": 0.0, "tie": 0.5}[forward], {"a": 0.0, "b": 1.0, "tie": 0.5}[backward]
        return {"pair_parsed": True, "verdicts": verdicts, "outcome": sum(as_reply) / 2,
                "consistent": as_reply[0] == as_reply[1]}  # fmt: skip
