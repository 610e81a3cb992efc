"""Hand-written exemplar sessions: the few-shot examples base models continue from.

Files `exemplars/*.yaml` hold lists of exemplars (written for EmpLLM, en and zh).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from empllm.errors import EmpLLMError, first_problem
from empllm.types import ClientState, Contemplation, Language, Stance
from empllm.yaml_io import parse_yaml


class ExemplarTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["client", "psychologist"]
    content: str = Field(min_length=2)
    state: ClientState | None = None  # client turns: the client's state as they say this
    contemplation: Contemplation | None = None  # psychologist turns: the notes before the reply
    end: bool = False  # client turns: the client ends the session with this message

    @model_validator(mode="after")
    def _fields_for_role(self) -> ExemplarTurn:
        if self.role == "client" and (self.state is None or self.contemplation is not None):
            raise ValueError("a client turn needs 'state' and no 'contemplation'")
        if self.role == "psychologist" and (self.contemplation is None or self.state is not None or self.end):
            raise ValueError("a psychologist turn needs 'contemplation' and no 'state' or 'end'")
        return self


class Exemplar(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    language: Language
    stance: Stance = "person_centred"
    client_profile: str = Field(min_length=20)  # a short paragraph about the client
    plan: list[str] = Field(min_length=2, max_length=4)  # the psychologist's plan after the opening
    turns: list[ExemplarTurn] = Field(min_length=6)

    @model_validator(mode="after")
    def _alternates(self) -> Exemplar:
        for i, turn in enumerate(self.turns):
            expected = "client" if i % 2 == 0 else "psychologist"
            if turn.role != expected:
                raise ValueError(f"turn {i + 1} should be a {expected} turn (turns alternate, client first)")
            if turn.end and i != len(self.turns) - 1:
                raise ValueError(f"turn {i + 1} ends the session but is not the last turn")
        return self


def load_exemplars(path: Path) -> list[Exemplar]:
    data = parse_yaml(path.read_text(encoding="utf-8"), f"exemplar file {path}")
    if not isinstance(data, list):
        raise EmpLLMError(f"exemplar file {path}: expected a list of exemplars")
    out = []
    for i, row in enumerate(data):
        try:
            out.append(Exemplar.model_validate(row))
        except ValidationError as exc:
            field, message = first_problem(exc)
            raise EmpLLMError(f"exemplar file {path} item {i + 1}: field '{field}': {message}") from None
    return out


@cache
def _all_builtin_exemplars() -> tuple[Exemplar, ...]:
    # parsed once per process: the server's agent asks for them on every request
    folder = Path(str(files("empllm.simulate").joinpath("exemplars")))
    found = [ex for path in sorted(folder.glob("*.yaml")) for ex in load_exemplars(path)]
    ids = [ex.id for ex in found]
    if len(ids) != len(set(ids)):
        raise EmpLLMError("built-in exemplar ids are not unique")
    return tuple(found)


def builtin_exemplars(language: str | None = None) -> list[Exemplar]:
    return [ex for ex in _all_builtin_exemplars() if language is None or ex.language == language]
