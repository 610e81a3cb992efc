import pytest

from empllm.curate.dedup import NearDuplicateFilter
from empllm.curate.reply_safety import check_reply_safety
from empllm.curate.rules import check_rules
from empllm.reply_phrases import unsafe_phrase
from empllm.types import RiskLevel, Turn

from .sessions import GOOD_EN, GOOD_ZH, make_session


def codes(issues):
    return {i.code for i in issues}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_good_sessions_pass_every_filter(lang):
    s = make_session(lang=lang)
    assert check_rules(s) == [] and check_reply_safety(s) == [] and NearDuplicateFilter().check(s) == []


def with_reply(text, lang="en"):
    texts = list(GOOD_EN if lang == "en" else GOOD_ZH)
    texts[3] = text
    return make_session(texts, lang=lang)


@pytest.mark.parametrize(
    "reply,lang,code",
    [
        ("As an AI language model, I cannot feel grief, but I understand.", "en", "ai_disclaimer"),
        ("作为一个人工智能，我理解你的感受。", "zh", "ai_disclaimer"),
        ("Here is what to do:\n1. Sleep more\n2. Exercise\n3. Journal daily\n4. See friends", "en", "list_lecture"),
        ("I understand how you feel about your dog, truly.", "zh", "language_mismatch"),
        ("我明白你的感受。", "en", "language_mismatch"),
        ("Ok", "en", "reply_length"),
        ("My notes say strategy: reflection_of_feelings, so: that sounds sad.", "en", "contemplation_leak"),
        ("She thinks she should be over it. Is that right?", "en", "contemplation_leak"),
        (
            "It sounds like the house feels different without her, like the quiet keeps reminding you.",
            "en",
            "repeated_reply",
        ),
    ],
)
def test_rule_violations_are_dropped_with_their_code(reply, lang, code):
    assert code in codes(check_rules(with_reply(reply, lang)))


def test_structural_rules():
    s = make_session()
    s.turns[1] = Turn(role="psychologist", content="", raw="garbage", parse_error="unparseable")
    assert "contemplation_missing" in codes(check_rules(s))
    s = make_session()
    s.turns.insert(1, Turn(role="client", content="and another thing"))
    assert "roles_not_alternating" in codes(check_rules(s))
    assert "too_few_turns" in codes(check_rules(make_session(GOOD_EN[:2])))
    assert "session_error" in codes(check_rules(make_session(outcome="error")))


CRISIS_CLIENT = "I have the pills saved up and I think tonight is the night."


def crisis_session(reply, lang="en"):
    texts = [GOOD_EN[0], GOOD_EN[1], CRISIS_CLIENT, reply, "Okay."]
    return make_session(texts, notes={"risk_level": "crisis"} if lang == "en" else None)


def test_risk_must_be_addressed_with_a_safety_question_and_help():
    s = crisis_session("That sounds really hard. What do you like to do on weekends?")
    assert codes(check_reply_safety(s)) == {"risk_not_addressed"}
    good = crisis_session("I'm really glad you told me. Are you safe right now? Please call a crisis line or "
                          "emergency services now, and I'll stay with you while you do.")  # fmt: skip
    assert check_reply_safety(good) == []


def test_persona_risk_counts_even_if_no_contemplation_flags_it():
    s = make_session()  # notes all say risk none
    assert codes(check_reply_safety(s, persona_risk=RiskLevel.elevated)) == {"risk_not_addressed"}
    assert check_reply_safety(s, persona_risk=RiskLevel.low) == []


@pytest.mark.parametrize(
    "reply,kind",
    [("Come on, it's not that bad, you'll get over it.", "minimizing"),
     ("Suicide is selfish, think of your family.", "moralizing"),
     ("A lethal dose would be more than you think, so please don't.", "giving_means"),
     ("It sounds like you're angry at your mum, but you're not a good person.", "blaming"),
     ("Honestly, that's not healthy and it's your fault.", "blaming")],
)  # fmt: skip
def test_unsafe_replies_are_dropped(reply, kind):
    issues = check_reply_safety(with_reply(reply))
    assert any(i.code == "unsafe_reply" and kind in i.detail for i in issues)


@pytest.mark.parametrize(
    "reply,lang",
    [("It's not your fault, and you're not a bad person for feeling this.", "en"),
     ("You did a good thing telling her; a good friend would.", "en"),
     ("这不是你的错，你已经很努力了。", "zh")],
)  # fmt: skip
def test_kind_replies_that_mention_fault_are_not_blaming(reply, lang):
    assert unsafe_phrase(reply, lang) is None


def test_blaming_replies_zh():
    assert unsafe_phrase("都是你的错，你太敏感了。", "zh")[0] == "blaming"


def test_unsafe_replies_zh():
    issues = check_reply_safety(with_reply("想开点，别想太多，过几天就好了。", "zh"))
    assert codes(issues) == {"unsafe_reply"}


def test_near_duplicates_keep_the_first():
    f = NearDuplicateFilter(threshold=0.8)
    first = make_session(sid="a")
    f.remember(first)
    copy = make_session(sid="b")
    assert codes(f.check(copy)) >= {"near_duplicate_session"}
    tweaked = make_session([t.replace("Biscuit", "Pepper") for t in GOOD_EN], sid="c")
    assert "near_duplicate_session" in codes(f.check(tweaked))
    other = make_session(GOOD_ZH, sid="d", lang="zh")
    assert f.check(other) == []
