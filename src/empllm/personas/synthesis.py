"""New persona cards from a chat model: `empllm personas generate --n N --model SPEC --language en|zh`.

Each card starts from a seed that combines attributes of different built-in cards of the language:
the topic (taken in turn, so every topic is covered), the talking style, the attitude, the risk
level and the emotion, and the life situation (age, gender, occupation) of yet another card. The
model writes only the prose: the name, the problem, the situation, the beliefs, a hidden fact and
the opening line. EmpLLM assembles the card, validates it against the schema, and drops it when its
story is a near-duplicate (MinHash) of a built-in card or of one kept before.

The output folder holds personas.jsonl (the kept cards, loadable with --personas), attempts.jsonl
(one line per attempt: its outcome and why, so a run resumes where it stopped), run.json (model,
prompts version, seed, config hash), and funnel.json and coverage.json, rewritten at the end."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import ValidationError

from empllm.backends.base import GenerationSettings
from empllm.errors import EmpLLMError, first_problem
from empllm.json_output import ParseError, parse_json_object
from empllm.json_schema import OPTIONAL_TEXT, TEXT, object_schema, structured
from empllm.jsonl_store import JsonlAppender, read_jsonl, repair_torn_tail, write_text_atomic
from empllm.minhash import NUM_PERM, text_minhash
from empllm.personas.coverage import coverage
from empllm.prompts import PROMPTS_VERSION, render
from empllm.provenance import check_run_file, stable_hash
from empllm.runtime import Runtime, ask_until_parsed
from empllm.types import Persona, RiskLevel

DUPLICATE_THRESHOLD = 0.6  # Jaccard estimate over the story's character 5-grams
ATTEMPTS_PER_CARD = 4  # attempts at most, in all, per card asked for
STORY_FIELDS = ("presenting_problem", "situation", "opening_line")

# What the model writes; everything else comes from the seed.
PROSE_SCHEMA = object_schema(name=TEXT, occupation=TEXT, presenting_problem=TEXT, situation=TEXT, core_belief=TEXT,
                             intermediate_belief=TEXT, automatic_thought=TEXT, coping_behaviour=TEXT, hidden_fact=TEXT,
                             opening_line=TEXT, risk_notes=OPTIONAL_TEXT)  # fmt: skip


@dataclass(frozen=True)
class PersonaSeed:
    """The attributes a new card is built on, each from a built-in card of its language."""

    index: int
    language: str
    topic: str
    talking_style: str
    attitude: str
    risk_level: str
    primary_emotion: str
    starting_intensity: int
    age: int
    gender: str
    occupation: str

    @property
    def risky(self) -> bool:
        """Elevated or crisis risk: the card then carries risk notes."""
        return self.risk_level in (RiskLevel.elevated, RiskLevel.crisis)


def make_seed(builtin: list[Persona], language: str, index: int, seed: int) -> PersonaSeed:
    """The seed of attempt `index`: the same on every run with the same seed (so resuming is exact)."""
    cards = [p for p in builtin if p.language == language]
    if not cards:
        raise EmpLLMError(f"no built-in persona cards in {language!r} to draw attributes from")
    rng = random.Random(f"{seed}:{language}:{index}")
    topics = sorted({p.topic.value for p in cards})
    draw = lambda: rng.choice(cards)  # noqa: E731  a different card for each attribute
    life = draw()
    feeling = draw()
    return PersonaSeed(index=index, language=language, topic=topics[index % len(topics)],
                       talking_style=draw().talking_style, attitude=draw().attitude,
                       risk_level=draw().risk_level.value, primary_emotion=feeling.primary_emotion.value,
                       starting_intensity=feeling.starting_intensity, age=life.age, gender=life.gender,
                       occupation=life.occupation)  # fmt: skip


def assemble(seed: PersonaSeed, prose: dict, run_seed: int) -> Persona:
    """The card from its seed and the model's prose; raises ValidationError where the prose falls short."""

    def text(key):
        value = prose.get(key)
        return value.strip() if isinstance(value, str) else value

    return Persona.model_validate({
        "id": f"syn-{seed.language}-{run_seed}-{seed.index:05d}", "language": seed.language,
        "name": text("name"), "age": seed.age, "gender": seed.gender,
        "occupation": text("occupation") or seed.occupation, "topic": seed.topic,
        "presenting_problem": text("presenting_problem"), "situation": text("situation"),
        "primary_emotion": seed.primary_emotion, "starting_intensity": seed.starting_intensity,
        "cognitive_model": {"core_belief": text("core_belief"), "intermediate_beliefs": [text("intermediate_belief")],
                            "automatic_thoughts": [text("automatic_thought")],
                            "coping_behaviours": [text("coping_behaviour")]},
        "talking_style": seed.talking_style, "attitude": seed.attitude,
        "hidden_facts": [{"fact": text("hidden_fact"), "trust_needed": 6}],
        "risk_level": seed.risk_level, "risk_notes": text("risk_notes") if seed.risky else None,
        "opening_line": text("opening_line"),
    })  # fmt: skip


