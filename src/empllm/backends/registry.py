"""Model specs: the one place a spec string (`KIND:TARGET`) is parsed and turned into a backend.

Each kind declares how: the built-in ones (llamacpp, openai, hf, scripted) in `builtin_kinds.py`,
others from packages under the entry-point group `empllm.backends` (a name -> a BackendKind
subclass). Nothing here knows any kind by name.
"""

from __future__ import annotations

from empllm.backends.base import Backend
from empllm.backends.builtin_kinds import BUILTIN_KINDS
from empllm.backends.kind import BackendInfo, BackendKind, ModelSpec
from empllm.errors import SpecError
from empllm.plugins import plugin_entries
from empllm.settings import Settings

ENTRY_POINT_GROUP = "empllm.backends"

__all__ = ["BackendInfo", "ModelSpec", "create_backend", "describe_backends", "kind_of", "parse_spec"]


def registered_kinds() -> dict[str, type[BackendKind]]:
    return plugin_entries(ENTRY_POINT_GROUP, BUILTIN_KINDS)


def kind_of(spec: str) -> BackendKind:
    """The kind that owns a spec (its prefix), checked; the spec's target is not looked at."""
    kind, sep, rest = spec.partition(":")
    kinds = registered_kinds()
    if not sep or not rest.strip():
        raise SpecError(
            f"model spec {spec!r} is not KIND:TARGET; expected one of " + ", ".join(f"{k}:..." for k in kinds)
        )
    if kind not in kinds:
        raise SpecError(f"unknown backend {kind!r} in model spec {spec!r}; known: {', '.join(kinds)}")
    return kinds[kind]()


def parse_spec(spec: str) -> ModelSpec:
    return kind_of(spec).parse(spec, spec.partition(":")[2].strip())


def create_backend(spec: str, settings: Settings | None = None, *, base_url: str | None = None) -> Backend:
    kind = kind_of(spec)
    return kind.create(kind.parse(spec, spec.partition(":")[2].strip()), settings or Settings(), base_url)


def describe_backends(settings: Settings | None = None) -> list[BackendInfo]:
    """Which backends can run here, and why not, without loading any model."""
    settings = settings or Settings()
    return [row for kind in registered_kinds().values() for row in kind().describe(settings)]
