"""The safety event log: one JSON line per crisis detection (never the message text in privacy mode)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from empllm.jsonl_store import JsonlAppender
from empllm.safety.detector import Assessment


class SafetyLog:
    def __init__(self, path: Path | None, *, privacy: bool = True):
        self.path = path
        self.privacy = privacy

    def record(self, assessment: Assessment, *, text: str, language: str, locale: str, conversation: str = "") -> dict:
        event = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "conversation": conversation,
            "language": language,
            "locale": locale,
            "categories": assessment.categories,
            "rules": assessment.rules,
            "source": assessment.source,
        }
        if self.privacy:  # a digest lets repeated events be linked without keeping what was said
            event["text_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        else:
            event["text"] = text
        if self.path is not None:
            with JsonlAppender(self.path) as log:
                log.write(event)
        return event
