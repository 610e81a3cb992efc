"""Loss on the assistant's turns only, for any chat template.

TRL's assistant-only loss needs `{% generation %}` markers in the template; ChatML (SmolLM2, Qwen),
Llama 3 and most hub templates have none. Here the mask comes from the rendered text instead:
rendering the conversation up to a turn with `add_generation_prompt=True`, then through that turn,
gives where the assistant's text starts and ends in the full rendering. Tokens that start inside
such a span are trained on, the end-of-turn marker included (so the model learns to stop); the
prompt, the other speakers and the template's own headers are not.
"""

from __future__ import annotations

from empllm.errors import EmpLLMError

IGNORE = -100  # the label torch's cross-entropy skips


def _render(tokenizer, messages: list[dict], *, generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The whole conversation as the template renders it, and the (start, end) character span of
    each assistant turn in it. Raises when the template does not render a conversation's start the
    same way on its own (then no span can be located, and guessing would train on the prompt)."""
    full = _render(tokenizer, messages)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], generation_prompt=True)
        through = _render(tokenizer, messages[: i + 1])
        if not (through.startswith(before) and full.startswith(through)):
            raise EmpLLMError(
                "the chat template renders a conversation's beginning differently once later turns follow, so "
                "the assistant's turns cannot be located for assistant-only loss; give the model a template that "
                "renders earlier turns the same way (most chat templates do)"
            )
        turn = through[len(before) :]
        spans.append((len(before), len(before) + len(turn.rstrip())))  # the turn, up to its end-of-turn marker
    return full, spans


def tokenize_for_assistant_loss(tokenizer, messages: list[dict], max_length: int) -> dict[str, list[int]]:
    """input_ids and labels (IGNORE outside the assistant's turns), cut to max_length tokens."""
    if not getattr(tokenizer, "is_fast", False):
        raise EmpLLMError("assistant-only loss needs a fast tokenizer (character offsets); this model's is not one")
    text, spans = assistant_spans(tokenizer, messages)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"][:max_length], encoded["offset_mapping"][:max_length]
    labels = [
        token if finish > begin and any(start <= begin < end for start, end in spans) else IGNORE
        for token, (begin, finish) in zip(ids, offsets, strict=True)
    ]
    return {"input_ids": ids, "labels": labels}
