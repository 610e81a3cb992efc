"""An optional rubric judge (any chat-tuned model): keep or drop, with issue codes."""

from __future__ import annotations

from empllm.backends.base import GenerationSettings
from empllm.curate.decision import Issue
from empllm.errors import EmpLLMError
from empllm.json_output import ParseError, parse_json_object
from empllm.json_schema import TEXT, enum, object_schema, structured
from empllm.prompts import render
from empllm.runtime import Runtime, ask_until_parsed
from empllm.types import Session

JUDGE_CODES = ("think_reply_mismatch", "generic_reply", "premature_advice", "missed_emotion", "unsafe", "incoherent")


def judge_transcript(session: Session) -> str:
    lines = []
    for turn in session.turns:
        if turn.role == "client":
            lines.append(f"Client: {turn.content}")
        else:
            c = turn.contemplation
            if c is not None:
                lines.append(f"[notes: {c.emotion.value} {c.intensity}/10; cause: {c.cause}; appraisal: {c.appraisal}; "
                             f"need: {c.unmet_need}; risk: {c.risk_level.value}; strategy: {c.strategy.value}; "
                             f"why: {c.rationale}]")  # fmt: skip
            lines.append(f"Counselor: {turn.content}")
    return "\n".join(lines)


def parse_verdict(text: str) -> tuple[bool, list[str]]:
    # the reasoning comes first; the verdict is the last JSON object in the answer
    start = text.rfind('{"keep"')
    data = parse_json_object(text[start:] if start >= 0 else text)
    keep = data.get("keep")
    if not isinstance(keep, bool):
        keep = str(keep).strip().lower()
        if keep not in {"true", "false"}:
            raise ParseError("the verdict has no true/false 'keep'")
        keep = keep == "true"
    issues = data.get("issues") or []
    if isinstance(issues, str):
        issues = [issues]
    return keep, [str(i).strip() for i in issues if str(i).strip()]


class SessionJudge:
    def __init__(self, runtime: Runtime, attempts: int = 2):
        if not runtime.capabilities.chat_tuned:
            raise EmpLLMError(f"--judge {runtime.spec} is a base model; a rubric judge needs a chat-tuned model")
        self.runtime = runtime
        self.attempts = attempts
        # reasoning first, then the verdict: the order the prompt asks for, kept by structured output
        verdict = object_schema(
            reasoning=TEXT, keep={"type": "boolean"}, issues={"type": "array", "items": enum(JUDGE_CODES)}
        )
        self.gen = structured(runtime, GenerationSettings(max_tokens=400, temperature=0.0), verdict)

    async def check(self, session: Session) -> list[Issue]:
        prompt = render("judge_session", session.language, transcript=judge_transcript(session))
        verdict, raw, why = await ask_until_parsed(
            self.runtime, prompt, self.gen, parse_verdict, attempts=self.attempts
        )
        if verdict is None:
            return [Issue(filter="judge", code="judge_unparseable", detail=f"{why}: {raw[-200:]!r}")]
        keep, codes = verdict
        if keep:
            return []
        known = [c for c in codes if c in JUDGE_CODES]
        unknown = [c for c in codes if c not in JUDGE_CODES]
        issues = [Issue(filter="judge", code=c) for c in known]
        if unknown or not issues:
            issues.append(Issue(filter="judge", code="judge_other", detail=", ".join(unknown) or "dropped"))
        return issues
