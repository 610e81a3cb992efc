"""The built-in persona library and the exemplar sessions."""

import sys
from collections import Counter
from pathlib import Path

import pytest

from empllm.errors import EmpLLMError
from empllm.personas.loader import builtin_personas, load_personas
from empllm.simulate.exemplars import builtin_exemplars
from empllm.types import RiskLevel, Strategy, Topic

from .cli_in_process import run_empllm

REQUIRED_TOPICS = set(Topic) - {Topic.self_harm_suicidality, Topic.other}
EMPLLM = str(Path(sys.executable).parent / "empllm")


def test_library_has_60_cards_per_language_with_unique_ids():
    cards = builtin_personas()
    assert Counter(p.language for p in cards) == {"en": 60, "zh": 60}
    assert len({p.id for p in cards}) == len(cards)
    assert all(p.id.startswith(p.language + "-") for p in cards)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_language_covers_every_topic_style_attitude_and_risk(lang):
    cards = [p for p in builtin_personas() if p.language == lang]
    assert REQUIRED_TOPICS <= {p.topic for p in cards}
    assert {p.talking_style for p in cards} == {"plain", "upset", "verbose", "reserved", "tangential", "pleasing"}
    assert {p.attitude for p in cards} == {"open", "ambivalent", "resistant"}
    risks = Counter(p.risk_level for p in cards)
    assert risks[RiskLevel.elevated] >= 3 and risks[RiskLevel.crisis] >= 2
    assert all(p.risk_notes for p in cards if p.risk_level in (RiskLevel.elevated, RiskLevel.crisis))


def test_cards_are_not_templated():
    cards = builtin_personas()
    for field in ("opening_line", "situation", "presenting_problem"):
        values = [getattr(p, field) for p in cards]
        assert len(set(values)) == len(values), f"repeated {field}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_exemplars_cover_strategies_risk_and_stances(lang):
    exemplars = builtin_exemplars(lang)
    assert len(exemplars) >= 10
    strategies = {t.contemplation.strategy for ex in exemplars for t in ex.turns if t.contemplation}
    assert strategies == set(Strategy)
    risks = {t.contemplation.risk_level for ex in exemplars for t in ex.turns if t.contemplation}
    assert {RiskLevel.elevated, RiskLevel.crisis} <= risks
    assert {ex.stance for ex in exemplars} == {"person_centred", "cbt", "motivational_interviewing"}


def test_user_files_are_validated_with_a_clear_line(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("- id: Bad Id\n  language: en\n")
    with pytest.raises(EmpLLMError, match=r"mine.yaml card 1 \(id Bad Id\): field 'id'"):
        load_personas(bad)
    out = run_empllm("personas", "validate", str(bad), env={"EMPLLM_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "field 'id'" in out.stderr
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text('{"id": "x"}\n{broken\n')
    with pytest.raises(EmpLLMError, match="line 2: not valid JSON"):
        load_personas(jsonl)


def test_personas_cli_list_and_show(tmp_path):
    env = {"EMPLLM_CACHE_DIR": str(tmp_path), "COLUMNS": "200"}
    out = run_empllm("personas", "list", "--language", "zh", env=env)
    assert out.returncode == 0 and "60 personas" in out.stdout
    some_id = builtin_personas()[0].id
    shown = run_empllm("personas", "show", some_id, env=env)
    assert shown.returncode == 0 and f"id: {some_id}" in shown.stdout
    missing = run_empllm("personas", "show", "nope", env=env)
    assert missing.returncode == 2 and "no persona" in missing.stderr
