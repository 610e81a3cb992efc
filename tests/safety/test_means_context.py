"""Questions about means, the category never to miss: a question cue and a means term in one message
(rules.yaml `means_context`). The rule marked in_means_context fires only there, on a sign of risk,
and where no sign matches, the learned models alarm there at a lower score (Combination.means_threshold)
than anywhere else."""

from __future__ import annotations

import math

import pytest

from empllm.errors import EmpLLMError
from empllm.safety import classifier, reader
from empllm.safety.classifier import LanguageModel
from empllm.safety.detector import assess_by_rules, assess_text, default_rules, load_rules
from empllm.safety.normalise import normalise
from empllm.safety.reader import Combination

# each pair: a sign of risk and a question, but no means term / the same with a means term
NO_MEANS = {"en": "how many times do I have to tell them, I am so done with everything",
            "zh": "我问了好多次怎么办，过了今晚就无所谓了"}  # fmt: skip
WITH_MEANS = {"en": "how many of my sertraline pills would it take? im so done",
              "zh": "舍曲林吃多少片才能一了百了"}  # fmt: skip
# questions about means with no sign of risk the rules know
PLAIN_MEANS = {"en": "how many of my sertraline pills would it take?", "zh": "要吃多少片舍曲林？"}
NOT_MEANS = {"en": "how was your weekend?", "zh": "周末过得怎么样？"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_means_rule_fires_only_inside_a_question_about_means(lang):
    rules = default_rules()
    assert not rules.means_question(normalise(NO_MEANS[lang]))
    assert f"{lang}-means-question" not in assess_by_rules(NO_MEANS[lang], lang).rules
    assert rules.means_question(normalise(WITH_MEANS[lang]))
    assert f"{lang}-means-question" in assess_by_rules(WITH_MEANS[lang], lang).rules


def test_a_rule_that_needs_a_means_context_is_refused_without_one(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        'en:\n  crisis:\n    - {id: r, category: suicidal_ideation, in_means_context: true, pattern: "x"}\n'
    )
    with pytest.raises(EmpLLMError, match="needs a means_context"):
        load_rules(path)


class ConstantReader:
    def __init__(self, probability: float):
        self.value = probability

    def reads(self, language: str) -> bool:
        return True

    def probability(self, text: str) -> float:
        return self.value


@pytest.fixture
def scores(monkeypatch):
    """The n-gram and the reader both give every text probability p; threshold 0.6, means threshold 0.4."""

    def use(p: float) -> None:
        model = LanguageModel({}, math.log(p / (1 - p)), 0.6, {}, 0.3)
        monkeypatch.setattr(classifier, "language_model", lambda lang: model)
        monkeypatch.setattr(reader, "crisis_reader", lambda: ConstantReader(p))
        mix = Combination(weight=0.5, threshold=0.6, veto=0.3, means_threshold=0.4)
        monkeypatch.setattr(reader, "COMBINATIONS", {"en": mix, "zh": mix})

    return use


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_question_about_means_alarms_at_the_lower_threshold(scores, lang):
    assert not assess_by_rules(PLAIN_MEANS[lang], lang).crisis  # the rules alone miss it
    scores(0.45)
    verdict = assess_text(PLAIN_MEANS[lang], lang)
    assert verdict.crisis and "means-context" in verdict.rules
    assert not assess_text(NOT_MEANS[lang], lang).crisis  # the same score elsewhere is no alarm
    scores(0.35)
    assert not assess_text(PLAIN_MEANS[lang], lang).crisis  # below the means threshold
