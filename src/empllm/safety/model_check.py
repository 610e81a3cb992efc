"""The optional model check: a capable chat model screens each message for crisis signs the rules
miss (indirect disclosures above all). It can only add an alarm; it never clears one the rules
raised, and an answer it gives that does not parse counts as no alarm from it."""

from __future__ import annotations

from empllm.backends.base import GenerationSettings
from empllm.errors import EmpLLMError
from empllm.json_output import ParseError, parse_json_object
from empllm.prompts import render
from empllm.runtime import Runtime
from empllm.safety.detector import CATEGORIES, Assessment
from empllm.types import Message


class ModelSafetyCheck:
    def __init__(self, runtime: Runtime):
        if not runtime.capabilities.chat_tuned:
            raise EmpLLMError(f"--safety-model {runtime.spec} is a base model; the safety check needs a chat model")
        self.runtime = runtime
        self.gen = GenerationSettings(max_tokens=60, temperature=0.0, seed=0)

    async def assess(self, text: str, language: str) -> Assessment:
        prompt = render("safety_check", language, text=text)
        try:
            answer = (await self.runtime.chat([Message(role="user", content=prompt)], self.gen)).text
            data = parse_json_object(answer)
        except (ParseError, EmpLLMError):
            return Assessment(False)
        flagged = data.get("crisis") is True or str(data.get("crisis")).strip().lower() == "true"
        if not flagged:
            return Assessment(False)
        category = str(data.get("category", "")).strip()
        return Assessment(True, [category] if category in CATEGORIES else [], ["model"], "model")
