"""Side-by-side replies: the same messages sent to the base and both tuned models, each through its
own chat path, with a tuned model's `<think>` notes split from its reply. Sampled with a fixed seed
(greedy decoding makes small models loop on one phrase), so a rerun gives the same replies."""

from __future__ import annotations

from empllm.backends.base import GenerationSettings
from empllm.contemplation_text import split_think
from empllm.runtime import Runtime

# Written for the demo: everyday, non-crisis openings (the crisis path is the safety layer's job).
EXAMPLE_MESSAGES = {
    "en": [
        "I moved to a new city for work three months ago and I still eat dinner alone every night. "
        "I thought it would get easier by now.",
        "My dad keeps asking when I'll get a real job. I freelance and I'm doing okay, "
        "but every call with him leaves me feeling like a failure.",
    ],
    "zh": [
        "我准备考研已经一年了，最近每天坐在图书馆里都看不进去书，一想到万一又考不上就心慌。",
        "我和室友因为作息问题吵了一架，现在住在一起特别尴尬，我也不知道该不该先开口。",
    ],
}


def example_messages(per_language: int, languages=("en", "zh")) -> list[tuple[str, str]]:
    return [(lang, text) for lang, texts in EXAMPLE_MESSAGES.items() if lang in languages
            for text in texts[:per_language]]  # fmt: skip


async def example_replies(runtime: Runtime, per_language: int, max_tokens: int, seed: int,
                          languages=("en", "zh")) -> list[dict]:  # fmt: skip
    """One model's replies to the example messages, in example_messages() order."""
    gen = GenerationSettings(max_tokens=max_tokens, temperature=0.7, top_p=0.95, seed=seed)
    replies = []
    for _, text in example_messages(per_language, languages):
        done = await runtime.chat([{"role": "user", "content": text}], gen)
        notes, reply = split_think(done.text)
        replies.append({"reply": reply, "contemplation": notes, "finish_reason": done.finish_reason})
    return replies