def story(card: Persona) -> str:
    return "\n".join(getattr(card, f) for f in STORY_FIELDS)


class NearDuplicates:
    """MinHash LSH over the stories of the built-in cards and the cards kept so far."""

    def __init__(self, cards: list[Persona]):
        from datasketch import MinHashLSH

        self._index = MinHashLSH(threshold=DUPLICATE_THRESHOLD, num_perm=NUM_PERM)
        for card in cards:
            self.remember(card)

    def like(self, card: Persona) -> str | None:
        similar = self._index.query(text_minhash(story(card)))
        return sorted(similar)[0] if similar else None

    def remember(self, card: Persona) -> None:
        if card.id not in self._index:
            self._index.insert(card.id, text_minhash(story(card)))


@dataclass
class Attempt:
    index: int
    outcome: str  # kept, unparseable, invalid, near_duplicate
    reason: str = ""
    card_id: str | None = None


def _prose(raw: str) -> dict:
    data = parse_json_object(raw)
    if not any(isinstance(data.get(f), str) and data[f].strip() for f in STORY_FIELDS):
        raise ParseError("none of the story fields was written")
    return data


async def _write_prose(runtime: Runtime, seed: PersonaSeed, example: Persona, gen: GenerationSettings) -> tuple:
    prompt = render("persona_synthesis", seed.language, seed=asdict(seed), example=_example_prose(example),
                    risky=seed.risky)  # fmt: skip
    return await ask_until_parsed(runtime, prompt, gen, _prose, attempts=2)


def _example_prose(card: Persona) -> str:
    """One built-in card's prose, in the shape the model is asked to write."""
    cm = card.cognitive_model
    prose = {"name": card.name, "occupation": card.occupation, "presenting_problem": card.presenting_problem,
             "situation": card.situation, "core_belief": cm.core_belief,
             "intermediate_belief": cm.intermediate_beliefs[0], "automatic_thought": cm.automatic_thoughts[0],
             "coping_behaviour": cm.coping_behaviours[0], "hidden_fact": card.hidden_facts[0].fact,
             "opening_line": card.opening_line, "risk_notes": card.risk_notes or ""}  # fmt: skip
    return json.dumps(prose, ensure_ascii=False, indent=1)


def synthesis_config(model: str, language: str, n: int, seed: int, temperature: float) -> dict:
    return {"model": model, "language": language, "n": n, "seed": seed, "temperature": temperature,
            "duplicate_threshold": DUPLICATE_THRESHOLD, "prompts": PROMPTS_VERSION}  # fmt: skip


