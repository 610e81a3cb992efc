"""Near-duplicate removal with MinHash LSH (datasketch), over whole sessions and single replies.

Signatures come from empllm.minhash, so the same code serves English and Chinese. The first session
seen is kept; a later one that is a near-duplicate of a kept session (or whose replies mostly repeat
kept replies) is dropped.
"""

from __future__ import annotations

from datasketch import MinHashLSH

from empllm.curate.decision import Issue
from empllm.minhash import NUM_PERM, text_minhash
from empllm.types import Session


def _replies(session: Session) -> list[str]:
    return [t.content for t in session.turns if t.role == "psychologist" and t.content.strip()]


class NearDuplicateFilter:
    def __init__(self, threshold: float = 0.8, reply_threshold: float = 0.9, max_repeated_share: float = 0.5):
        self.threshold = threshold
        self.max_repeated_share = max_repeated_share  # drop when more than this share of replies repeat
        self._sessions = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._replies = MinHashLSH(threshold=reply_threshold, num_perm=NUM_PERM)
        self._n_replies = 0

    def check(self, session: Session) -> list[Issue]:
        """Issues for this session against everything kept so far (does not remember it)."""
        issues = []
        whole = text_minhash("\n".join(t.content for t in session.turns))
        similar = self._sessions.query(whole)
        if similar:
            issues.append(Issue(filter="dedup", code="near_duplicate_session", detail=f"like {sorted(similar)[0]}"))
        replies = _replies(session)
        repeated = [r for r in replies if len(r) >= 20 and self._replies.query(text_minhash(r))]
        if replies and len(repeated) / len(replies) > self.max_repeated_share:
            detail = f"{len(repeated)} of {len(replies)} replies repeat earlier sessions"
            issues.append(Issue(filter="dedup", code="near_duplicate_replies", detail=detail))
        return issues

    def remember(self, session: Session) -> None:
        """Add a kept session, so later ones are compared with it."""
        key = session.id
        if key in self._sessions:
            return
        self._sessions.insert(key, text_minhash("\n".join(t.content for t in session.turns)))
        for reply in _replies(session):
            if len(reply) >= 20:
                self._replies.insert(f"{key}#{self._n_replies}", text_minhash(reply))
                self._n_replies += 1
