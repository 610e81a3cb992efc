"""What a curation run is: its limits, its ordered steps and its judge (the config hash of curate.json)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

JUDGE = "judge"  # the model-rated step; it runs after the others, concurrently
DEFAULT_STEPS = ["rules", "grounding", "safety", "dedup"]  # cheap, in order; the judge runs after


class CurateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_replies: int = Field(default=2, ge=1)
    max_replies: int = Field(default=30, ge=1)
    min_reply_chars: int = Field(default=4, ge=1)
    max_reply_chars: int = Field(default=800, ge=10)
    dedup_threshold: float = Field(default=0.8, gt=0, le=1)
    reply_dedup_threshold: float = Field(default=0.9, gt=0, le=1)
    steps: list[str] = Field(default_factory=lambda: list(DEFAULT_STEPS))
    judge: str | None = None

    def funnel_order(self) -> list[str]:
        """The steps as they run; the name of each is the `filter` of the issues it finds."""
        return [*self.steps, *([JUDGE] if self.judge else [])]
