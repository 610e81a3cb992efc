"""Grounding of the psychologist's notes: hand-made notes (en, zh), the hand-written exemplars, and
the curate filter."""

import pytest

from empllm.curate.grounding import check_grounding
from empllm.curate.pipeline import CurateConfig, run_curation
from empllm.grounding import grounding_problems
from empllm.jsonl_store import read_jsonl
from empllm.simulate.exemplars import builtin_exemplars
from empllm.types import Turn

from .sessions import make_session

# (what the client said so far, cause, appraisal, need)
GROUNDED_EN = [
    # "mum" said, "mother" noted
    (["My mum keeps telling me I'm wasting my degree."],
     "Her mother criticises how she is using her degree.", "She thinks she is letting her mother down.",
     "Approval from her mother."),
    # "husband" said, "partner" noted; "twins" said, "children" noted
    (["My husband works away all week and I'm alone with the twins."],
     "Her partner is away all week and she looks after the children by herself.",
     "She feels she has to manage everything.", "Practical help and a break."),
    # plural and verb forms: exams / exam, failed / failing
    (["I failed two exams this term and my scholarship depends on them."],
     "Failing an exam puts her scholarship at risk.", "She sees one bad term as the end of her plans.",
     "Reassurance and a plan for the resits."),
    # numbers the client gave
    (["I'm 52 and I've been at the same firm for thirty years. They let me go on Friday."],
     "Losing a job after 30 years at one firm, at 52.", "He believes nobody will hire him at his age.",
     "To feel he still has something to offer."),
    # a role the client plays is not an invented person
    (["My son hasn't spoken to me since the wedding."],
     "Her son stopped speaking to her after the wedding.", "She believes she has failed as a mother.",
     "To feel she is still a good mother."),
    # notes that say the cause is not known yet
    (["I don't really know why I'm here."],
     "Not clear yet, she has said very little.", "She seems unsure whether talking will help.",
     "Time and safety before saying more."),
    # a paraphrase in other words: owe -> debt, can't sleep -> awake at night
    (["I owe about eight grand on my cards and I can't sleep."],
     "Credit card debt is keeping him awake.", "He sees no way to pay it back.", "A first step he can manage."),
    # names the client said, and "boss" said, "manager" noted, over two messages
    (["Things with Jamie have been rough since we moved to Leeds.", "And my boss keeps emailing me at night."],
     "Tension with Jamie since the move to Leeds, and a manager who emails late.",
     "He feels he can't switch off anywhere.", "Some time that is his own."),
    # the client's "I" is the notes' "she"
    (["I keep replaying the fight I had with my best friend."],
     "She keeps going over a fight with her friend.", "She thinks the friendship may be over.",
     "To know whether it can be repaired."),
]  # fmt: skip
UNGROUNDED_EN = [
    # an invented relative
    (["I can't focus at work and I keep missing deadlines."],
     "Her sister's illness is distracting her at work.", "She thinks she should be coping better.",
     "Room to worry about her sister.", "sister"),
    # the README's example: a mother-in-law nobody mentioned
    (["Is this confidential or are you gonna call my mom? Because if you're gonna call my mom I'm not saying "
      "anything."],
     "She says it's not a problem with her mother-in-law.",
     "She believes she can be trusted, but she doesn't want to talk about her mother-in-law.",
     "To understand how to talk to her mother-in-law", "mother-in-law"),
    # an invented workplace
    (["My flatmate never cleans and I'm sick of it."],
     "Her boss keeps criticising the way she cleans.", "She thinks she can never do enough.",
     "Respect from her manager.", "boss"),
    # an invented age
    (["I've been single for a while and my friends are all getting married."],
     "At 35 she feels left behind as her friends marry.", "She believes time is running out.",
     "To feel her life is on track.", "35"),
    # an invented duration
    (["My dog died last month and the flat feels empty."],
     "Her dog died after fifteen years together.", "She feels silly grieving a pet.",
     "Permission to grieve.", "fifteen"),
    # a cause that shares nothing with what the client said
    (["I failed my driving test again and everyone knows."],
     "Arguments over household chores.", "She thinks nobody helps around the house.",
     "A fairer split of chores.", "share no words"),
    # an invented place
    (["I moved here for a job and don't know anyone."],
     "He moved to Manchester for work and feels isolated.", "He thinks making friends as an adult is impossible.",
     "Connection.", "Manchester"),
    # an invented child, in the appraisal
    (["My manager gave my project to someone else."],
     "His manager passed him over for the project.", "He believes his kids will see him as a failure.",
     "Recognition at work.", "kids"),
    # an invented sum of money
    (["Money is tight this month and the landlord keeps calling."],
     "She owes £2,000 in rent and the landlord is chasing her.", "She feels cornered.",
     "A way to talk to the landlord.", "2,000"),
    # the wrong person: a wife said, a boyfriend noted
    (["My wife wants us to move abroad and I don't."],
     "Her boyfriend wants to move abroad.", "He fears losing his life here.", "To be heard by his wife.",
     "boyfriend"),
]  # fmt: skip

