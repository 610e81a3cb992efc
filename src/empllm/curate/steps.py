"""Curation steps: each filter is one object with a name, the reason codes it gives and a check.

`curate` runs `CurateConfig.steps` in order on every session, then the judge (when a judge model
is given). The CLI's funnel and `curate.json` read the same list. A new filter is one class
registered with `@curation_step`: built in, in this package, or from another package through the
entry-point group `empllm.curation_steps` (a name -> a class taking `StepContext`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from empllm.curate.config import CurateConfig
from empllm.curate.decision import Issue
from empllm.curate.dedup import NearDuplicateFilter
from empllm.curate.grounding import check_grounding
from empllm.curate.reply_safety import check_reply_safety
from empllm.curate.rules import RuleLimits, check_rules
from empllm.errors import EmpLLMError
from empllm.plugins import plugin_entries
from empllm.types import RiskLevel, Session

ENTRY_POINT_GROUP = "empllm.curation_steps"


@dataclass
class StepContext:
    """What a step may read when it is built for one curation run."""

    config: CurateConfig
    persona_risks: dict[str, RiskLevel]  # from the simulation's run.json: risk known before any notes


class CurationStep:
    name: ClassVar[str]
    codes: ClassVar[tuple[str, ...]]  # the reason codes it can give (docs, the funnel)

    def __init__(self, context: StepContext) -> None:
        self.context = context

    def check(self, session: Session) -> list[Issue]:
        raise NotImplementedError

    def remember(self, session: Session) -> None:
        """Called for every session no step dropped (stateful steps, like near-duplicates)."""


_REGISTRY: dict[str, type[CurationStep]] = {}


def curation_step(cls: type[CurationStep]) -> type[CurationStep]:
    _REGISTRY[cls.name] = cls
    return cls


def registered_steps() -> dict[str, type[CurationStep]]:
    """Built-in steps, then any a package declares under the entry-point group."""
    return plugin_entries(ENTRY_POINT_GROUP, _REGISTRY)


def build_steps(config: CurateConfig, persona_risks: dict[str, RiskLevel]) -> list[CurationStep]:
    known = registered_steps()
    unknown = [name for name in config.steps if name not in known]
    if unknown:
        raise EmpLLMError(f"unknown curation step {unknown[0]!r}; known: {', '.join(known)}")
    context = StepContext(config, persona_risks)
    return [known[name](context) for name in config.steps]


@curation_step
class RulesStep(CurationStep):
    name = "rules"
    codes = ("session_error", "roles_not_alternating", "too_few_turns", "too_many_turns", "contemplation_missing",
             "repeated_reply", "contemplation_incomplete", "reply_length", "language_mismatch", "ai_disclaimer",
             "looping_line", "list_lecture", "contemplation_leak")  # fmt: skip

    def __init__(self, context: StepContext) -> None:
        super().__init__(context)
        c = context.config
        self.limits = RuleLimits(c.min_replies, c.max_replies, c.min_reply_chars, c.max_reply_chars)

    def check(self, session: Session) -> list[Issue]:
        return check_rules(session, self.limits)


@curation_step
class GroundingStep(CurationStep):
    name = "grounding"
    codes = ("ungrounded_notes",)

    def check(self, session: Session) -> list[Issue]:
        return check_grounding(session)


@curation_step
class SafetyStep(CurationStep):
    name = "safety"
    codes = ("unsafe_reply", "risk_not_addressed")

    def check(self, session: Session) -> list[Issue]:
        return check_reply_safety(session, self.context.persona_risks.get(session.persona_id))


@curation_step
class NearDuplicateStep(CurationStep):
    name = "dedup"
    codes = ("near_duplicate_session", "near_duplicate_replies")

    def __init__(self, context: StepContext) -> None:
        super().__init__(context)
        self.filter = NearDuplicateFilter(context.config.dedup_threshold, context.config.reply_dedup_threshold)

    def check(self, session: Session) -> list[Issue]:
        return self.filter.check(session)

    def remember(self, session: Session) -> None:
        self.filter.remember(session)
