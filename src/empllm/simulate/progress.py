"""The progress bar and end-of-run summary of `empllm simulate` (on stderr)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class SimulationProgress:
    def __init__(self, *, enabled: bool):
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed · {task.fields[rate]} tok/s"), TimeElapsedColumn(),
            console=self.console, disable=not enabled,
        )  # fmt: skip
        self._task = None

    def __enter__(self) -> SimulationProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def update(self, session, summary) -> None:
        if self._task is None:
            self._task = self._progress.add_task("sim", total=summary.planned, failed=0, rate="0")
            self._progress.update(self._task, completed=summary.already_done)
        rate = summary.completion_tokens / summary.wall_s if summary.wall_s else 0.0
        self._progress.update(
            self._task, completed=summary.already_done + summary.written,
            failed=summary.outcomes.get("error", 0), rate=f"{rate:.1f}",
        )  # fmt: skip

    def report(self, summary) -> None:
        if not self.enabled:
            return
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "none new"
        sys.stderr.write(
            f"{summary.already_done + summary.written}/{summary.planned} sessions in {summary.out_file} "
            f"({summary.written} new: {outcomes}; {summary.already_done} already done); "
            f"{summary.wall_s:.1f}s, {summary.sessions_per_hour:.1f} sessions/hour\n"
        )
