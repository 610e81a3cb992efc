"""The labels of the line format, per language: speakers, the notes (a contemplation) and the client
state, as simulate/transcript_style.py writes and reads them and as the contemplation text of
contemplation_text.py shows them. A record format, so it sits below every stage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Labels:
    client: str
    counselor: str
    notes: str
    plan: str
    state: str
    end: str
    colon: str  # after a speaker or line label
    list_sep: str  # between plan goals or disclosed items
    notes_keys: tuple[tuple[str, str], ...]  # (Contemplation field, label)
    state_keys: tuple[tuple[str, str], ...]  # (ClientState field, label)


LABELS = {
    "en": Labels(
        client="Client", counselor="Counselor", notes="Notes", plan="Plan", state="State",
        end="[Session ends]", colon=": ", list_sep="; ",
        notes_keys=(("emotion", "emotion"), ("intensity", "intensity"), ("cause", "cause"),
                    ("appraisal", "appraisal"), ("unmet_need", "need"), ("risk_level", "risk"),
                    ("strategy", "strategy"), ("rationale", "why")),
        state_keys=(("emotion_intensity", "intensity"), ("trust", "trust"), ("reaction", "reaction"),
                    ("disclosed", "disclosed")),
    ),
    "zh": Labels(
        client="来访者", counselor="咨询师", notes="内心独白", plan="计划", state="状态",
        end="[会谈结束]", colon="：", list_sep="；",
        notes_keys=(("emotion", "情绪"), ("intensity", "强度"), ("cause", "原因"), ("appraisal", "评价"),
                    ("unmet_need", "需要"), ("risk_level", "风险"), ("strategy", "策略"), ("rationale", "理由")),
        state_keys=(("emotion_intensity", "强度"), ("trust", "信任"), ("reaction", "反应"), ("disclosed", "已说出")),
    ),
}  # fmt: skip
