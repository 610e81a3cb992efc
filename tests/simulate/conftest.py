"""Scripted models for simulation tests: JSON answers (chat-tuned) and transcript lines (base)."""

import json
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PERSONAS = FIXTURES / "personas.yaml"

CONTEMPLATION = {
    "emotion": "anxiety", "intensity": "7/10", "cause": "A failed mid-term.", "appraisal": "She sees it as proof she is not enough.",
    "unmet_need": "To feel she is more than her grades.", "risk_level": "none", "strategy": "reflection",
    "rationale": "She needs to feel heard first.",
}  # fmt: skip
PSYCH_JSON = json.dumps(
    {"contemplation": CONTEMPLATION, "reply": "That sounds really heavy. What is the hardest part?"}
)
PLAN_JSON = json.dumps({"goals": ["Understand what the failure means to her", "Explore support"]})


def client_json(end: bool, trust: int = 4, disclosed=()) -> str:
    state = {"emotion_intensity": 6, "trust": trust, "reaction": "That helped a bit.", "disclosed": list(disclosed)}
    return json.dumps({"state": state, "message": "I guess I just feel stuck.", "end_session": end})


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def chat_models(tmp_path):
    """(client spec, psychologist spec) for scripted chat-tuned models; the client ends when allowed."""
    psych = write_yaml(tmp_path / "psych.yaml", {"match": [{"contains": '"goals"', "reply": PLAN_JSON}],
                                                 "default": PSYCH_JSON})  # fmt: skip
    client = write_yaml(tmp_path / "client.yaml", {"match": [{"contains": "__never__", "reply": "x"}],
                                                   "default": client_json(end=True, disclosed=["has not told parents"])})  # fmt: skip
    return f"scripted:{client}", f"scripted:{psych}"
