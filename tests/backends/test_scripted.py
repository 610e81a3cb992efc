import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.scripted import ScriptedBackend
from empllm.errors import BackendError, BackendUnavailable, CapabilityError
from empllm.types import Message

GEN = GenerationSettings()


def user(text):
    return [Message(role="user", content=text)]


async def test_by_turn_then_default(write_script):
    b = ScriptedBackend("s", write_script("replies: [one, two]\ndefault: more"))
    assert [(await b.chat(user("x"), GEN)).text for _ in range(3)] == ["one", "two", "more"]


async def test_match_rules_win_over_turns(write_script):
    path = write_script(
        "replies: [t1, t2, t3]\nmatch:\n  - {contains: EXAM, reply: exams}\n  - {regex: '^hi\\b', reply: hello}\n"
    )
    b = ScriptedBackend("s", path)
    assert (await b.chat(user("my exam went badly"), GEN)).text == "exams"
    assert (await b.complete("hi there", GEN)).text == "hello"
    # the by-turn list counts every call, matched or not: this is call 3
    assert (await b.chat(user("other"), GEN)).text == "t3"


async def test_exhausted_script_raises(write_script):
    b = ScriptedBackend("s", write_script("replies: [only]"))
    await b.chat(user("a"), GEN)
    with pytest.raises(BackendError, match="no reply for call 2"):
        await b.chat(user("b"), GEN)


async def test_jsonl_and_stop_and_max_tokens(write_script):
    path = write_script('{"reply": "first line STOP rest"}\n{"reply": "a b c d e"}\n', "s.jsonl")
    b = ScriptedBackend("s", path)
    done = await b.complete("p", GenerationSettings(stop=("STOP",)))
    assert done.text == "first line "
    done = await b.complete("p", GenerationSettings(max_tokens=2))
    assert (done.text, done.finish_reason) == ("a b", "length")


async def test_streaming_joins_to_reply(write_script):
    b = ScriptedBackend("s", write_script("replies: ['I hear how hard this is.']"))
    pieces = [p async for p in b.stream_chat(user("x"), GEN)]
    assert len(pieces) > 1 and "".join(pieces) == "I hear how hard this is."


async def test_loglikelihood_needs_table(write_script):
    b = ScriptedBackend("s", write_script("replies: [x]"))
    assert b.capabilities.prompt_logprobs is False
    with pytest.raises(CapabilityError):
        await b.loglikelihood("ctx", [" a"])
    b = ScriptedBackend("s", write_script("logprobs: {' a': -1.5, ' b': -0.5}"))
    assert await b.loglikelihood("ctx", [" a", " b"]) == [-1.5, -0.5]


@pytest.mark.parametrize(
    "text,name,fragment",
    [
        ("replies: [unclosed", "bad.yaml", "not valid YAML"),
        ("- just a list", "bad.yaml", "expected a mapping"),
        ("replies: 5", "bad.yaml", "field 'replies'"),
        ("match: [{reply: x}]", "bad.yaml", "exactly one of"),
        ('{"reply": "ok"}\nnot json\n', "bad.jsonl", "line 2"),
        ('{"weird": 1}\n', "bad.jsonl", "line 1"),
    ],
)
def test_malformed_files_name_the_problem(write_script, text, name, fragment):
    with pytest.raises(BackendUnavailable, match=fragment):
        ScriptedBackend("s", write_script(text, name))
