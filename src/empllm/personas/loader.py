"""Load and validate persona cards from YAML (a list of cards) or JSONL (one card a line)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from pydantic import ValidationError

from empllm.errors import EmpLLMError, first_problem
from empllm.jsonl_store import iter_jsonl
from empllm.types import Persona
from empllm.yaml_io import parse_yaml

BUILTIN_DIR = "builtin"


def _describe(exc: ValidationError) -> str:
    field, message = first_problem(exc)
    return f"field '{field or '(card)'}': {message}"


def _rows(path: Path) -> list[tuple[str, object]]:
    """(where, raw card) pairs; `where` names the line or list position for error messages."""
    if path.suffix == ".jsonl":
        return [(f"line {lineno}", row) for lineno, row in iter_jsonl(path)]
    text = path.read_text(encoding="utf-8")
    data = parse_yaml(text, f"persona file {path}")
    if isinstance(data, dict) and "personas" in data:
        data = data["personas"]
    if not isinstance(data, list):
        raise EmpLLMError(f"persona file {path}: expected a list of persona cards")
    return [(f"card {i + 1}", row) for i, row in enumerate(data)]


def load_personas(path: Path) -> list[Persona]:
    """Every card in the file, validated; ids must be unique."""
    if not path.is_file():
        raise EmpLLMError(f"persona file {path} does not exist")
    personas: list[Persona] = []
    seen: dict[str, str] = {}
    for where, row in _rows(path):
        try:
            persona = Persona.model_validate(row)
        except ValidationError as exc:
            card_id = row.get("id", "?") if isinstance(row, dict) else "?"
            raise EmpLLMError(f"persona file {path} {where} (id {card_id}): {_describe(exc)}") from None
        if persona.id in seen:
            raise EmpLLMError(f"persona file {path} {where}: duplicate id {persona.id!r} (also {seen[persona.id]})")
        seen[persona.id] = where
        personas.append(persona)
    if not personas:
        raise EmpLLMError(f"persona file {path} holds no persona cards")
    return personas


def builtin_persona_files() -> list[Path]:
    folder = Path(str(files("empllm.personas").joinpath(BUILTIN_DIR)))
    return sorted(folder.glob("*.yaml"))


def builtin_personas() -> list[Persona]:
    """The 120 built-in cards, parsed and validated once per process (about 80 ms): a simulation,
    curation and EmpTest each ask for them. A fresh list each call; the cards are not changed."""
    return list(_builtin_personas())


@cache
def _builtin_personas() -> tuple[Persona, ...]:
    personas: list[Persona] = []
    ids: set[str] = set()
    for path in builtin_persona_files():
        for p in load_personas(path):
            if p.id in ids:
                raise EmpLLMError(f"built-in persona id {p.id!r} appears twice (in {path.name})")
            ids.add(p.id)
            personas.append(p)
    return tuple(personas)


def load_persona_source(source: str) -> list[Persona]:
    """`built-in`, or a persona file or folder: what simulation, curation and the CLI all accept."""
    return builtin_personas() if source == "built-in" else load_personas(Path(source))
