"""EmpatheticAgent with scripted models: contemplation parsed in each style, <think> handling,
the memory budget, and the safety layer on crisis messages."""

import json

from empllm.agent import EmpatheticAgent, approx_tokens, reply_pieces
from empllm.runtime import build_runtime
from empllm.safety.events import SafetyLog
from empllm.settings import Settings

CONTEMPLATION = {"emotion": "sadness", "intensity": 6, "cause": "the breakup", "appraisal": "I am unlovable",
                 "unmet_need": "to feel wanted", "risk_level": "low", "strategy": "reflection_of_feelings",
                 "rationale": "name the hurt first"}  # fmt: skip


def runtime(tmp_path, body, name="m"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(body))
    return build_runtime(f"scripted:{path}", Settings(cache_dir=tmp_path / "c", use_cache=False))


async def test_a_chat_model_gives_a_contemplation_then_a_reply(tmp_path):
    answer = json.dumps({"contemplation": CONTEMPLATION, "reply": "That sounds like it cut deep. What hurts most?"})
    agent = EmpatheticAgent(runtime(tmp_path, {"default": answer}), language="en")
    turn = await agent.respond("My girlfriend left me last week.")
    assert turn.contemplation.emotion.value == "sadness" and turn.contemplation.intensity == 6
    assert turn.reply == "That sounds like it cut deep. What hurts most?"
    assert not turn.safety.crisis and turn.resources == []
    assert [t.role for t in agent.turns] == ["client", "psychologist"]


async def test_a_think_model_has_its_contemplation_parsed_out_of_the_reply(tmp_path):
    think = ("<think>\nemotion: anxiety\nintensity: 7\ncause: exams\nappraisal: I will fail\nneed: reassurance\n"
             "risk: none\nstrategy: question\nwhy: understand first\n</think>\n\nExams can feel huge. Which one worries you?")  # fmt: skip
    agent = EmpatheticAgent(runtime(tmp_path, {"default": think}), language="en", style="think")
    turn = await agent.respond("exams next week, can't sleep")
    assert turn.contemplation.emotion.value == "anxiety" and turn.contemplation.strategy.value == "question"
    assert turn.reply == "Exams can feel huge. Which one worries you?" and "<think>" not in turn.reply
    plain = EmpatheticAgent(runtime(tmp_path, {"default": "Just a reply."}, "p"), language="en", style="think")
    turn = await plain.respond("hi")
    assert turn.contemplation is None and turn.reply == "Just a reply."


async def test_unparseable_notes_still_get_the_person_a_reply(tmp_path):
    agent = EmpatheticAgent(runtime(tmp_path, {"default": "no json here, sorry"}), language="en")
    turn = await agent.respond("I feel lost")
    assert turn.contemplation is None and turn.reply and "not parsed" in turn.note


async def test_memory_keeps_the_newest_turns_within_the_budget(tmp_path):
    answer = json.dumps({"contemplation": CONTEMPLATION, "reply": "I hear you."})
    agent = EmpatheticAgent(runtime(tmp_path, {"default": answer}), language="en", max_context_tokens=1400,
                            max_reply_tokens=200)  # fmt: skip
    long = "word " * 200  # about 250 tokens a message
    dropped = []
    for _ in range(6):
        dropped.append((await agent.respond(long)).dropped_turns)
    assert dropped[0] == 0 and dropped[-1] > 0
    window, _ = agent._fit(agent.turns)
    assert sum(approx_tokens(t.content) for t in window) <= 1400 - 200 - 900 + 10 and window[0].role == "client"


async def test_a_crisis_message_gets_safety_and_resources_and_is_logged_without_text(tmp_path):
    minimizing = json.dumps({"contemplation": CONTEMPLATION, "reply": "Cheer up, it's not that bad."})
    log = tmp_path / "events.jsonl"
    agent = EmpatheticAgent(runtime(tmp_path, {"default": minimizing}), language="en", locale="UK",
                            safety_log=SafetyLog(log, privacy=True))  # fmt: skip
    turn = await agent.respond("I don't want to be alive anymore")
    assert turn.safety.crisis and turn.locale == "UK"
    assert "not that bad" not in turn.reply  # the minimizing model reply is not passed on
    assert "safe right now" in turn.reply and "116 123" in turn.reply
    assert "alive anymore" not in log.read_text() and "suicidal_ideation" in log.read_text()
    zh = EmpatheticAgent(runtime(tmp_path, {"default": minimizing}, "z"))
    turn = await zh.respond("我真的不想活了")
    assert turn.language == "zh" and turn.locale == "CN" and "12356" in turn.reply and "安全" in turn.reply


async def test_the_contemplation_alone_can_trigger_the_safety_layer(tmp_path):
    risky = dict(CONTEMPLATION, risk_level="crisis")
    answer = json.dumps({"contemplation": risky, "reply": "That sounds unbearable. Are you safe right now?"})
    turn = await EmpatheticAgent(runtime(tmp_path, {"default": answer}), language="en").respond(
        "I had a long week at work"
    )
    assert turn.safety.crisis and turn.safety.source == "contemplation"
    assert turn.reply.startswith("That sounds unbearable.") and "988" in turn.reply


def test_reply_pieces_join_back_to_the_reply():
    for text in ["That sounds really hard, and it makes sense you feel worn out.", "听起来你真的很累，这很正常。"]:
        assert "".join(reply_pieces(text)) == text


