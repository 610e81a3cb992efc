"""Crisis detection in what a user writes (and in the agent's own contemplation), en + zh.

Rules first (`rules.yaml`): figurative spans ("this movie killed me", 笑死我了) are blanked out,
then every crisis rule is tried. What they miss goes to the learned models, built ahead of time and
shipped: a character n-gram classifier (`classifier.py`) and a reader of meaning, the first layers of
the embedded Gemma tuned as a classifier (`reader.py`); they catch far more indirect disclosures. A model check can be
added where a capable chat model is configured; it can raise an alarm the rules missed, never
silence one they raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

from empllm.errors import EmpLLMError
from empllm.safety.normalise import normalise
from empllm.types import Contemplation, RiskLevel
from empllm.yaml_io import parse_yaml

CATEGORIES = ("suicidal_ideation", "self_harm", "harm_to_others", "abuse", "medical_emergency")


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    explicit: bool
    pattern: re.Pattern
    never_veto: bool = False  # the classifier may not set this rule's hit aside (questions about means)
    in_means_context: bool = False  # fires only inside a question about means (RuleSet.means_context)


@dataclass
class Assessment:
    """The verdict on one text: whether it is a crisis, in which categories, and why."""

    crisis: bool
    categories: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # ids of the rules that fired
    source: str = "rules"  # rules, model, contemplation

    def merge(self, other: Assessment) -> Assessment:
        if not other.crisis:
            return self
        if not self.crisis:
            return other
        cats = list(dict.fromkeys(self.categories + other.categories))
        return Assessment(True, cats, self.rules + other.rules, f"{self.source}+{other.source}")


@dataclass(frozen=True)
class RuleSet:
    figurative: dict[str, list[re.Pattern]]
    crisis: dict[str, list[Rule]]
    recovery: dict[str, list[re.Pattern]] = field(default_factory=dict)  # a story about a safe present
    relapse: dict[str, list[re.Pattern]] = field(default_factory=dict)  # ... unless risk is back now
    means_context: dict[str, tuple[re.Pattern, re.Pattern]] = field(default_factory=dict)  # question, means term

    def masked(self, text: str, language: str) -> str:
        """The text with this language's figurative spans blanked out."""
        for pattern in self.figurative.get(language, []):
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
        return text

    def asks_about_means(self, masked: str, language: str) -> bool:
        """A question cue and a means term of this language in one (masked) text."""
        question, means = self.means_context.get(language, (None, None))
        return question is not None and bool(question.search(masked)) and bool(means.search(masked))

    def means_question(self, text: str) -> bool:
        """Any language's question about means in the text (people mix languages)."""
        return any(self.asks_about_means(self.masked(text, lang), lang) for lang in self.means_context)

    def recovery_context(self, text: str) -> bool:
        """The text tells of risk in the past from a safe present: a recovery marker, no relapse marker
        (each language's markers on every text, as for the crisis rules)."""

        def matches(table):
            return any(p.search(text) for patterns in table.values() for p in patterns)

        return matches(self.recovery) and not matches(self.relapse)


