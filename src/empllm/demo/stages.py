"""The demo's stage log (DIR/stages.json): each finished stage with its wall time and a summary.
A rerun skips finished stages; an unfinished one is rerun and resumes from its own files (simulate,
curate, train and bench each resume where they stopped)."""

from __future__ import annotations

import inspect
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from empllm.jsonl_store import write_text_atomic


class StageLog:
    def __init__(self, out_dir: Path, *, quiet: bool = False):
        self.path = out_dir / "stages.json"
        self.quiet = quiet
        self.stages: dict[str, dict] = json.loads(self.path.read_text()) if self.path.is_file() else {}

    def _say(self, text: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"[demo] {text}\n")

    async def run(self, name: str, what: str, work: Callable[[], object]) -> dict:
        """Run `work` (returning a summary dict, or an awaitable of one) unless `name` finished before."""
        if name in self.stages:
            self._say(f"{name}: done earlier ({self.stages[name]['wall_s']:.0f} s), skipped")
            return self.stages[name]
        self._say(f"{name}: {what}")
        start = time.perf_counter()
        summary = work()
        if inspect.isawaitable(summary):
            summary = await summary
        record = {**summary, "wall_s": round(time.perf_counter() - start, 1),
                  "finished": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        self.stages[name] = record
        write_text_atomic(self.path, json.dumps(self.stages, indent=2, ensure_ascii=False) + "\n")
        self._say(f"{name}: finished in {record['wall_s']:.0f} s")
        return record
