"""Rejection sampling: the per-line checks, and a session that resamples a bad line and records why."""

import json

from empllm.record_parsing import parse_contemplation
from empllm.simulate.exemplars import builtin_exemplars
from empllm.simulate.line_checks import LineChecks
from empllm.simulate.session import TurnLimits, run_session
from empllm.types import ClientState, Turn

from .conftest import PLAN_JSON, client_json, write_yaml
from .test_session import RECORD, agents

EXAM = "I failed my mid-term and I can't make myself study anymore."
GROUNDED = {"emotion": "shame", "intensity": "7", "cause": "She failed her mid-term and cannot study.",
            "appraisal": "She reads the failed exam as proof she is not good enough.",
            "unmet_need": "To feel she is more than one exam.", "risk_level": "none", "strategy": "question",
            "rationale": "Understand before suggesting."}  # fmt: skip
INVENTED = {**GROUNDED, "cause": "Her mother-in-law criticised her cooking at the wedding."}


def opening(text=EXAM):
    return [Turn(role="client", content=text, client_state=ClientState(emotion_intensity=6, trust=3))]


def test_a_grounded_new_reply_passes_and_each_fault_is_named():
    checks = LineChecks("en", builtin_exemplars("en")[:2])
    notes = parse_contemplation(GROUNDED)
    assert checks.psychologist(notes, "That sounds like a heavy week. What happened with the exam?", opening()) is None
    ungrounded = checks.psychologist(parse_contemplation(INVENTED), "What happened at the wedding?", opening())
    assert ungrounded.startswith("ungrounded_notes") and "mother-in-law" in ungrounded
    assert checks.psychologist(notes, "我明白你的感受，能多说一点吗？", opening()).startswith("language_mismatch")
    copied = checks.exemplar_lines["psychologist"][0]
    assert checks.psychologist(notes, copied, opening()).startswith("repeated_line")
    turns = [*opening(), Turn(role="psychologist", content="What happened with the exam, do you think?",
                              contemplation=notes)]  # fmt: skip
    again = checks.psychologist(notes, "What happened with the exam, do you think??", turns)
    assert again.startswith("repeated_line")
    assert checks.psychologist(notes, "As an AI language model, you see, I cannot feel.", opening()).startswith(
        "ai_disclaimer"
    )
    looping = "You can talk about the exam and you can talk about the exam and you can talk about the exam."
    assert checks.psychologist(notes, looping, opening()).startswith("looping_line")
    blaming = checks.psychologist(notes, "You failed the exam, and honestly that's your own fault.", opening())
    assert blaming.startswith("unsafe_reply: blaming")
    voice = checks.psychologist(notes, "I'm not going to study for that exam anymore.", opening())
    assert voice.startswith("not_addressed")


def test_client_lines_are_checked_for_language_and_repeats():
    checks = LineChecks("zh", builtin_exemplars("zh")[:2])
    turns = opening("我也不知道来这儿能干嘛，就是心里堵得慌。")
    assert checks.client("最近睡得很差，老是半夜醒。", turns) is None
    assert checks.client("I can't sleep at night.", turns).startswith("language_mismatch")
    assert checks.client("我也不知道来这儿能干嘛，就是心里堵得慌。", turns).startswith("repeated_line")
    assert checks.client("   ", turns).startswith("empty_line")
    loop = (
        "她觉得累，你笑我笑，她被别人堵在床上，你笑我笑，她觉得累，你笑我笑，她被别人堵在床上，你笑我笑，她觉得累了。"
    )
    assert checks.client(loop, turns).startswith("looping_line")
    assert (
        checks.client("我跟阿珍认识三十二年了，那时候在纺织厂，她睡我上铺，冬天冷，两个人挤一张被子。", turns) is None
    )
    notes = parse_contemplation({**GROUNDED, "cause": "心里堵得慌，不知道来这儿能干嘛。"})
    assert checks.psychologist(notes, "心里堵得慌的时候，最难受的是哪一刻？", turns) is None  # no pronoun: fine
    assert checks.psychologist(notes, "我也心里堵得慌，不知道干嘛。", turns).startswith("not_addressed")


async def test_a_rejected_line_is_resampled_and_the_reason_kept(tmp_path, chat_models):
    bad = json.dumps({"contemplation": INVENTED, "reply": "What happened at the wedding, do you think?"})
    good = json.dumps({"contemplation": GROUNDED, "reply": "Failing it sounds like it hit hard. What went through "
                                                           "your mind when you saw the grade?"})  # fmt: skip
    psych = write_yaml(tmp_path / "psych.yaml", {"replies": [PLAN_JSON, bad, good]})
    client = write_yaml(tmp_path / "client.yaml", {"default": client_json(end=True)})
    c, p = agents(f"scripted:{client}", f"scripted:{psych}")
    p.checks = c.checks = LineChecks("en", [])
    s = await run_session(session_id="r1", client=c, psychologist=p, limits=TurnLimits(1, 1, 0), record=RECORD)
    assert s.outcome == "max_turns" and s.turns[1].content.startswith("Failing it sounds")
    assert len(s.turns[1].rejected) == 1 and "mother-in-law" in s.turns[1].rejected[0]


async def test_a_line_that_fails_every_attempt_ends_the_session_with_each_reason(tmp_path, chat_models):
    bad = json.dumps({"contemplation": INVENTED, "reply": "What happened at the wedding, do you think?"})
    psych = write_yaml(tmp_path / "psych.yaml", {"match": [{"contains": '"goals"', "reply": PLAN_JSON}],
                                                 "default": bad})  # fmt: skip
    c, p = agents(chat_models[0], f"scripted:{psych}")
    p.checks = LineChecks("en", [])
    s = await run_session(session_id="r2", client=c, psychologist=p, limits=TurnLimits(1, 2, 0), record=RECORD)
    assert s.outcome == "error" and "no usable output in 3 attempts" in s.outcome_detail
    assert len(s.turns[-1].rejected) == 3 and all(r.startswith("ungrounded_notes") for r in s.turns[-1].rejected)
