"""The reply a person in crisis gets: warm and human, asks about immediate safety, gives the
locale's crisis resources, and never passes on a model reply that gives means, moralizes or
minimizes."""

from __future__ import annotations

from empllm.prompts import render
from empllm.reply_phrases import asks_about_safety, unsafe_phrase
from empllm.safety.detector import Assessment
from empllm.safety.resources import Resource

MAX_KEPT_REPLY = 600  # characters of the model's own words kept ahead of the safety part


def crisis_reply(model_reply: str, verdict: Assessment, language: str, resources: list[Resource]) -> str:
    kept = model_reply.strip()
    if not kept or len(kept) > MAX_KEPT_REPLY or unsafe_phrase(kept, language) is not None:
        kept = ""  # the template's own acknowledgement instead
    asks = bool(kept) and asks_about_safety(kept, language)
    return render("crisis_reply", language, acknowledgement=kept, asks_safety=asks,
                  medical="medical_emergency" in verdict.categories, resources=resources)  # fmt: skip