async def generate_personas(runtime: Runtime, builtin: list[Persona], out_dir: Path, *, language: str, n: int,
                            seed: int = 0, temperature: float = 0.9, concurrency: int = 1,
                            max_attempts: int | None = None, progress=None) -> dict:  # fmt: skip
    """Generate until `n` cards are kept or the attempts are spent (ATTEMPTS_PER_CARD x n unless
    `max_attempts` says otherwise); resumable."""
    budget = max_attempts or ATTEMPTS_PER_CARD * n
    config = synthesis_config(runtime.spec, language, n, seed, temperature) | {"max_attempts": budget}
    check_run_file(out_dir, config, stable_hash(config))
    cards_path, attempts_path = out_dir / "personas.jsonl", out_dir / "attempts.jsonl"
    for path in (cards_path, attempts_path):
        repair_torn_tail(path)
    kept = [Persona.model_validate(r) for r in read_jsonl(cards_path)] if cards_path.is_file() else []
    done = {int(r["index"]): r for r in read_jsonl(attempts_path)} if attempts_path.is_file() else {}
    for card in kept:  # a card written just before an interruption, its attempt line not yet
        card_index = int(card.id.rsplit("-", 1)[1])
        done.setdefault(card_index, asdict(Attempt(card_index, "kept")))
    examples = [p for p in builtin if p.language == language]
    duplicates = NearDuplicates(examples + kept)
    gen = structured(runtime, GenerationSettings(max_tokens=700, temperature=temperature, seed=seed), PROSE_SCHEMA)
    index = 0
    with JsonlAppender(cards_path) as cards_out, JsonlAppender(attempts_path) as attempts_out:
        while len(kept) < n and index < budget:
            batch = [i for i in range(index, min(index + concurrency, budget)) if i not in done]
            index += concurrency
            seeds = [make_seed(builtin, language, i, seed) for i in batch]
            answers = await asyncio.gather(*(
                _write_prose(runtime, s, examples[s.index % len(examples)], gen) for s in seeds))  # fmt: skip
            for s, (prose, raw, why) in zip(seeds, answers, strict=True):  # in index order: dedup is deterministic
                if len(kept) >= n:
                    break
                attempt, card = _judge(s, prose, why, seed, duplicates)
                if card is not None:
                    cards_out.write(card.model_dump(mode="json", exclude_none=True))
                    duplicates.remember(card)
                    kept.append(card)
                attempts_out.write({**asdict(attempt), "raw": raw[:500]})
                done[s.index] = asdict(attempt)
                if progress is not None:
                    progress(len(kept), n, attempt)
    funnel = _funnel(done.values(), n, len(kept))
    write_text_atomic(out_dir / "funnel.json", json.dumps(funnel, indent=2) + "\n")
    write_text_atomic(out_dir / "coverage.json", json.dumps(coverage(kept), indent=2, ensure_ascii=False) + "\n")
    return funnel


def _judge(seed: PersonaSeed, prose: dict | None, why: str, run_seed: int,
           duplicates: NearDuplicates) -> tuple[Attempt, Persona | None]:  # fmt: skip
    """The attempt's outcome, and its card when it is kept."""
    if prose is None:
        return Attempt(seed.index, "unparseable", why), None
    try:
        card = assemble(seed, prose, run_seed)
    except ValidationError as exc:
        field, message = first_problem(exc)
        return Attempt(seed.index, "invalid", f"{field}: {message}"), None
    like = duplicates.like(card)
    if like is not None:
        return Attempt(seed.index, "near_duplicate", f"like {like}"), None
    return Attempt(seed.index, "kept", card_id=card.id), card


def _funnel(attempts, asked: int, kept: int) -> dict:
    attempts = list(attempts)
    outcomes = Counter(a["outcome"] for a in attempts)
    invalid = Counter(a["reason"].split(":")[0] for a in attempts if a["outcome"] == "invalid")
    return {"asked": asked, "attempts": len(attempts), "kept": kept, "outcomes": dict(outcomes),
            "invalid_fields": dict(invalid)}  # fmt: skip
