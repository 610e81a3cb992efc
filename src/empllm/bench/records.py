"""The typed records EmpTest passes between its parts: one `SampleRecord` per item (samples.jsonl), one
`TaskScore` per results row (results.json). Scorers make samples, `results.summarize_task` turns them
into scores, and `compare`, the report and the demo read both back.

The JSON on disk is unchanged: a sample keeps the kind's own detail (prompts, options,
log-likelihoods, replies, the rubric) as extra fields, and a score is written with exactly the
fields that were set, so older run folders read as before."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SampleRecord(BaseModel):
    """One item's record. The fields named here are the ones scoring, comparing and reporting read."""

    model_config = ConfigDict(extra="allow")

    id: str
    task: str
    language: str
    method: str | None = None
    score: float | None = None  # on the item's scale; None when the answer could not be read
    chance: float = 0.0
    # multiple choice
    acc: float | None = None
    acc_norm: float | None = None
    acc_mi: float | None = None
    options: list[str] | None = None
    gold: int | None = None
    pred: int | None = None
    loglikelihoods: list[float] | None = None
    # ratings
    reference: list[float] | None = None
    ratings: list[float | None] | None = None
    # judged replies
    reply: str | None = None
    pair_parsed: bool | None = None
    outcome: float | None = None
    consistent: bool | None = None
    length_delta: int | None = None
    # sessions
    persona: str | None = None
    intensity_start: float | None = None
    intensity_end: float | None = None
    intensity_delta: float | None = None
    trust_delta: float | None = None

    def value(self, metric: str) -> float | None:
        """A metric by name (score, acc_norm, acc_mi): None where this item has none."""
        return getattr(self, metric, None)

    def to_json(self) -> dict:
        return self.model_dump(exclude_unset=True)


class PairwiseScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int
    unparseable: int
    win_rate: float
    win_rate_interval: list[float] | None
    lc_win_rate: float | None
    position_consistency: float


class TaskScore(BaseModel):
    """One results row: a sub-task in one language, or pooled ("all")."""

    model_config = ConfigDict(extra="forbid")

    task: str
    kind: str
    language: str | None = None
    n: int
    n_items: int
    unparseable: int
    method: str | None
    score: float | None
    interval: list[float] | None
    chance: float
    best: float
    chance_normalized: float | None
    chance_normalized_interval: list[float] | None
    acc_norm: float | None = None
    acc_norm_interval: list[float] | None = None
    acc_mi: float | None = None
    acc_mi_interval: list[float] | None = None
    constant_baseline: float | None = None
    intensity_delta: float | None = None
    trust_delta: float | None = None
    pairwise: PairwiseScore | None = None
    wall_s: float | None = None

    def has(self, field: str) -> bool:
        """Whether this row reports a measure (a kind reports only its own)."""
        return field in self.model_fields_set

    def to_json(self) -> dict:
        return self.model_dump(exclude_unset=True)
