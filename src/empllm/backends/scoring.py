"""How a (context, continuation) pair becomes tokens for log-likelihood scoring.

The split follows lm-evaluation-harness so that EmpTest scores agree with it on the same items:
trailing spaces of the context move to the continuation, the continuation's tokens are what the
tokenized whole has beyond the tokenized context, and the model reads the context's own tokens.
Every option of an item therefore shares one context prefix, which is evaluated once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from empllm.errors import CapabilityError

Tokenize = Callable[[str], Sequence[int]]  # text -> token ids, with BOS where the model wants it


def move_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        return context[:-n_spaces], context[-n_spaces:] + continuation
    return context, continuation


def split_for_scoring(tokenize: Tokenize, context: str, continuations: list[str]) -> tuple[list[int], list[list[int]]]:
    """Token ids of the shared context, and of each continuation as scored after it."""
    if any(not c for c in continuations):
        raise CapabilityError("cannot score an empty continuation")
    pairs = [move_trailing_space(context, c) for c in continuations]
    ctx_text = pairs[0][0]
    ctx_ids = list(tokenize(ctx_text))
    conts = []
    for _, cont in pairs:
        whole = list(tokenize(ctx_text + cont))
        conts.append(whole[len(ctx_ids) :] or whole[-1:])
    return ctx_ids, conts
