"""Multiple-choice scoring: by log-likelihood of each option (base models), or by a generated letter.

Log-likelihood follows lm-evaluation-harness: every option is a continuation of one shared context
(evaluated once per item by the backend), `acc` takes the option with the highest log-likelihood
and `acc_norm` the highest log-likelihood per UTF-8 byte of the option. `acc_mi` (lm-eval's
acc_mutual_info) takes the option the situation makes most likely relative to its prior, the
log-likelihood after the bare answer cue: it removes how probable an option's wording is anyway,
which otherwise favours short, generic options.
"""

from __future__ import annotations

import re

from empllm.backends.base import GenerationSettings
from empllm.bench.items import MCItem
from empllm.prompts import render
from empllm.runtime import Runtime
from empllm.types import Message

LETTERS = "ABCDEF"
MC_FORMATS = ("cloze", "listed")  # cloze: options unseen, scored as answers; listed: options shown A-F


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=lambda i: (values[i], -i))  # ties go to the first option


def rotations(n_options: int, permutations: int) -> list[list[int]]:
    """Cyclic shifts of the option order: shown position -> original index."""
    return [[(i + shift) % n_options for i in range(n_options)] for shift in range(permutations)]


def continuation(option: str, language: str) -> str:
    # English answers follow "Answer:" after a space; Chinese follows "答案：" directly
    return f" {option}" if language == "en" else option


def mc_context(item: MCItem, fmt: str, order: list[int], *, ask_letter: bool = False) -> str:
    if fmt == "cloze":
        return render("bench_mc_cloze", item.language, item=item)
    options = [item.options[i] for i in order]
    return render("bench_mc_listed", item.language, item=item, options=options, letters=LETTERS, ask_letter=ask_letter)


NULL_CONTEXT = {"en": "Answer:", "zh": "答案："}  # the cue alone: the options' prior


def decide(options: list[str], gold: int, loglikelihoods: list[float], priors: list[float] | None = None) -> dict:
    """The picks and scores from the options' log-likelihoods (and priors, for acc_mi). Also inlined
    into the lm-eval export's utils.py, so both harnesses decide alike."""
    per_byte = [ll / max(1, len(opt.encode("utf-8"))) for ll, opt in zip(loglikelihoods, options, strict=True)]
    pred, pred_norm = _argmax(loglikelihoods), _argmax(per_byte)
    decision = {"pred": pred, "pred_norm": pred_norm, "acc": float(pred == gold), "acc_norm": float(pred_norm == gold)}
    if priors is not None:
        pred_mi = _argmax([ll - p for ll, p in zip(loglikelihoods, priors, strict=True)])
        decision.update(pred_mi=pred_mi, acc_mi=float(pred_mi == gold))
    return decision


async def score_by_loglikelihood(
    runtime: Runtime, item: MCItem, *, fmt: str = "cloze", permutations: int = 1, calibrate: bool = True
) -> dict:
    """A sample record; with several permutations the log-likelihoods are averaged per option.
    `calibrate` also scores the options after the bare cue, for acc_mi (one more call per item)."""
    n = len(item.options)
    totals = [0.0] * n
    orders = rotations(n, permutations) if fmt == "listed" else [list(range(n))]
    contexts = []
    for order in orders:
        context = mc_context(item, fmt, order)
        contexts.append(context)
        scores = await runtime.loglikelihood(context, [continuation(item.options[i], item.language) for i in order])
        for shown, original in enumerate(order):
            totals[original] += scores[shown] / len(orders)
    priors = None
    if calibrate:
        priors = await runtime.loglikelihood(
            NULL_CONTEXT[item.language], [continuation(o, item.language) for o in item.options]
        )
    return {"method": "loglikelihood", "format": fmt, "prompt": contexts[0], "options": item.options,
            "loglikelihoods": [round(x, 5) for x in totals],
            "prior_loglikelihoods": None if priors is None else [round(x, 5) for x in priors],
            "gold": item.gold, **decide(item.options, item.gold, totals, priors)}  # fmt: skip


_LETTER = re.compile(r"(?<![A-Za-z])([A-F])(?![A-Za-z])")


def parse_choice(text: str, options: list[str]) -> int | None:
    """The option a reply picks: its first standalone letter, else the one option it quotes whole."""
    for match in _LETTER.finditer(text.strip()[:200]):
        index = LETTERS.index(match.group(1))
        if index < len(options):
            return index
    quoted = [i for i, opt in enumerate(options) if opt.strip() and opt.strip().lower() in text.lower()]
    return quoted[0] if len(quoted) == 1 else None


def choice_in_order(item: MCItem, order: list[int], reply: str) -> int | None:
    """The original index of the option a reply picks when the options were shown in `order`."""
    shown = parse_choice(reply, [item.options[i] for i in order])
    return None if shown is None else order[shown]


async def score_by_letter(runtime: Runtime, item: MCItem, *, permutations: int = 1, seed: int = 0) -> dict:
    """Ask for a letter (chat models, or base models after "Answer:"); majority over permutations."""
    gen = GenerationSettings(max_tokens=8 if not runtime.capabilities.chat_tuned else 32, temperature=0.0, seed=seed)
    votes: list[int | None] = []
    replies: list[str] = []
    prompts = []
    for order in rotations(len(item.options), permutations):
        prompt = mc_context(item, "listed", order, ask_letter=True)
        prompts.append(prompt)
        if runtime.capabilities.chat_tuned:
            done = await runtime.chat([Message(role="user", content=prompt)], gen)
        else:
            done = await runtime.complete(prompt, gen.model_copy(update={"stop": ("\n",)}))
        votes.append(choice_in_order(item, order, done.text))
        replies.append(done.text)
    return {"method": "generate_letter", "format": "listed", "prompt": prompts[0],
            "options": item.options, "replies": replies, "gold": item.gold, **vote(item, votes)}  # fmt: skip


def vote(item: MCItem, votes: list[int | None]) -> dict:
    """The most frequent parsed choice (ties: the earliest); unparseable replies count as wrong."""
    counts: dict[int, int] = {}
    for v in votes:
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    pred = max(counts, key=lambda k: (counts[k], -votes.index(k))) if counts else None
    correct = float(pred == item.gold)
    return {"pred": pred, "parsed": pred is not None, "acc": correct, "acc_norm": correct}


def score_recorded(item: MCItem, response: str) -> dict:
    """A reply recorded elsewhere (--responses): a letter for the options in their shipped order."""
    pred = parse_choice(response, item.options)
    prompt = mc_context(item, "listed", list(range(len(item.options))), ask_letter=True)
    return {"method": "responses", "format": "listed", "prompt": prompt,
            "options": item.options, "replies": [response], "gold": item.gold, **vote(item, [pred])}  # fmt: skip
