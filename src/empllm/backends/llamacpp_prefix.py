"""Evaluate a prompt's shared prefix (few-shot exemplars) once per llama.cpp handle, then reuse it.

Each distinct prefix is evaluated from an empty context and its KV state saved (llama.cpp's
per-sequence state, a few MB for the embedded model); a later call restores that state and
evaluates only the rest of its prompt. Both parts are always evaluated the same way, so an output
depends only on its prompt and where the prefix ends, never on which calls ran before. That is the
property llama-cpp-python's own prefix matching lacks: it reuses whatever the previous prompt
happened to share, and different batch splits round differently.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections import OrderedDict

import numpy as np


class PrefixStates:
    def __init__(self, llm, capacity: int = 8):
        self.llm = llm  # a llama_cpp.Llama, used only on the model thread under the backend's lock
        self.capacity = capacity
        self._states: OrderedDict[str, bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def prompt_tokens(self, prefix: str, rest: str) -> list[int]:
        """Tokens of `prefix + rest` (tokenized apart, so the split is exact), with the prefix's
        state loaded and `llm.n_tokens` at its end: create_completion then evaluates only the rest."""
        llm = self.llm
        head = llm.tokenize(prefix.encode("utf-8"), add_bos=True, special=True)
        tail = llm.tokenize(rest.encode("utf-8"), add_bos=False, special=True)
        self._load(head)
        return head + tail

    def _load(self, head: list[int]) -> None:
        import llama_cpp

        llm, ctx = self.llm, self.llm._ctx.ctx
        key = hashlib.sha256(np.asarray(head, dtype=np.int32).tobytes()).hexdigest()
        state = self._states.get(key)
        if state is None:
            self.misses += 1
            llm.reset()
            llm._ctx.kv_cache_clear()
            llm.eval(head)
            size = llama_cpp.llama_state_seq_get_size(ctx, 0)
            buffer = (ctypes.c_uint8 * size)()
            state = bytes(buffer[: llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)])
            self._states[key] = state
            while len(self._states) > self.capacity:
                self._states.popitem(last=False)
        else:
            self.hits += 1
            self._states.move_to_end(key)
        # Always continue from a restored state, also right after saving it: a restored cache lays
        # out its cells differently from the one that was evaluated in place, and attention sums
        # in cell order, so the two round differently. One path for every call: same output.
        llm.reset()
        llm._ctx.kv_cache_clear()
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if not llama_cpp.llama_state_seq_set_data(ctx, buffer, len(state), 0):
            raise RuntimeError("llama.cpp could not restore a saved prompt prefix")
        llm.input_ids[: len(head)] = head
        llm.n_tokens = len(head)
