import json

import pytest

from empllm.backends.base import GenerationSettings
from empllm.backends.registry import create_backend
from empllm.personas.loader import load_personas
from empllm.runtime import Runtime
from empllm.simulate.client import ClientAgent
from empllm.simulate.exemplars import builtin_exemplars
from empllm.simulate.psychologist import PsychologistAgent
from empllm.simulate.session import TurnLimits, run_session
from empllm.types import Strategy

from .conftest import PERSONAS, PLAN_JSON, PSYCH_JSON, client_json, write_yaml

RECORD = {"seed": 1, "config_hash": "c0ffee", "prompts_version": "p1", "models": {"client": "c", "psychologist": "p"},
          "empllm_version": "t"}  # fmt: skip
GEN = GenerationSettings(seed=1)


def agents(client_spec, psych_spec, lang="en", stance="person_centred", shots=0):
    persona = next(p for p in load_personas(PERSONAS) if p.language == lang)
    ex = builtin_exemplars(lang)[:shots]
    client = ClientAgent(Runtime(create_backend(client_spec)), persona, gen=GEN, exemplars=ex)
    psych = PsychologistAgent(Runtime(create_backend(psych_spec)), language=lang, stance=stance, gen=GEN, exemplars=ex)
    return client, psych


async def test_client_ends_after_minimum_and_everything_is_recorded(chat_models):
    client, psych = agents(*chat_models)
    s = await run_session(session_id="s1", client=client, psychologist=psych, limits=TurnLimits(2, 6, 0), record=RECORD)
    assert s.outcome == "client_ended" and "2 replies" in s.outcome_detail
    assert [t.role for t in s.turns] == ["client", "psychologist", "client", "psychologist", "client"]
    assert s.turns[0].content == client.persona.opening_line and s.turns[0].client_state.trust == 3
    psych_turn = s.turns[1]
    assert (
        psych_turn.contemplation.strategy == Strategy.reflection_of_feelings and psych_turn.contemplation.intensity == 7
    )
    assert s.turns[2].client_state.disclosed == ["has not told parents"]
    assert s.plans and s.plans[0].goals[0].startswith("Understand")
    assert s.usage["psychologist"].calls == 3 and s.usage["client"].calls == 2  # plan + 2 replies; 2 client turns
    assert (s.config_hash, s.prompts_version, s.seed, s.models["client"]) == ("c0ffee", "p1", 1, "c")
    json.loads(s.model_dump_json())  # one JSON line


async def test_max_turns_ends_a_session_the_client_never_ends(tmp_path, chat_models):
    client_file = write_yaml(tmp_path / "c2.yaml", {"default": client_json(end=False)})
    client, psych = agents(f"scripted:{client_file}", chat_models[1])
    s = await run_session(session_id="s2", client=client, psychologist=psych, limits=TurnLimits(1, 3, 2), record=RECORD)
    assert s.outcome == "max_turns" and sum(t.role == "psychologist" for t in s.turns) == 3
    assert len(s.plans) == 2 and s.plans[1].after_turn == 4  # revisited after 2 replies (4 turns)


async def test_early_end_is_ignored_before_the_minimum(chat_models):
    client, psych = agents(*chat_models)
    s = await run_session(session_id="s3", client=client, psychologist=psych, limits=TurnLimits(3, 6, 0), record=RECORD)
    assert s.outcome == "client_ended" and sum(t.role == "psychologist" for t in s.turns) == 3


async def test_unparseable_output_is_retried_then_recorded(tmp_path, chat_models):
    bad = write_yaml(tmp_path / "bad.yaml", {"match": [{"contains": '"goals"', "reply": PLAN_JSON}],
                                             "default": "I'd rather just talk normally, no JSON."})  # fmt: skip
    client, psych = agents(chat_models[0], f"scripted:{bad}")
    s = await run_session(session_id="s4", client=client, psychologist=psych, limits=TurnLimits(2, 4, 0), record=RECORD)
    assert s.outcome == "error" and "no usable output in 3 attempts" in s.outcome_detail
    failed = s.turns[-1]
    assert failed.rejected == ["no JSON object in the output"] * 3
    assert (
        failed.role == "psychologist" and failed.raw == "I'd rather just talk normally, no JSON." and failed.parse_error
    )
    assert s.usage["psychologist"].calls == 1 + 3 and s.errors


