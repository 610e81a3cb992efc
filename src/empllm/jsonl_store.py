"""Append-only JSONL files that survive being killed at any moment.

Every record is one line, written with a single write, flushed and fsynced. A process killed
mid-write leaves at most one torn last line; `repair_torn_tail` moves it aside (never silently
dropped) so the file is valid again and the unfinished record can be redone.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from empllm.errors import EmpLLMError

log = logging.getLogger(__name__)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a reader (or a killed writer) never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def repair_torn_tail(path: Path) -> Path | None:
    """If the file does not end with a newline, cut the partial line off into a side file.

    Returns the side file's path, or None when the file was whole.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return None
    with path.open("rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return None
        data_end = f.seek(0, os.SEEK_END)
        # find the last newline by reading backwards in blocks
        pos, keep = data_end, 0
        while pos > 0:
            step = min(1 << 16, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            idx = block.rfind(b"\n")
            if idx >= 0:
                keep = pos + idx + 1
                break
        f.seek(keep)
        torn = f.read()
        side = path.with_name(f"{path.name}.torn-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
        side.write_bytes(torn)
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    log.warning("%s ended in a torn line (%d bytes); moved it to %s", path, len(torn), side)
    return side


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for every non-blank line; a line that is not a JSON object is an error
    naming the file and line."""
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EmpLLMError(f"{path} line {lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise EmpLLMError(f"{path} line {lineno}: expected a JSON object")
            yield lineno, record


def read_jsonl(path: Path) -> list[dict]:
    """All records (see iter_jsonl)."""
    return [record for _, record in iter_jsonl(path)]


class JsonlAppender:
    """Appends records durably. Use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
