"""Records shared by every stage: messages, personas, contemplations, client state, sessions.

Stages talk to each other only through these types and the files they are written to.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["system", "user", "assistant"]
Language = Literal["en", "zh"]
LANGUAGES: tuple[str, ...] = ("en", "zh")


class Message(BaseModel):
    """An OpenAI-style chat message."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str


def as_messages(items: list[Message] | list[dict]) -> list[Message]:
    """Accept pydantic messages or plain OpenAI-style dicts."""
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in items]


# -- vocabularies ---------------------------------------------------------------------------


class Emotion(StrEnum):
    """Emotion labels shared by personas, contemplations and EmpTest (English keys in both languages)."""

    sadness = "sadness"
    anxiety = "anxiety"
    fear = "fear"
    anger = "anger"
    frustration = "frustration"
    shame = "shame"
    guilt = "guilt"
    loneliness = "loneliness"
    grief = "grief"
    hopelessness = "hopelessness"
    overwhelm = "overwhelm"
    disappointment = "disappointment"
    jealousy = "jealousy"
    confusion = "confusion"
    numbness = "numbness"
    hurt = "hurt"
    resentment = "resentment"
    relief = "relief"
    hope = "hope"
    calm = "calm"


class Strategy(StrEnum):
    """Support strategies: the eight of ESConv."""

    question = "question"
    restatement = "restatement"  # restatement or paraphrasing
    reflection_of_feelings = "reflection_of_feelings"
    self_disclosure = "self_disclosure"
    affirmation_and_reassurance = "affirmation_and_reassurance"
    providing_suggestions = "providing_suggestions"
    information = "information"
    other = "other"


class RiskLevel(StrEnum):
    none = "none"
    low = "low"
    elevated = "elevated"  # e.g. passive wishes to be dead, self-harm history, no plan
    crisis = "crisis"  # e.g. intent, plan, means, or harm happening now


class Topic(StrEnum):
    job_loss = "job_loss"
    work_stress = "work_stress"
    academic_pressure = "academic_pressure"
    breakup = "breakup"
    grief = "grief"
    loneliness = "loneliness"
    family_conflict = "family_conflict"  # conflict with parents
    friendship = "friendship"
    parenting_stress = "parenting_stress"
    financial_worry = "financial_worry"
    health_anxiety = "health_anxiety"
    sleep_problems = "sleep_problems"
    procrastination_self_worth = "procrastination_self_worth"
    workplace_bullying = "workplace_bullying"
    identity_belonging = "identity_belonging"
    caregiving_burnout = "caregiving_burnout"
    self_harm_suicidality = "self_harm_suicidality"
    other = "other"


TalkingStyle = Literal["plain", "upset", "verbose", "reserved", "tangential", "pleasing"]
Attitude = Literal["open", "ambivalent", "resistant"]
Stance = Literal["person_centred", "cbt", "motivational_interviewing"]


# -- personas -------------------------------------------------------------------------------


class CognitiveModel(BaseModel):
    """A simple CBT case conceptualization (as in Patient-Ψ)."""

    model_config = ConfigDict(extra="forbid")

    core_belief: str = Field(min_length=3)
    intermediate_beliefs: list[str] = Field(min_length=1)
    automatic_thoughts: list[str] = Field(min_length=1)
    coping_behaviours: list[str] = Field(min_length=1)


class HiddenFact(BaseModel):
    """Something the client only says once trust has reached `trust_needed` (0-10)."""

    model_config = ConfigDict(extra="forbid")

    fact: str = Field(min_length=3)
    trust_needed: int = Field(ge=0, le=10)


class Persona(BaseModel):
    """A help-seeking client the client agent plays."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    language: Language
    name: str
    age: int = Field(ge=12, le=100)
    gender: str
    occupation: str
    topic: Topic
    presenting_problem: str = Field(min_length=10)
    situation: str = Field(min_length=20)
    primary_emotion: Emotion
    starting_intensity: int = Field(ge=0, le=10)
    cognitive_model: CognitiveModel
    talking_style: TalkingStyle
    attitude: Attitude
    hidden_facts: list[HiddenFact] = Field(min_length=1)
    risk_level: RiskLevel = RiskLevel.none
    risk_notes: str | None = None  # what the risk is, for elevated/crisis cards
    opening_line: str = Field(min_length=5)  # the client's first message
    starting_trust: int = Field(default=3, ge=0, le=10)

    @model_validator(mode="after")
    def _risk_explained(self) -> Persona:
        if self.risk_level in (RiskLevel.elevated, RiskLevel.crisis) and not self.risk_notes:
            raise ValueError(f"persona {self.id}: risk_level {self.risk_level} needs risk_notes")
        return self


# -- what happens in a session --------------------------------------------------------------


class Contemplation(BaseModel):
    """The psychologist's private reasoning before a reply. Never shown to the client."""

    model_config = ConfigDict(extra="forbid")

    emotion: Emotion
    intensity: int = Field(ge=0, le=10)
    cause: str
    appraisal: str  # how the client interprets what happened
    unmet_need: str
    risk_level: RiskLevel
    strategy: Strategy
    rationale: str  # why this strategy now
    notes: str = ""  # free text


class ClientState(BaseModel):
    """The client's hidden state after a turn, as the client agent reports it."""

    model_config = ConfigDict(extra="forbid")

    emotion_intensity: int = Field(ge=0, le=10)
    trust: int = Field(ge=0, le=10)
    disclosed: list[str] = Field(default_factory=list)  # hidden facts told so far
    reaction: str = ""  # the client's one-line reaction to the last reply

    @field_validator("disclosed")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["client", "psychologist"]
    content: str
    contemplation: Contemplation | None = None  # psychologist turns
    client_state: ClientState | None = None  # client turns
    raw: str | None = None  # the model's output when it had to be repaired or could not be parsed
    parse_error: str | None = None
    rejected: list[str] = Field(default_factory=list)  # why each earlier sample of this line was resampled


class SessionPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_turn: int  # the number of turns when the plan was made or revised
    goals: list[str]


class UsageRecord(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0
    calls: int = 0


Outcome = Literal["client_ended", "max_turns", "error"]


class Session(BaseModel):
    """One simulated session: one JSON line in sessions.jsonl."""

    model_config = ConfigDict(extra="forbid")

    id: str
    persona_id: str
    language: Language
    stance: Stance
    seed: int
    config_hash: str
    prompts_version: str
    models: dict[str, str]  # {"client": spec, "psychologist": spec}
    created: str  # ISO 8601, UTC
    empllm_version: str
    plans: list[SessionPlan] = Field(default_factory=list)
    turns: list[Turn] = Field(default_factory=list)
    outcome: Outcome
    outcome_detail: str = ""
    usage: dict[str, UsageRecord] = Field(default_factory=dict)  # per role
    wall_s: float = 0.0
    errors: list[str] = Field(default_factory=list)
