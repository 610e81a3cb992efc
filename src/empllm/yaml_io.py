"""YAML reading with libyaml's C loader when present (ten times faster than pure Python on the
persona and exemplar libraries); the same safe subset either way."""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load_yaml(text: str):
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def parse_yaml(text: str, where: str, error: type[Exception] | None = None):
    """Parse YAML; a syntax error becomes one line naming `where` and the line."""
    from empllm.errors import EmpLLMError

    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise (error or EmpLLMError)(f"{where}{line}: not valid YAML") from None