GROUNDED_ZH = [
    # 妈 said, 母亲 noted
    (["我妈总说我不够努力，我真的好累。"], "母亲总批评她不够努力", "她觉得自己怎么做都不够", "需要被母亲认可"),
    # 老公 said, 丈夫 noted
    (["我老公天天加班，家里什么事都是我一个人管。"], "丈夫长期加班，家务全落在她一个人身上", "她觉得自己被丢下了",
     "需要分担和被体谅"),
    # numbers the client gave
    (["我今年三十五了，还没买房，压力特别大。"], "三十五岁还没买房让他着急", "他觉得自己落后于同龄人",
     "需要被理解，而不是被比较"),
    # a role the client plays is not an invented person
    (["女儿上初中以后就不跟我说话了。"], "女儿上初中后不再和她沟通", "她担心自己不是个好妈妈",
     "需要和女儿重新建立联系"),
    # notes that say the cause is not known yet
    (["我也说不上来，就是不想来。"], "原因还不清楚，来访者说得很少", "她可能对咨询有顾虑", "需要安全感和时间"),
    # a paraphrase: 欠了信用卡 -> 信用卡欠款, 睡不着 -> 失眠
    (["欠了信用卡好几万，晚上根本睡不着。"], "信用卡欠款让他夜里失眠", "他觉得这个窟窿补不上了", "需要一个能开始的办法"),
    # 室友 said and noted, over two messages
    (["开学以后我一直一个人吃饭。", "室友们总是背着我聊天，我觉得被排挤了。"], "被室友排挤，一个人吃饭",
     "她认为是自己不讨人喜欢", "需要被接纳"),
    # 领导 said, 上司 noted; 全组 said, 同事 noted
    (["领导当着全组的面骂我，说我做的方案是垃圾。"], "上司在同事面前否定她的方案", "她觉得自己在组里抬不起头",
     "需要找回一点尊严"),
    # 男朋友 said, 男友 noted; the client's 我 is the notes' 来访者
    (["我男朋友去国外读书了，我们每天只能视频。"], "来访者和男友分隔两地，只能靠视频联系", "她担心感情会变淡",
     "需要安全感"),
    # 外婆 said, 姥姥 noted
    (["外婆走了以后，我一直睡不好。"], "姥姥去世后她一直睡不好", "她觉得还没来得及告别", "需要好好告别"),
]  # fmt: skip
UNGROUNDED_ZH = [
    # an invented mother-in-law
    (["我妈天天催我结婚，我快烦死了。"], "婆婆一直催她生孩子", "她觉得自己在家里没有发言权", "需要和婆婆划清界限", "婆婆"),
    # an invented boss
    (["室友晚上打游戏太吵，我根本睡不好。"], "老板让她天天加班到深夜", "她觉得拒绝就会丢工作", "需要学会拒绝", "老板"),
    # an invented duration
    (["我最近总是失眠，白天没精神。"], "失眠已经持续了十五年", "她觉得自己再也好不了", "需要希望", "十五"),
    # an invented sum of money
    (["我借了朋友一些钱，一直没还。"], "欠朋友五万块钱还不上", "他觉得没脸见朋友", "需要一个还钱的计划", "五万"),
    # a cause that shares nothing with what the client said
    (["考研又没考上，我不知道以后该怎么办。"], "装修房子的预算严重超支", "她认为装修公司骗了她", "需要把钱要回来",
     "share no words"),
    # an invented husband
    (["我一个人在外地工作，过年不想回家。"], "丈夫不让她回娘家过年", "她觉得婚后失去了自由", "需要被丈夫理解", "丈夫"),
    # an invented child
    (["我和男朋友分手了，他说我太黏人。"], "孩子的教育问题让她焦虑", "她认为自己太黏人", "需要被接纳", "孩子"),
    # an invented teacher
    (["我爸总拿我和表哥比。"], "班主任当众批评他的成绩", "他觉得自己比不上别人", "需要被肯定", "班主任"),
    # an invented company name
    (["我上个月被裁员了，到现在都没敢告诉家里。"], "在Google被裁员后一直瞒着家人", "他觉得失业很丢人",
     "需要说出来", "Google"),
    # an invented age
    (["我还没结婚，家里人一直催。"], "二十八岁还没结婚，被家里人催", "她觉得自己很失败", "需要被尊重", "二十八"),
]  # fmt: skip


