"""Assistant-only loss for any chat template: the label mask, decoded, covers exactly the
assistant's turns (each with its end-of-turn marker) on SmolLM2's real ChatML template, on a
Llama-3-style template, and on the Gemma template, where it must agree with TRL's own mask."""

import pytest

from empllm.errors import EmpLLMError
from empllm.train.assistant_mask import IGNORE, tokenize_for_assistant_loss

pytestmark = pytest.mark.integration

CONVERSATION = [
    {"role": "system", "content": "You are a warm counselor."},
    {"role": "user", "content": "I failed my driving test again."},
    {"role": "assistant", "content": "That sounds really discouraging, especially a second time."},
    {"role": "user", "content": "Yeah. Everyone else passed first go."},
    {"role": "assistant", "content": "Comparing yourself to them makes it sting more. 这很正常。"},
]
ASSISTANT = [m["content"] for m in CONVERSATION if m["role"] == "assistant"]

# Written here in the shape of Llama 3's format: headers per message, <|eot_id|> after each.
LLAMA3_STYLE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
UNSTABLE = (  # renders the last turn apart from the others: no prefix of it is stable
    "{% for m in messages %}{% if loop.last %}[LAST {{ m['role'] }}] {% else %}[{{ m['role'] }}] {% endif %}"
    "{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}"
)


def _tokenizer(model_cache_dir, name):
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    from empllm.backends.embedded import embedded_gguf_path
    from empllm.backends.hf import dequantized_checkpoint

    return AutoTokenizer.from_pretrained(str(dequantized_checkpoint(embedded_gguf_path(model_cache_dir, name),
                                                                    model_cache_dir)))  # fmt: skip


def _trained_runs(tokenizer, encoded) -> list[str]:
    """The decoded text of each contiguous run of trained tokens."""
    runs, current = [], []
    for token, label in zip(encoded["input_ids"], encoded["labels"], strict=True):
        if label != IGNORE:
            assert label == token
            current.append(token)
        elif current:
            runs.append(tokenizer.decode(current))
            current = []
    if current:
        runs.append(tokenizer.decode(current))
    return runs


@pytest.fixture(scope="module")
def smol(model_cache_dir):
    return _tokenizer(model_cache_dir, "smollm2-135m-instruct")


def test_smollm2_chatml_mask_covers_exactly_the_assistant_turns(smol):
    assert "{% generation %}" not in smol.chat_template  # the case TRL's mask cannot handle
    runs = _trained_runs(smol, tokenize_for_assistant_loss(smol, CONVERSATION, max_length=512))
    assert runs == [f"{text}<|im_end|>" for text in ASSISTANT]


def test_llama3_style_mask_covers_exactly_the_assistant_turns(smol):
    smol = smol.__class__.from_pretrained(smol.name_or_path)
    smol.chat_template = LLAMA3_STYLE  # its markers are single special tokens, as in Llama 3's own vocabulary
    smol.add_special_tokens({"additional_special_tokens": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]})
    runs = _trained_runs(smol, tokenize_for_assistant_loss(smol, CONVERSATION, max_length=512))
    assert runs == [f"{text}<|eot_id|>" for text in ASSISTANT]


def test_truncation_cuts_ids_and_labels_together(smol):
    encoded = tokenize_for_assistant_loss(smol, CONVERSATION, max_length=40)
    assert len(encoded["input_ids"]) == len(encoded["labels"]) == 40


def test_a_template_that_renders_turns_differently_later_is_refused(smol):
    smol = smol.__class__.from_pretrained(smol.name_or_path)
    smol.chat_template = UNSTABLE
    with pytest.raises(EmpLLMError, match="assistant-only loss"):
        tokenize_for_assistant_loss(smol, CONVERSATION, max_length=512)


def test_gemma_template_mask_agrees_with_trl_generation_markers(model_cache_dir):
    from empllm.train.chat_template import ensure_chat_template

    gemma = _tokenizer(model_cache_dir, "gemma-3-270m")
    ensure_chat_template(gemma)
    ours = tokenize_for_assistant_loss(gemma, CONVERSATION, max_length=512)
    theirs = gemma.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True,
                                       return_assistant_tokens_mask=True)  # fmt: skip
    assert ours["input_ids"] == list(theirs["input_ids"])
    assert [label != IGNORE for label in ours["labels"]] == [bool(b) for b in theirs["assistant_masks"]]
