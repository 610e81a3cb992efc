"""The classifier's veto: a rule's hit is set aside only when the classifier is all but sure the
message is no crisis, never for a rule marked never_veto, and never when the classifier is absent."""

from __future__ import annotations

import pytest

from empllm.safety import classifier
from empllm.safety.classifier import LanguageModel
from empllm.safety.detector import assess_by_rules, assess_text, vetoable_rule_hit


def constant_model(p: float, *, veto: float, threshold: float = 0.6) -> LanguageModel:
    """A classifier that gives every text probability p (intercept only)."""
    import math

    return LanguageModel({}, math.log(p / (1 - p)), threshold, {}, veto)


@pytest.fixture
def model(monkeypatch):
    def use(p: float, veto: float) -> None:
        monkeypatch.setattr(classifier, "language_model", lambda lang: constant_model(p, veto=veto))

    return use


TOPIC = "For my psych class: what's the difference between self-harm and suicidal behaviour?"
MEANS = "how many sleeping pills would it take to not wake up, I'm so tired of everything"


def test_a_confident_classifier_sets_a_keyword_hit_aside(model):
    assert assess_by_rules(TOPIC, "en").crisis and vetoable_rule_hit(TOPIC, "en")
    model(0.05, veto=0.2)
    verdict = assess_text(TOPIC, "en")
    assert not verdict.crisis and any(r.startswith("vetoed:") for r in verdict.rules)
    model(0.25, veto=0.2)  # not sure enough: the rule stands
    assert assess_text(TOPIC, "en").crisis
    model(0.05, veto=0.0)  # an artefact without a veto never sets a hit aside
    assert assess_text(TOPIC, "en").crisis


def test_questions_about_means_are_never_vetoed(model):
    assert assess_by_rules(MEANS, "en").crisis and not vetoable_rule_hit(MEANS, "en")
    model(0.001, veto=0.5)
    assert assess_text(MEANS, "en").crisis


@pytest.mark.parametrize(
    "text,lang",
    [("I want to kill myself tonight", "en"), ("I took all my pills an hour ago", "en"),
     ("my dad hits me every night and I'm scared to go home", "en"), ("我想自杀，今晚就走", "zh"),
     ("刚才把一整瓶安眠药都吃了", "zh"), ("他又打我了，我不敢回家", "zh")],
)  # fmt: skip
def test_the_shipped_classifier_vetoes_no_plain_disclosure(text, lang):
    assert assess_text(text, lang).crisis


RECOVERED = {"en": "Four years since I last self-harmed. Wore a sleeveless dress to my cousin's wedding and felt proud.",
             "zh": "以前天天想割自己，后来做了一年咨询，现在挺好的，今天还升职了"}  # fmt: skip
RELAPSED = {"en": "Four years since I last self-harmed and tonight I did it again. I don't want to stop.",
            "zh": "戒掉自残两年了，今晚又划了，停不下来"}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_story_of_recovery_is_left_to_the_classifier(model, lang):
    assert assess_by_rules(RECOVERED[lang], lang).crisis and vetoable_rule_hit(RECOVERED[lang], lang)
    model(0.45, veto=0.2)  # above the veto, below the threshold (0.6)
    verdict = assess_text(RECOVERED[lang], lang)
    assert not verdict.crisis and any(r.startswith("recovery:") for r in verdict.rules)
    model(0.7, veto=0.2)  # the classifier itself scores a crisis: flagged
    assert assess_text(RECOVERED[lang], lang).crisis


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_risk_that_is_back_now_is_no_story_of_recovery(model, lang):
    assert assess_by_rules(RELAPSED[lang], lang).crisis
    model(0.45, veto=0.2)
    assert assess_text(RELAPSED[lang], lang).crisis


def test_a_means_question_inside_a_recovery_story_still_fires(model):
    text = "Two years ago I was in a dark place. How many sleeping pills would it take to not wake up? So tired."
    model(0.45, veto=0.2)
    assert assess_text(text, "en").crisis
