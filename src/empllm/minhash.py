"""MinHash signatures of texts (datasketch), for near-duplicate checks in any stage: curated sessions,
synthesised persona cards, EmpTest items against training data.

Shingles are character n-grams of whitespace-normalised, lower-cased text, so the same signature
serves English and Chinese."""

from __future__ import annotations

from datasketch import MinHash

NUM_PERM = 128


def text_minhash(text: str, n: int = 5) -> MinHash:
    norm = " ".join(text.lower().split())
    m = MinHash(num_perm=NUM_PERM, seed=1)
    shingles = {norm[i : i + n] for i in range(max(1, len(norm) - n + 1))}
    m.update_batch([s.encode("utf-8") for s in shingles])
    return m
