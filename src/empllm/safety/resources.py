"""Crisis resources by locale (`resources.yaml`): what the crisis reply and the web page show."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from empllm.errors import EmpLLMError
from empllm.yaml_io import parse_yaml

DEFAULT_LOCALE_FOR_LANGUAGE = {"en": "US", "zh": "CN"}


@dataclass(frozen=True)
class Resource:
    name: str
    contact: str
    source: str


@cache
def load_resources(path: str | None = None) -> dict[str, list[Resource]]:
    path = path or os.environ.get("EMPLLM_CRISIS_RESOURCES") or str(files("empllm.safety").joinpath("resources.yaml"))
    if not Path(path).is_file():
        raise EmpLLMError(f"crisis resources file {path} does not exist")
    data = parse_yaml(Path(path).read_text(encoding="utf-8"), f"crisis resources {path}")
    try:
        table = {loc.upper() if loc != "default" else loc: [Resource(**r) for r in block["resources"]]
                 for loc, block in data.items()}  # fmt: skip
    except (TypeError, KeyError) as exc:
        raise EmpLLMError(f"crisis resources {path}: each locale needs [{{name, contact, source}}] ({exc})") from None
    if "default" not in table:
        raise EmpLLMError(f"crisis resources {path}: needs a 'default' locale")
    return table


def resources_for(locale: str | None, language: str, path: str | None = None) -> tuple[str, list[Resource]]:
    """(the locale used, its resources). With no locale, the language's usual one. An unknown
    locale gets the default entry, never another country's numbers."""
    table = load_resources(path)
    wanted = (locale or DEFAULT_LOCALE_FOR_LANGUAGE.get(language, "default")).upper()
    return (wanted, table[wanted]) if wanted in table else ("default", table["default"])
