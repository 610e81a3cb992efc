"""Gemma's turn format as a chat template, for base checkpoints that ship none (the embedded
GGUF). The same template is saved with the adapter, so inference formats prompts exactly as
training did. `{% generation %}` marks what the assistant says, for tools that read it; `empllm
train` finds the assistant's turns itself (train/assistant_mask.py), for any template.
System text, which Gemma's format has no turn for, is put at the top of the first user turn.
"""

GEMMA_TURN_TEMPLATE = (
    "{{ bos_token }}"
    "{% set system = namespace(text='') %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set system.text = message['content'] + '\\n\\n' %}"
    "{% elif message['role'] == 'user' %}"
    "<start_of_turn>user\n{{ system.text }}{{ message['content'] }}<end_of_turn>\n"
    "{% set system.text = '' %}"
    "{% elif message['role'] == 'assistant' %}"
    # the newline as an expression: chat templates trim a newline right after a block tag
    "<start_of_turn>model\n{% generation %}{{ message['content'] }}<end_of_turn>{% endgeneration %}{{ '\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
END_OF_TURN = "<end_of_turn>"


def ensure_chat_template(tokenizer) -> bool:
    """Give the tokenizer the Gemma turn template if it has none. True when one was added."""
    if getattr(tokenizer, "chat_template", None):
        return False
    tokenizer.chat_template = GEMMA_TURN_TEMPLATE
    return True
