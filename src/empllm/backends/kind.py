"""What a kind of backend declares: how its spec (`NAME:TARGET`) is parsed, how the backend is
built, and how `empllm models` describes it. The built-in kinds are in `builtin_kinds.py`; another
package adds one with a subclass under the entry-point group `empllm.backends`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from empllm.errors import SpecError

if TYPE_CHECKING:
    from empllm.backends.base import Backend
    from empllm.settings import Settings


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    target: str  # model name, file or folder
    adapter: str | None = None  # a PEFT adapter folder (kinds that take one)

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" + (f"+{self.adapter}" if self.adapter else "")


@dataclass
class BackendInfo:
    kind: str
    example: str
    usable: bool
    why: str


class BackendKind:
    name: ClassVar[str]  # the spec's prefix
    takes_adapter: ClassVar[bool] = False  # NAME:TARGET+ADAPTER
    serial: ClassVar[bool] = False  # an in-process model: one call at a time, so callers run one at a time

    def parse(self, spec: str, rest: str) -> ModelSpec:
        """`rest` is what follows `NAME:`, stripped and not empty."""
        if self.takes_adapter and "+" in rest:
            base, _, adapter = rest.partition("+")
            if not base.strip() or not adapter.strip():
                raise SpecError(f"model spec {spec!r}: expected {self.name}:MODEL+ADAPTER")
            return ModelSpec(self.name, base.strip(), adapter.strip())
        return ModelSpec(self.name, rest)

    def create(self, parsed: ModelSpec, settings: Settings, base_url: str | None) -> Backend:
        raise NotImplementedError

    def describe(self, settings: Settings) -> list[BackendInfo]:
        """Rows for `empllm models`: what can run here, and why not, without loading a model."""
        return [BackendInfo(self.name, f"{self.name}:...", True, self.__doc__ or "")]
