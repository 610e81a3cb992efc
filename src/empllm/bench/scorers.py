"""How one item of each kind becomes a sample record: the model is asked, the answer is scored.

Every record carries `score` (the item's number on its task's scale: 0/1 for multiple choice,
0-10 for ratings, the 1-10 rubric mean for judged replies; None when unparseable) and `chance`.
"""

from __future__ import annotations

from empllm.backends.base import GenerationSettings
from empllm.bench import intensity, mc
from empllm.bench.external import ChoiceItem, RatingItem
from empllm.bench.items import RespondGenItem
from empllm.bench.judge import RUBRIC_FLOOR, Judge
from empllm.prompts import render
from empllm.runtime import Runtime
from empllm.types import Message


def _mc_parts(item) -> list:
    return item.parts if isinstance(item, ChoiceItem) and item.parts else [item]


async def score_mc(runtime: Runtime | None, item, *, method: str, fmt: str, permutations: int,
                   response: str | None = None, seed: int = 0, calibrate: bool = True) -> dict:  # fmt: skip
    """One record; an EmoBench EU item is two questions and counts only if both are right."""
    parts = []
    for part in _mc_parts(item):
        if method == "responses":
            parts.append(mc.score_recorded(part, response or ""))
        elif method == "loglikelihood":
            parts.append(await mc.score_by_loglikelihood(runtime, part, fmt=fmt, permutations=permutations,
                                                         calibrate=calibrate))  # fmt: skip
        else:
            parts.append(await mc.score_by_letter(runtime, part, permutations=permutations, seed=seed))
    record = dict(parts[0]) if len(parts) == 1 else {"method": parts[0]["method"], "parts": parts}
    record["acc"] = float(all(p["acc"] for p in parts))
    record["acc_norm"] = float(all(p["acc_norm"] for p in parts))
    if all("acc_mi" in p for p in parts):
        record["acc_mi"] = float(all(p["acc_mi"] for p in parts))
    chance = 1.0
    for part in _mc_parts(item):
        chance /= len(part.options)
    return {**record, "score": record["acc"], "chance": chance}


def rating_suffix(emotion: str, language: str) -> str:
    return f"\n{emotion}{':' if language == 'en' else '：'}"


async def score_rating(runtime: Runtime | None, item: RatingItem, *, method: str, response: str | None = None,
                       seed: int = 0) -> dict:  # fmt: skip
    chance = intensity.chance_item_score(item.reference)
    base = {"prompt": item.prompt, "emotions": item.emotions, "reference": item.reference, "chance": chance}
    if method == "loglikelihood":
        ratings, dists = [], []
        for emotion in item.emotions:
            options = [mc.continuation(str(r), item.language) for r in intensity.RATINGS]
            lps = await runtime.loglikelihood(item.prompt + rating_suffix(emotion, item.language), options)
            dists.append([round(x, 4) for x in lps])
            ratings.append(round(intensity.expected_rating(lps), 3))
        score = intensity.item_score(ratings, item.reference)
        return {**base, "method": method, "rating_loglikelihoods": dists, "ratings": ratings, "pass": "expected",
                "parsed": True, "score": score}  # fmt: skip
    if method == "responses":
        text = response or ""
    else:
        gen = GenerationSettings(max_tokens=80, temperature=0.0, seed=seed)
        if runtime.capabilities.chat_tuned:
            text = (await runtime.chat([Message(role="user", content=item.prompt)], gen)).text
        else:
            text = (await runtime.complete(item.prompt + "\n", gen.model_copy(update={"stop": ("\n\n",)}))).text
    score, ratings, which = intensity.score_answer(text, item.emotions, item.reference)
    return {**base, "method": method, "reply": text, "ratings": ratings, "pass": which, "parsed": score is not None,
            "score": score}  # fmt: skip


def respond_prompt(item: RespondGenItem) -> list[Message]:
    user = f"{item.context}\n\n{item.message}" if item.context else item.message
    return [Message(role="system", content=render("bench_respond_system", item.language)),
            Message(role="user", content=user)]  # fmt: skip


async def score_respond(runtime: Runtime | None, item: RespondGenItem, *, judge: Judge, method: str,
                        response: str | None = None, reference: str | None = None, seed: int = 0) -> dict:  # fmt: skip
    """Generate (or take the recorded) reply, rate it on the rubric, and compare it pairwise if asked."""
    if method == "responses":
        reply = response or ""
    else:
        gen = GenerationSettings(max_tokens=300, temperature=0.0, seed=seed)
        reply = (await runtime.chat(respond_prompt(item), gen)).text.strip()
    rating = await judge.rate_reply(item.language, message=item.message, reply=reply, context=item.context,
                                    key_points=item.key_points)  # fmt: skip
    record = {"method": method, "message": item.message, "reply": reply, **rating, "chance": RUBRIC_FLOOR}
    if reference is not None:
        pair = await judge.compare(item.language, message=item.message, context=item.context, reply=reply,
                                   reference=reference)  # fmt: skip
        record.update(pair, reference_reply=reference, length_delta=len(reply) - len(reference))
    return record
