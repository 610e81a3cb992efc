import pytest

from empllm.json_output import ParseError, parse_json_object
from empllm.record_parsing import parse_client_state, parse_contemplation, parse_kv_line
from empllm.simulate import transcript_style as ts
from empllm.types import ClientState, Emotion, RiskLevel, Strategy

from .conftest import CONTEMPLATION


def test_kv_line_accepts_both_widths_and_keeps_colons_in_values():
    fields = parse_kv_line("emotion: anxiety | cause: exam: tomorrow｜风险：无")
    assert fields == {"emotion": "anxiety", "cause": "exam: tomorrow", "风险": "无"}


def test_contemplation_coercions():
    c = parse_contemplation(CONTEMPLATION)
    assert (c.emotion, c.intensity, c.strategy, c.risk_level) == (
        Emotion.anxiety, 7, Strategy.reflection_of_feelings, RiskLevel.none)  # fmt: skip
    zh = parse_contemplation(
        {**CONTEMPLATION, "emotion": "焦虑", "strategy": "提问", "risk_level": "较高", "intensity": 12}
    )
    assert (zh.emotion, zh.strategy, zh.risk_level, zh.intensity) == (
        Emotion.anxiety, Strategy.question, RiskLevel.elevated, 10)  # fmt: skip


@pytest.mark.parametrize(
    "change,fragment",
    [({"emotion": "purple"}, "emotion"), ({"strategy": "hypnosis"}, "strategy"), ({"intensity": "high"}, "intensity"),
     ({"cause": ""}, "missing cause")],
)  # fmt: skip
def test_contemplation_rejects_what_cannot_be_coerced(change, fragment):
    with pytest.raises(ParseError, match=fragment):
        parse_contemplation({**CONTEMPLATION, **change})


def test_client_state_disclosures_accumulate():
    prev = ClientState(emotion_intensity=7, trust=3, disclosed=["a"])
    s = parse_client_state({"intensity": "5", "trust": 6, "reaction": "ok", "disclosed": "b；a; c"}, prev)
    assert (s.emotion_intensity, s.trust, s.disclosed) == (5, 6, ["a", "b", "c"])
    with pytest.raises(ParseError, match="trust"):
        parse_client_state({"intensity": 5}, prev)


def test_json_repair_salvages_broken_model_json():
    broken = 'Sure! {"goals": ["Listen first", "Explore support",], "extra": tru'
    assert parse_json_object(broken)["goals"] == ["Listen first", "Explore support"]
    with pytest.raises(ParseError):
        parse_json_object("I would rather not answer in JSON.")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_transcript_lines_round_trip(lang):
    c = parse_contemplation(CONTEMPLATION)
    line = ts.notes_line(c, lang)
    reply_line = ts.speaker_line("psychologist", "I hear you.", lang)
    primer = ts.notes_primer(lang)
    assert line.startswith(primer)
    fields, reply = ts.parse_psychologist_output(primer, line[len(primer) :] + "\n" + reply_line, lang)
    assert parse_contemplation(fields) == c and reply == "I hear you."
    state = ClientState(emotion_intensity=5, trust=6, disclosed=["x", "y"], reaction="ok")
    text = ts.state_line(state, lang) + "\n" + ts.speaker_line("client", "Thanks.", lang) + "\n" + ts.LABELS[lang].end
    sprimer = ts.state_primer(lang)
    sfields, message, ended = ts.parse_client_output(sprimer, text[len(sprimer) :], lang)
    assert parse_client_state(sfields, ClientState(emotion_intensity=0, trust=0)) == state
    assert (message, ended) == ("Thanks.", True)


def test_wrapped_notes_are_joined_and_missing_reply_is_an_error():
    primer = ts.notes_primer("zh")
    text = " anxiety | 强度: 7 | 原因: 考试\n| 评价: 觉得自己不行 | 需要: 被理解 | 风险: 无 | 策略: question | 理由: 先了解\n咨询师：听起来很难受。"
    fields, reply = ts.parse_psychologist_output(primer, text, "zh")
    assert parse_contemplation(fields).unmet_need == "被理解" and reply == "听起来很难受。"
    with pytest.raises(ParseError, match="reply"):
        ts.parse_psychologist_output(primer, " anxiety | 强度: 7", "zh")


def test_near_miss_labels_are_read_and_unrelated_words_rejected():
    from empllm.json_output import ParseError
    from empllm.record_parsing import parse_contemplation

    notes = {"emotion": "depression", "intensity": "6", "cause": "c", "appraisal": "a", "unmet_need": "n",
             "risk_level": "none", "strategy": "re-affirmations", "rationale": "r"}  # fmt: skip
    parsed = parse_contemplation(notes)
    assert (parsed.emotion, parsed.strategy) == ("sadness", "affirmation_and_reassurance")
    assert parse_contemplation({**notes, "strategy": "suggestion"}).strategy == "providing_suggestions"
    with pytest.raises(ParseError, match="strategy 'explanation'"):
        parse_contemplation({**notes, "strategy": "explanation"})
    with pytest.raises(ParseError, match="risk level"):
        parse_contemplation({**notes, "risk_level": "not sure"})