@pytest.mark.parametrize("said,cause,appraisal,need", GROUNDED_EN)
def test_grounded_english_notes_pass(said, cause, appraisal, need):
    assert grounding_problems(cause, appraisal, need, said, "en") == []


@pytest.mark.parametrize("said,cause,appraisal,need,word", UNGROUNDED_EN)
def test_ungrounded_english_notes_are_caught(said, cause, appraisal, need, word):
    problems = grounding_problems(cause, appraisal, need, said, "en")
    assert any(word in p for p in problems), problems


@pytest.mark.parametrize("said,cause,appraisal,need", GROUNDED_ZH)
def test_grounded_chinese_notes_pass(said, cause, appraisal, need):
    assert grounding_problems(cause, appraisal, need, said, "zh") == []


@pytest.mark.parametrize("said,cause,appraisal,need,word", UNGROUNDED_ZH)
def test_ungrounded_chinese_notes_are_caught(said, cause, appraisal, need, word):
    problems = grounding_problems(cause, appraisal, need, said, "zh")
    assert any(word in p for p in problems), problems


def test_problems_are_short_and_say_where():
    problems = grounding_problems(*UNGROUNDED_EN[1][1:4], UNGROUNDED_EN[1][0], "en")
    assert problems[0] == "cause, appraisal and need: names 'mother-in-law', which the client never mentioned"
    assert grounding_problems("", "", "", [], "en") == []


def exemplar_pass_rate(language: str) -> float:
    passed = total = 0
    for exemplar in builtin_exemplars(language):
        said = []
        for turn in exemplar.turns:
            if turn.role == "client":
                said.append(turn.content)
                continue
            c = turn.contemplation
            total += 1
            passed += not grounding_problems(c.cause, c.appraisal, c.unmet_need, said, language)
    return passed / total


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_hand_written_exemplars_are_grounded(language):
    # grounded by construction; a few notes draw on the client profile the counselor never saw
    assert exemplar_pass_rate(language) >= 0.95


# -- the curate filter ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_grounded_session_is_kept(lang):
    assert check_grounding(make_session(lang=lang)) == []


@pytest.mark.parametrize(
    "lang,cause",
    [("en", "Her mother-in-law says the dog was spoiled."), ("zh", "婆婆说她把狗惯坏了")],
)
def test_one_ungrounded_turn_drops_the_session(lang, cause):
    s = make_session(lang=lang)
    s.turns[3].contemplation = s.turns[3].contemplation.model_copy(update={"cause": cause})
    issues = check_grounding(s)
    assert [(i.filter, i.code, i.turn) for i in issues] == [("grounding", "ungrounded_notes", 3)]
    assert "never mentioned" in issues[0].detail


def test_only_what_the_client_has_said_so_far_counts():
    s = make_session(["I can't stop crying since Biscuit died.", "That sounds so painful.",
                      "My sister says I should get another dog.", "How did that land with you?", "Badly."],
                     notes={"cause": "Her sister is pushing her to get a new dog.",
                            "appraisal": "She feels her grief is being rushed.", "unmet_need": "Time to grieve."})  # fmt: skip
    assert [i.turn for i in check_grounding(s)] == [1]  # turn 3 answers a message that names the sister


def test_turns_without_notes_are_skipped():
    s = make_session()
    s.turns[1] = Turn(role="psychologist", content="", raw="garbage", parse_error="unparseable")
    assert check_grounding(s) == []


async def test_curation_drops_ungrounded_sessions_unless_switched_off(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    bad = make_session(sid="bad", notes={"cause": "Her boss fired her for crying at work."})
    good = make_session(lang="zh", sid="good")
    (run / "sessions.jsonl").write_text(bad.model_dump_json() + "\n" + good.model_dump_json() + "\n")
    summary = await run_curation(run, tmp_path / "cur", CurateConfig())
    assert summary.kept == 1 and summary.dropped_by == {"grounding": 1} and summary.codes["ungrounded_notes"] == 1
    assert [r["id"] for r in read_jsonl(tmp_path / "cur" / "sessions.jsonl")] == ["good"]
    off = await run_curation(run, tmp_path / "off", CurateConfig(steps=["rules", "safety", "dedup"]))
    assert off.kept == 2
