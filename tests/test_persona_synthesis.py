"""`empllm personas generate`: new cards from a model, seeded by the built-in cards' attributes,
validated, near-duplicates removed, the funnel recorded, resumable; on a scripted model and on the
embedded chat model (SmolLM2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from empllm.personas.loader import builtin_personas, load_personas
from empllm.personas.synthesis import generate_personas, make_seed
from empllm.runtime import build_runtime
from empllm.settings import Settings
from empllm.types import Topic

from .cli_in_process import run_empllm

WORDS = (
    "harbour lantern ledger orchard violin tram bakery quarry meadow signal pottery canal attic ferry "
    "glacier saddle compass lighthouse vineyard archive furnace balcony market cellar pylon kiln"
).split()


def prose(name: str, where: str, opening: str | None = "I don't really know where to start.") -> str:
    """A card's prose whose story shares little with any other name's (so only a copy is a near-duplicate)."""
    import random

    rng = random.Random(name)
    story = " ".join(rng.choice(WORDS) for _ in range(40))
    card = {"name": name, "occupation": "night-shift baker", "presenting_problem": f"Cannot stop worrying about {where}.",
            "situation": f"{name} lives in {where}. {story}.",
            "core_belief": "I always pick wrong.", "intermediate_belief": "If I ask for help I am a burden.",
            "automatic_thought": "Everyone else has it figured out.", "coping_behaviour": "Works double shifts.",
            "hidden_fact": "Has not told the family the job is gone.", "opening_line": f"{opening} ({rng.random()})"
            if opening else None, "risk_notes": "Passive thoughts of not waking up, no plan."}  # fmt: skip
    return json.dumps(card)


def scripted(tmp_path: Path, script: dict):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    return build_runtime(f"scripted:{path}", Settings(cache_dir=tmp_path / "cache", use_cache=False))


async def test_invalid_unparseable_and_near_duplicate_cards_are_dropped_and_counted(tmp_path):
    replies = [prose("Ana", "Leeds"), "I cannot write that.", "still no JSON", prose("Ana", "Leeds"),
               prose("Bo", "Cork", opening=None), prose("Cy", "Perth, a town by the river Tay"),
               prose("Di", "a village outside Nagoya where the trains stop at eight")]  # fmt: skip
    runtime = scripted(tmp_path, {"replies": replies})
    funnel = await generate_personas(runtime, builtin_personas(), tmp_path / "out", language="en", n=3)
    assert funnel["kept"] == 3 and funnel["attempts"] == 6
    assert funnel["outcomes"] == {"kept": 3, "unparseable": 1, "near_duplicate": 1, "invalid": 1}
    assert funnel["invalid_fields"] == {"opening_line": 1}
    cards = load_personas(tmp_path / "out" / "personas.jsonl")  # valid cards, as simulate reads them
    assert [c.name for c in cards] == ["Ana", "Cy", "Di"] and len({c.id for c in cards}) == 3
    for index, card in zip((0, 4, 5), cards, strict=True):  # the seed's attributes, not the model's
        seed = make_seed(builtin_personas(), "en", index, 0)
        assert (card.topic.value, card.talking_style, card.risk_level.value) == (
            seed.topic,
            seed.talking_style,
            seed.risk_level,
        )
    coverage = json.loads((tmp_path / "out" / "coverage.json").read_text())
    assert coverage["languages"]["en"]["cards"] == 3
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["config"]["model"].startswith("scripted:") and run["prompts_version"] and run["config_hash"]


def by_topic() -> dict:
    """A model whose answer depends on the seed's topic, as a real one's would: the same on a rerun."""
    rules = [{"contains": f"{t.value.replace('_', ' ')}\n",  # the seed's topic line, en or zh
              "reply": prose(f"P{i}", f"town number {i} of the {t.value} valley, {'far ' * i}north")}
             for i, t in enumerate(Topic)]  # fmt: skip
    return {"match": rules, "default": "no idea"}


async def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "out"

    def stop_after_two(kept, asked, attempt):
        if kept == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await generate_personas(scripted(tmp_path, by_topic()), builtin_personas(), out, language="zh", n=5,
                                progress=stop_after_two)  # fmt: skip
    assert len(load_personas(out / "personas.jsonl")) == 2
    funnel = await generate_personas(scripted(tmp_path, by_topic()), builtin_personas(), out, language="zh", n=5)
    cards = load_personas(out / "personas.jsonl")
    assert funnel["kept"] == 5 and len({c.id for c in cards}) == 5
    indices = [json.loads(line)["index"] for line in (out / "attempts.jsonl").read_text().splitlines()]
    assert sorted(indices) == list(range(5)), "every attempt once: none redone, none skipped"
    assert len({c.topic for c in cards}) == 5  # topics taken in turn


def test_the_cli_generates_reports_coverage_and_refuses_bad_flags(tmp_path):
    model = tmp_path / "model.json"
    model.write_text(json.dumps(by_topic()), encoding="utf-8")
    env = {"EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    done = run_empllm("personas", "generate", "--n", "2", "--language", "en", "--model", f"scripted:{model}",
                      "--out", str(tmp_path / "out"), "--quiet", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 of 2 cards kept after 2 attempts" in done.stdout
    shown = run_empllm("personas", "coverage", "--personas", str(tmp_path / "out" / "personas.jsonl"), env=env)
    assert json.loads(shown.stdout)["languages"]["en"]["cards"] == 2
    bad = run_empllm("personas", "generate", "--language", "fr", "--model", f"scripted:{model}", "--out",
                     str(tmp_path / "bad"), env=env)  # fmt: skip
    assert bad.returncode != 0 and "--language 'fr'" in bad.stderr
    mute = tmp_path / "mute.json"
    mute.write_text(json.dumps({"default": "I would rather not."}), encoding="utf-8")
    nothing = run_empllm("personas", "generate", "--n", "1", "--max-attempts", "2", "--model", f"scripted:{mute}",
                         "--out", str(tmp_path / "none"), "--quiet", env=env)  # fmt: skip
    assert nothing.returncode != 0 and "no card passed the checks" in nothing.stderr
    assert json.loads((tmp_path / "none" / "funnel.json").read_text())["outcomes"] == {"unparseable": 2}


@pytest.mark.integration
def test_smollm2_writes_cards_through_the_whole_funnel(tmp_path, model_cache_dir):
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir), "EMPLLM_USE_CACHE": "false"}
    out = tmp_path / "out"
    done = run_empllm("personas", "generate", "--n", "1", "--max-attempts", "2", "--language", "en", "--model",
                      "llamacpp:smollm2-135m-instruct", "--out", str(out), "--quiet", env=env)  # fmt: skip
    funnel = json.loads((out / "funnel.json").read_text())
    assert funnel["attempts"] >= 1 and sum(funnel["outcomes"].values()) == funnel["attempts"]
    attempts = [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]
    assert all(a["outcome"] in ("kept", "unparseable", "invalid", "near_duplicate") and a["raw"] for a in attempts)
    if funnel["kept"]:
        assert done.returncode == 0 and load_personas(out / "personas.jsonl")
    else:
        assert done.returncode != 0 and "no card passed the checks" in done.stderr