async def test_a_failing_backend_ends_the_session_with_its_error(tmp_path, chat_models):
    empty = write_yaml(tmp_path / "empty.yaml", {"replies": [PLAN_JSON, PSYCH_JSON]})  # runs out after 2 calls
    client, psych = agents(chat_models[0], f"scripted:{empty}")
    s = await run_session(session_id="s5", client=client, psychologist=psych, limits=TurnLimits(5, 6, 0), record=RECORD)
    assert s.outcome == "error" and "no reply for call 3" in s.outcome_detail


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_base_model_transcript_style(tmp_path, lang):
    """A base model (chat_tuned: false) is prompted with exemplar transcripts and primed lines."""
    if lang == "en":
        notes = (" sadness | intensity: 6 | cause: job | appraisal: feels useless | need: respect | risk: none | "
                 "strategy: question | why: learn more\nCounselor: What happened at work?")  # fmt: skip
        state = " 5 | trust: 4 | reaction: ok | disclosed: -\nClient: They let me go.\n[Session ends]"
        plan_re, notes_re, state_re = r"Plan: $", r"Notes: emotion:$", r"State: intensity:$"
    else:
        notes = " shame | 强度: 6 | 原因: 失业 | 评价: 觉得没用 | 需要: 被尊重 | 风险: 无 | 策略: 提问 | 理由: 多了解\n咨询师：发生了什么？"
        state = " 5 | 信任: 4 | 反应: 还行 | 已说出: -\n来访者：我被裁了。\n[会谈结束]"
        plan_re, notes_re, state_re = r"计划：$", r"内心独白：情绪:$", r"状态：强度:$"
    script = {"chat_tuned": False, "match": [{"regex": plan_re, "reply": "Listen; Explore"},
                                             {"regex": notes_re, "reply": notes}, {"regex": state_re, "reply": state}]}  # fmt: skip
    spec = f"scripted:{write_yaml(tmp_path / 'base.yaml', script)}"
    client, psych = agents(spec, spec, lang=lang, shots=2)
    assert not psych.chat_style and not client.chat_style
    s = await run_session(session_id="b", client=client, psychologist=psych, limits=TurnLimits(1, 4, 2), record=RECORD)
    assert s.outcome == "client_ended", s.errors
    assert s.plans[0].goals == ["Listen", "Explore"]
    assert s.turns[1].contemplation.strategy == Strategy.question and s.turns[1].content
    assert s.turns[2].client_state.trust == 4 and s.turns[2].content in {"They let me go.", "我被裁了。"}


async def test_base_model_notes_missing_fields_are_completed_by_continuation(tmp_path):
    script = {"chat_tuned": False, "match": [
        {"regex": r"Plan: $", "reply": "Listen; Explore"},
        {"regex": r"Notes: emotion:$", "reply": " sadness | intensity: 6 | cause: lost job\nCounselor: What happened?"},
        {"regex": r"\| appraisal:$", "reply": " feels useless | need: respect | risk: none | strategy: question | why: learn more"},
        {"regex": r"State: intensity:$", "reply": " 5 | trust: 4 | reaction: ok | disclosed: -\nClient: They let me go.\n[Session ends]"},
    ]}  # fmt: skip
    spec = f"scripted:{write_yaml(tmp_path / 'base.yaml', script)}"
    client, psych = agents(spec, spec, lang="en", shots=1)
    s = await run_session(session_id="r", client=client, psychologist=psych, limits=TurnLimits(1, 2, 0), record=RECORD)
    assert s.outcome == "client_ended", s.errors
    c = s.turns[1].contemplation
    assert (c.cause, c.appraisal, c.strategy, s.turns[1].content) == (
        "lost job",
        "feels useless",
        Strategy.question,
        "What happened?",
    )
    assert psych.usage.calls == 3  # plan, the turn, one continuation


@pytest.mark.parametrize(
    ("lang", "notes", "openers", "reply"),
    [
        ("en", " sadness | intensity: 6 | cause: lost job | appraisal: feels useless | need: respect | risk: none | "
               "strategy: reflection | why: to be heard",
         r"Counselor: (It sounds like|I can hear how|That sounds|It seems you feel)$", " you feel worn down."),
        ("zh", " sadness | 强度: 6 | 原因: 失业 | 评价: 觉得没用 | 需要: 被尊重 | 风险: 无 | 策略: 提问 | 理由: 多了解",
         r"咨询师：(能多说说|你觉得|那时候你)$", "发生了什么？"),
    ],
)  # fmt: skip
async def test_base_model_reply_starts_with_the_opener_for_its_strategy(tmp_path, lang, notes, openers, reply):
    """With openers, the notes line is written alone; the reply is then asked for from an opener
    that fits the notes' strategy, and the opener is part of the reply."""
    lab = "Notes: emotion:" if lang == "en" else "内心独白：情绪:"
    state = (" 5 | trust: 4 | reaction: ok | disclosed: -\nClient: They let me go.\n[Session ends]" if lang == "en"
             else " 5 | 信任: 4 | 反应: 还行 | 已说出: -\n来访者：我被裁了。\n[会谈结束]")  # fmt: skip
    script = {"chat_tuned": False, "match": [
        {"regex": r"(Plan: |计划：)$", "reply": "Listen; Explore"},
        {"regex": lab + "$", "reply": notes + "\n" + ("Counselor: Tell me." if lang == "en" else "咨询师：说吧。")},
        {"regex": openers, "reply": reply},
        {"regex": r"(State: intensity:|状态：强度:)$", "reply": state},
    ]}  # fmt: skip
    spec = f"scripted:{write_yaml(tmp_path / 'base.yaml', script)}"
    client, _ = agents(spec, spec, lang=lang, shots=1)
    psych = PsychologistAgent(Runtime(create_backend(spec)), language=lang, stance="person_centred", gen=GEN,
                              exemplars=builtin_exemplars(lang)[:1], openers=True)  # fmt: skip
    s = await run_session(session_id="o", client=client, psychologist=psych, limits=TurnLimits(1, 2, 0), record=RECORD)
    assert s.outcome == "client_ended", s.errors
    content = s.turns[1].content
    assert content.endswith(reply.strip()) and content != reply.strip()  # opener + the model's continuation
    assert psych.usage.calls == 3  # plan, the notes line alone, the reply from its opener
