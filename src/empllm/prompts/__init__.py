"""Prompt templates (Jinja, en + zh). Prompts are data: code renders them, never spells them out.

`PROMPTS_VERSION` is a hash of every template, recorded in each session so a dataset says which
prompts produced it.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from pathlib import Path

import jinja2

from empllm.errors import EmpLLMError

_DIR = Path(str(files("empllm.prompts")))


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_DIR)),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, language: str, **context) -> str:
    try:
        return _env().get_template(f"{language}/{name}.j2").render(**context).strip()
    except jinja2.TemplateNotFound:
        raise EmpLLMError(f"no prompt template {name!r} for language {language!r}") from None


def _version() -> str:
    digest = hashlib.sha256()
    for path in sorted(_DIR.rglob("*.j2")):
        digest.update(str(path.relative_to(_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


PROMPTS_VERSION = _version()