def _compile(pattern: str, where: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise EmpLLMError(f"{where}: bad pattern {pattern!r} ({exc})") from None


def load_rules(path: Path | None = None) -> RuleSet:
    path = path or Path(str(files("empllm.safety").joinpath("rules.yaml")))
    data = parse_yaml(path.read_text(encoding="utf-8"), f"safety rules {path}")
    figurative, crisis, recovery, relapse, means_context = {}, {}, {}, {}, {}
    for lang, block in data.items():
        if "means_context" in block:
            context = block["means_context"]
            means_context[lang] = tuple(_compile(context[part], f"{path} {lang} means_context {part}")
                                        for part in ("question", "means"))  # fmt: skip
        figurative[lang] = [_compile(p, f"{path} {lang} figurative") for p in block.get("figurative", [])]
        recovery[lang] = [_compile(p, f"{path} {lang} recovery") for p in block.get("recovery", [])]
        relapse[lang] = [_compile(p, f"{path} {lang} relapse") for p in block.get("relapse", [])]
        rules = []
        for raw in block.get("crisis", []):
            if raw.get("category") not in CATEGORIES:
                raise EmpLLMError(f"{path}: rule {raw.get('id')} has unknown category {raw.get('category')!r}")
            pattern = _compile(raw["pattern"], f"{path} rule {raw['id']}")
            explicit, never_veto = bool(raw.get("explicit")), bool(raw.get("never_veto"))
            in_means_context = bool(raw.get("in_means_context"))
            if in_means_context and lang not in means_context:
                raise EmpLLMError(f"{path}: rule {raw['id']} needs a means_context in {lang}")
            rules.append(Rule(raw["id"], raw["category"], explicit, pattern, never_veto, in_means_context))
        crisis[lang] = rules
    return RuleSet(figurative, crisis, recovery, relapse, means_context)


@cache
def default_rules() -> RuleSet:
    return load_rules()


def load_detector(languages=("en", "zh")) -> None:
    """Read the rules, the shipped classifiers and the reader now (a few seconds), so that a server fails at start on
    a broken file and its first request waits for nothing."""
    from empllm.safety.classifier import language_model
    from empllm.safety.reader import crisis_reader

    default_rules()
    for language in languages:
        language_model(language)
    crisis_reader()


def assess_text(text: str, language: str, rules: RuleSet | None = None, *, classifier: bool = True,
                reader: bool = True) -> Assessment:  # fmt: skip
    """Rules, then the learned models: deterministic, no text generated. Both languages' rules run on
    every text (people mix languages), each figurative filter first. The learned models (the n-gram
    classifier, and the Gemma reader unless `reader` is False or it is off) catch what the rules
    miss. It sets aside a rule's hit when it is all but sure the message is no crisis (its veto
    threshold, chosen at build time; a keyword in a topic question or a figure of speech), or when the
    message tells of risk in the past from a safe present and it does not itself score a crisis. A
    rule that may never be vetoed (questions about means) is never set aside."""
    text = normalise(text)  # once, for the rules and the classifier alike
    ruleset = rules or default_rules()
    verdict, fired, about_means = _read_rules(text, language, ruleset)
    if not classifier:
        return verdict
    if verdict.crisis and any(rule.never_veto for rule in fired):
        return verdict  # nothing may set it aside, so no model needs to read it
    from empllm.safety.classifier import language_model
    from empllm.safety.reader import COMBINATIONS, crisis_reader

    learned = language_model(language)
    if learned is None:
        return verdict
    p = learned.probability(text)
    gemma = crisis_reader() if reader else None
    if gemma is None or not gemma.reads(language):
        return _learned_verdict(verdict, fired, text, ruleset, p, learned.threshold, learned.veto)
    mix = COMBINATIONS[language]

    means_threshold = mix.means_threshold if about_means else None

    def read_with(reader_probability: float) -> Assessment:
        return _learned_verdict(verdict, fired, text, ruleset, mix.score(p, reader_probability), mix.threshold,
                                mix.veto, means_threshold)  # fmt: skip

    # The reader costs about 20 ms; where no reading of it could change the verdict, it is not run.
    lowest, highest = read_with(0.0), read_with(1.0)
    if lowest.crisis == highest.crisis:
        return lowest
    return read_with(gemma.probability(text))


def _learned_verdict(verdict: Assessment, fired: list[Rule], text: str, ruleset: RuleSet, p: float,
                     threshold: float, veto: float, means_threshold: float | None = None) -> Assessment:  # fmt: skip
    """The rules' verdict read against a learned probability: a veto, a recovery story, or an alarm.
    `means_threshold` is given for a question about means that the rules did not catch: the category
    never to miss alarms at that lower score."""
    if verdict.crisis:
        if p < veto:
            return Assessment(False, [], [f"vetoed:{rule.id}" for rule in fired] + [f"classifier:{p:.2f}"],
                              "classifier")  # fmt: skip
        if p < threshold and ruleset.recovery_context(text):
            return Assessment(False, [], [f"recovery:{rule.id}" for rule in fired] + [f"classifier:{p:.2f}"],
                              "classifier")  # fmt: skip
        return verdict
    if p >= threshold:
        return Assessment(True, [], [f"classifier:{p:.2f}"], "classifier")
    if means_threshold is not None and p >= means_threshold:
        return Assessment(True, [], ["means-context", f"classifier:{p:.2f}"], "classifier")
    return verdict


def assess_by_rules(text: str, language: str, rules: RuleSet | None = None) -> Assessment:
    return _rules_verdict(normalise(text), language, rules or default_rules())[0]


def vetoable_rule_hit(text: str, language: str, rules: RuleSet | None = None) -> bool:
    """The rules fire on this text, and none of them is a rule the classifier may never veto."""
    verdict, fired = _rules_verdict(normalise(text), language, rules or default_rules())
    return verdict.crisis and not any(rule.never_veto for rule in fired)


def _rules_verdict(text: str, language: str, rules: RuleSet) -> tuple[Assessment, list[Rule]]:
    """The rules on a text already normalised: the verdict, and the rules that fired."""
    return _read_rules(text, language, rules)[:2]


def _read_rules(text: str, language: str, rules: RuleSet) -> tuple[Assessment, list[Rule], bool]:
    """The rules' verdict, the rules that fired, and whether the text asks about means in any
    language (RuleSet.means_question, found on the way, so the text is masked once)."""
    fired: list[Rule] = []
    asks_about_means = False
    for lang in dict.fromkeys([language, *rules.crisis, *rules.means_context]):
        masked = rules.masked(text, lang)
        about_means = rules.asks_about_means(masked, lang)
        asks_about_means = asks_about_means or about_means
        fired += [r for r in rules.crisis.get(lang, [])
                  if (about_means or not r.in_means_context) and r.pattern.search(masked)]  # fmt: skip
    if not fired:
        return Assessment(False), fired, asks_about_means
    verdict = Assessment(True, list(dict.fromkeys(r.category for r in fired)), [r.id for r in fired])
    return verdict, fired, asks_about_means


def assess_contemplation(contemplation: Contemplation | None) -> Assessment:
    """The agent's own notes: an elevated or crisis risk level it perceived counts as a crisis."""
    if contemplation is None or contemplation.risk_level not in (RiskLevel.elevated, RiskLevel.crisis):
        return Assessment(False)
    return Assessment(True, ["suicidal_ideation"] if contemplation.risk_level == RiskLevel.crisis else [],
                      [f"contemplation:{contemplation.risk_level.value}"], "contemplation")  # fmt: skip