async def test_a_model_check_adds_alarms_the_rules_miss_and_never_clears_theirs(tmp_path):
    from empllm.safety.model_check import ModelSafetyCheck

    answer = json.dumps({"contemplation": CONTEMPLATION, "reply": "That sounds like a lot."})
    flagging = ModelSafetyCheck(
        runtime(tmp_path, {"default": '{"crisis": true, "category": "suicidal_ideation"}'}, "s")
    )
    agent = EmpatheticAgent(runtime(tmp_path, {"default": answer}), language="en", safety_model=flagging)
    turn = await agent.respond("found the cat a new home, tying up a few things")  # indirect: easy for rules to miss
    assert turn.safety.crisis and "model" in turn.safety.rules and "988" in turn.reply
    quiet = ModelSafetyCheck(runtime(tmp_path, {"default": '{"crisis": false, "category": "none"}'}, "q"))
    agent = EmpatheticAgent(runtime(tmp_path, {"default": answer}, "m2"), language="en", safety_model=quiet)
    assert (await agent.respond("I want to kill myself")).safety.crisis  # the rules' alarm stands
    garbled = ModelSafetyCheck(runtime(tmp_path, {"default": "I cannot answer that"}, "g"))
    assert not (await garbled.assess("a normal day at work", "en")).crisis


THINK_NOTES = ("<think>\nemotion: anxiety\nintensity: 7\ncause: exams\nappraisal: I will fail\nneed: reassurance\n"
               "risk: none\nstrategy: question\nwhy: understand first\n</think>\n\n")  # fmt: skip


async def collect(agent, text):
    return [event async for event in agent.stream(text)]


async def test_a_think_model_streams_its_reply_while_it_is_generated(tmp_path):
    reply = "Exams can feel huge. Which one worries you most right now?"
    agent = EmpatheticAgent(runtime(tmp_path, {"default": THINK_NOTES + reply}), language="en", style="think")
    order = []
    backend_stream = agent.runtime.backend.stream_chat

    async def traced(messages, gen):
        async for piece in backend_stream(messages, gen):
            order.append(("made", piece))
            yield piece

    agent.runtime.backend.stream_chat = traced
    async for kind, value in agent.stream("exams next week, can't sleep"):
        order.append((kind, value))
    kinds = [k for k, _ in order]
    # the head comes once </think> is made, and reply text reaches the caller before the model has finished
    assert kinds.index("head") < kinds.index("delta") < len(kinds) - 1 - kinds[::-1].index("made")
    head, turn = order[kinds.index("head")][1], order[-1][1]
    assert head.contemplation.emotion.value == "anxiety" and head.reply == ""
    deltas = "".join(v for k, v in order if k == "delta")
    assert deltas == turn.reply == reply and "<think>" not in deltas and "appraisal" not in deltas


async def test_a_think_models_crisis_reply_is_never_streamed_raw(tmp_path):
    raw = THINK_NOTES + "Cheer up, it's not that bad."
    agent = EmpatheticAgent(runtime(tmp_path, {"default": raw}), language="en", locale="US", style="think")
    events = await collect(agent, "I want to kill myself tonight")
    deltas = "".join(v for k, v in events if k == "delta")
    turn = events[-1][1]
    assert events[0][0] == "head" and events[0][1].safety.crisis and events[0][1].resources
    assert "not that bad" not in deltas and deltas == turn.reply and "988" in deltas


async def test_a_think_model_never_leaks_notes_it_did_not_close_or_open(tmp_path):
    unclosed = EmpatheticAgent(runtime(tmp_path, {"default": "<think>\nemotion: fear\nintensity: 5"}, "u"),
                               language="en", style="think")  # fmt: skip
    events = await collect(unclosed, "hello")
    deltas = "".join(v for k, v in events if k == "delta")
    assert "emotion" not in deltas and deltas == events[-1][1].reply and "never closed" in events[-1][1].note
    assert "emotion" not in (await unclosed.respond("hello again")).reply
    # a chat template that opened <think> itself: only the closing tag comes back
    lone = EmpatheticAgent(runtime(tmp_path, {"default": THINK_NOTES.removeprefix("<think>") + "I hear you."}, "l"),
                           language="en", style="think")  # fmt: skip
    events = await collect(lone, "hello")
    assert "".join(v for k, v in events if k == "delta") == "I hear you." and events[-1][1].contemplation


async def test_other_styles_stream_head_pieces_then_the_turn(tmp_path):
    answer = json.dumps({"contemplation": CONTEMPLATION, "reply": "That sounds like it cut deep. What hurts most?"})
    events = await collect(EmpatheticAgent(runtime(tmp_path, {"default": answer}), language="en"), "She left me.")
    assert events[0][0] == "head" and events[-1][0] == "turn"
    assert "".join(v for k, v in events if k == "delta") == events[-1][1].reply


async def test_notes_a_server_returned_as_reasoning_content_are_kept(tmp_path):
    """A tuned model behind a vLLM reasoning parser: the <think> block arrives apart from the answer."""
    from empllm.backends.base import Capabilities, Completion
    from empllm.runtime import Runtime

    class ReasoningServer:
        spec = "reasoning-server"
        capabilities = Capabilities(chat_tuned=True, prompt_logprobs=False, cacheable=False)

        async def chat(self, messages, gen):
            notes = ("emotion: anxiety\nintensity: 7\ncause: exams\nappraisal: I will fail\nneed: reassurance\n"
                     "risk: none\nstrategy: question\nwhy: understand first")  # fmt: skip
            return Completion(text="Which exam worries you most?", reasoning=notes)

    turn = await EmpatheticAgent(Runtime(ReasoningServer()), language="en", style="think").respond("exams soon")
    assert turn.contemplation is not None and turn.contemplation.cause == "exams"
    assert turn.reply == "Which exam worries you most?"
