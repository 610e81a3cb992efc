"""Progress of an EmpTest run on stderr: one bar per sub-task and language (`empllm bench`, the demo)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class BenchProgress:
    """One bar per task and language, on stderr."""

    def __init__(self, enabled: bool):
        self._progress = Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=Console(stderr=True), disable=not enabled)  # fmt: skip
        self._bars: dict[str, int] = {}

    def __enter__(self):
        self._progress.__enter__()
        return self

    def __exit__(self, *exc):
        self._progress.__exit__(*exc)

    def start(self, unit, done: int) -> None:
        self._bars[unit.name] = self._progress.add_task(unit.name, total=len(unit.items), completed=done)

    def advance(self, unit) -> None:
        self._progress.advance(self._bars[unit.name])
