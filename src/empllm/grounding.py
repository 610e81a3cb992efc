"""Are a psychologist's private notes grounded in what the client has said?

The cause, appraisal and need of a contemplation must come from the client's own words so far in
the session (the persona card is hidden from the counselor, so it does not count). A cheap,
deterministic check in English and Chinese (well under a millisecond a call), used by `curate` and
on every sampled simulation line. The notes are ungrounded when they:

- name a person the client never mentioned: a relative, partner, boss, colleague, friend, doctor...
  Synonyms are the same person ("mum" said, "mother" noted; 老公 said, 丈夫 noted), a wider word
  covers a narrower one ("partner" for "husband"), and a role the client plays is not a person
  ("a bad father" from a client who spoke of his baby; "做个好妈妈");
- name a proper name (a capitalised word inside a sentence: a person, place, company) the client
  never said;
- give a number the client never said: digits, and number words from ten up ("34", "fifteen years",
  "二十万"; small counts in words are often paraphrase, "two" for "both");
- share nothing with what the client said: not one content word (English: no stopwords or bare
  emotion words, lightly stemmed, so "exams" matches "exam"; Chinese: a two-character word, an
  uncommon character or a four-character phrase), person or topic ("debt" noted, "owe" said). The
  cause, appraisal and need are taken together, since grounded notes often restate one of the
  client's words in one field and abstract in the others; notes that say the cause is not known yet,
  or that describe what the client is doing in the session ("is open to", "愿意"), are exempt.

Calibrated on the hand-written exemplar sessions (about 95% of their notes pass; the rest mostly
use details from the client profile that the client never said). It is lexical: one shared word is
enough, so it catches notes about another session or an invented person far better than a wrong
detail told in the client's own words.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["grounding_problems"]

# -- who the notes may name ------------------------------------------------------------------
# Each group: the words that name the person in the notes (triggers), then words in the client's
# messages that are also evidence of them. "partner" in the notes is grounded by "husband" said,
# and so on: COMPATIBLE links groups either way (not transitively).

_EN_PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mother": (("mother", "mom", "mum", "mommy", "mummy", "mama", "momma", "mam"), ("ma", "mammy", "mamma")),
    "father": (("father", "dad", "daddy", "papa"), ("pa", "pop", "da", "old man")),
    "parents": (("parents", "parent", "folks"), ()),
    "stepmother": (("stepmother", "stepmom", "stepmum"), ()),
    "stepfather": (("stepfather", "stepdad"), ()),
    "mother-in-law": (("motherinlaw",), ()),
    "father-in-law": (("fatherinlaw",), ()),
    "sister-in-law": (("sisterinlaw",), ()),
    "brother-in-law": (("brotherinlaw",), ()),
    "in-laws": (("inlaws", "inlaw"), ()),
    "husband": (("husband", "hubby"), ()),
    "wife": (("wife", "missus"), ("wifey",)),
    "spouse": (("spouse",), ("married", "marriage")),
    "partner": (("partner", "other half"), ("significant other",)),
    "boyfriend": (("boyfriend",), ("bf",)),
    "girlfriend": (("girlfriend",), ("gf",)),
    "fiance": (("fiance", "fiancé", "fiancee", "fiancée"), ("engaged",)),
    "ex": (
        ("ex", "exwife", "exhusband", "exboyfriend", "exgirlfriend", "expartner"),
        ("divorce", "divorced", "split up", "broke up", "breakup", "dumped", "separated"),
    ),
    "boss": (
        ("boss", "manager", "supervisor", "employer", "line manager"),
        ("lead", "team lead", "director", "ceo", "foreman", "head of", "the head", "management"),
    ),
    "coworker": (("coworker", "colleague", "workmate"), ("team", "teammate", "people at work", "office")),
    "teacher": (("teacher", "professor", "lecturer", "tutor"), ("prof", "advisor", "adviser", "supervisor", "mentor")),
    "classmate": (("classmate",), ("class", "school", "course", "student")),
    "roommate": (("roommate", "flatmate", "housemate"), ()),
    "sister": (("sister", "sis"), ()),
    "brother": (("brother", "bro"), ()),
    "siblings": (("sibling",), ()),
    "son": (("son",), ("boy", "lad")),
    "daughter": (("daughter",), ("girl",)),
    "child": (("child", "children", "kid", "baby", "toddler", "newborn"), ("little one", "boy", "girl", "twins")),
    "grandmother": (("grandmother", "grandma", "gran", "granny", "nan", "nana"), ()),
    "grandfather": (("grandfather", "grandpa", "grandad", "granddad"), ("gramps",)),
    "grandparents": (("grandparent",), ()),
    "grandchild": (("grandchild", "grandchildren", "grandson", "granddaughter", "grandkid"), ()),
    "aunt": (("aunt", "auntie", "aunty"), ()),
    "uncle": (("uncle",), ()),
    "cousin": (("cousin",), ()),
    "niece": (("niece",), ()),
    "nephew": (("nephew",), ()),
    "friend": (("friend", "mate", "buddy", "pal", "bestie"), ("mates", "best friend")),
    "doctor": (("doctor", "gp", "physician", "psychiatrist", "surgeon", "specialist"), ("dr", "consultant")),
    "therapist": (("therapist", "counsellor", "counselor", "psychologist"), ("counselling", "counseling", "therapy")),
    "neighbour": (("neighbour", "neighbor"), ()),
    "landlord": (("landlord", "landlady"), ()),
    "coach": (("coach",), ()),
}
_ZH_PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mother": (("妈妈", "母亲", "老妈", "妈", "母上"), ()),
    "father": (("爸爸", "父亲", "老爸", "爸", "老爹", "爹"), ()),
    "parents": (("父母", "爸妈", "双亲", "家长", "二老"), ("爹妈", "家里人", "家人")),
    "mother-in-law": (("婆婆", "岳母", "丈母娘"), ()),
    "father-in-law": (("公公", "岳父", "老丈人"), ()),
    "in-laws": (("公婆", "婆家", "岳父母"), ()),
    "husband": (("丈夫", "老公"), ("先生", "当家的")),
    "wife": (("妻子", "老婆", "太太", "媳妇"), ()),
    "spouse": (("爱人", "配偶", "老伴", "伴侣"), ("结婚", "婚姻")),
    "boyfriend": (("男朋友", "男友"), ()),
    "girlfriend": (("女朋友", "女友"), ()),
    "partner": (("恋人", "另一半"), ("对象",)),
    "ex": (("前男友", "前女友", "前任", "前夫", "前妻"), ("分手", "离婚")),
    "boss": (("老板", "领导", "上司", "主管", "经理", "组长", "老总", "上级"), ("主任", "头儿")),
    "coworker": (("同事",), ("团队", "组里", "部门", "办公室")),
    "teacher": (("老师", "导师", "班主任", "教授"), ("辅导员",)),
    "classmate": (("同学",), ("班上", "班里", "学校")),
    "roommate": (("室友", "舍友"), ("合租", "宿舍")),
    "elder brother": (("哥哥",), ("哥", "大哥", "老哥")),
    "elder sister": (("姐姐",), ("姐", "大姐", "老姐")),
    "younger brother": (("弟弟",), ("弟",)),
    "younger sister": (("妹妹",), ("妹",)),
    "siblings": (("兄弟姐妹", "手足"), ("兄弟", "姐妹")),
    "son": (("儿子",), ()),
    "daughter": (("女儿", "闺女"), ()),
    "child": (("孩子", "小孩", "宝宝", "儿女", "子女", "娃"), ("宝贝", "孩儿")),
    "grandmother": (("奶奶", "外婆", "姥姥", "祖母"), ()),
    "grandfather": (("爷爷", "外公", "姥爷", "祖父"), ()),
    "aunt": (("阿姨", "姑姑", "姨妈", "舅妈", "婶婶", "大姨", "小姨"), ("姨",)),
    "uncle": (("叔叔", "舅舅", "伯伯", "姑父", "姨父"), ("舅", "叔")),
    "relatives": (("亲戚",), ()),
    "friend": (("朋友", "好友", "闺蜜", "发小", "哥们"), ("兄弟", "姐妹")),
    "doctor": (("医生", "大夫", "医师"), ("医院", "看病", "门诊")),
    "therapist": (("咨询师", "治疗师", "心理医生"), ("咨询",)),
    "neighbour": (("邻居",), ()),
    "landlord": (("房东",), ()),
}
_COMPATIBLE = [
    ("parents", "mother"), ("parents", "father"), ("parents", "stepmother"), ("parents", "stepfather"),
    ("in-laws", "mother-in-law"), ("in-laws", "father-in-law"), ("in-laws", "sister-in-law"),
    ("in-laws", "brother-in-law"),
    ("spouse", "husband"), ("spouse", "wife"), ("spouse", "partner"),
    ("partner", "husband"), ("partner", "wife"), ("partner", "boyfriend"), ("partner", "girlfriend"),
    ("partner", "fiance"), ("spouse", "fiance"),
    ("child", "son"), ("child", "daughter"), ("child", "grandchild"),
    ("siblings", "sister"), ("siblings", "brother"), ("siblings", "elder brother"), ("siblings", "elder sister"),
    ("siblings", "younger brother"), ("siblings", "younger sister"),
    ("grandparents", "grandmother"), ("grandparents", "grandfather"),
    ("relatives", "aunt"), ("relatives", "uncle"), ("relatives", "cousin"), ("relatives", "in-laws"),
    ("ex", "partner"), ("ex", "boyfriend"), ("ex", "girlfriend"), ("ex", "husband"), ("ex", "wife"),
    ("ex", "spouse"), ("ex", "fiance"),
    ("boss", "coworker"),  # "my team lead" / "people at work": loosely the same workplace
    ("doctor", "therapist"),
]  # fmt: skip
# A role the client plays is not another person: a client who speaks of their child is a parent,
# one who speaks of their parents is a son or daughter, and so on.
_CLIENT_ROLES = {
    "child": ("mother", "father", "parents"), "son": ("mother", "father", "parents"),
    "daughter": ("mother", "father", "parents"), "mother": ("son", "daughter", "child"),
    "father": ("son", "daughter", "child"), "parents": ("son", "daughter", "child"),
    "husband": ("wife", "spouse"), "wife": ("husband", "spouse"), "spouse": ("husband", "wife"),
    "boyfriend": ("girlfriend", "partner"), "girlfriend": ("boyfriend", "partner"),
    "partner": ("boyfriend", "girlfriend", "husband", "wife"),
    "grandchild": ("grandmother", "grandfather", "grandparents"),
    "grandmother": ("grandchild",), "grandfather": ("grandchild",),
    "mother-in-law": ("son", "daughter", "husband", "wife"), "father-in-law": ("son", "daughter", "husband", "wife"),
    "in-laws": ("son", "daughter", "husband", "wife"),
}  # fmt: skip


def _close(groups: set[str]) -> set[str]:
    """Every group the notes may name, given the groups the client mentioned."""
    out = set(groups)
    for a, b in _COMPATIBLE:
        if a in groups:
            out.add(b)
        if b in groups:
            out.add(a)
    for g in groups:
        out.update(_CLIENT_ROLES.get(g, ()))
    return out


def _index(groups: dict[str, tuple[tuple[str, ...], tuple[str, ...]]], key) -> tuple[dict, dict]:
    """term -> the groups it names (in notes); term -> the groups it is evidence of (in what was said)."""
    triggers: dict = {}
    evidence: dict = {}
    for group, (names, extra) in groups.items():
        for word in names:
            triggers.setdefault(key(word), set()).add(group)
        for word in names + extra:
            evidence.setdefault(key(word), set()).add(group)
    return triggers, evidence


# -- topics: words that say the same thing in other words ---------------------------------------
# "Heavy debt" noted is grounded by "I owe forty thousand" said. Deliberately coarse: a topic the
# client raised supports notes about it; one the client never touched does not.

_EN_TOPICS: dict[str, str] = {
    "work": "work job jobs career office shift shifts employ employed unemployed layoff laid_off fired sacked "
            "redundant redundancy hired hiring warehouse company business salary wage wages promotion interview cv "
            "resume trade profession overtime rota workplace meeting meetings demo project deadline customers",
    "study": "exam exams test tests study studying grade grades marks class classes course school university uni "
             "college degree resit revision homework assignment essay thesis semester student students lecture",
    "money": "money debt debts owe owed owing loan loans bill bills rent mortgage afford broke cost costs savings "
             "bank credit financial finances spending payment thousand",
    "sleep": "sleep sleeping slept asleep insomnia tired exhausted exhaustion awake nap naps fatigue drained shattered",
    "death": "die died dying death dead passed_away funeral widow widowed bereaved suicide suicidal kill "
             "end_my_life end_his_life end_her_life not_wake_up",
    "health": "pain ill illness sick health healthy body doctor hospital symptom symptoms headache heart chest "
              "liver diagnosis tumour tumor cancer medication pills breathing injury",
    "relationship": "relationship breakup broke_up broken_up split_up dumped dating divorce divorced marriage married "
                    "wedding engaged cheated affair",
    "drinking": "drink drinks drinking alcohol alcoholic wine beer glass bottle drunk pub smoke smoking cigarette "
                "cigarettes vape cut_down cutting_down cut_back",
    "online": "instagram facebook tiktok twitter snapchat online phone scroll scrolling social_media internet "
              "google googled feed app group_chat whatsapp texted texting text_message",
    "worth": "worth worthless useless failure weak weakness loser fraud stupid replaceable burden rubbish pathetic "
             "incompetent inadequate not_enough good_enough",
    "alone": "alone isolated isolation nobody no_one by_myself",
    "judged": "judge judged judging judgement judgment laugh_at laughing_at mock mocked mocking humiliate "
              "humiliated humiliating reputation stare staring stupid label labelled labeled",
    "numb": "numb flat emptiness blank hollow detached disconnected feel_nothing felt_nothing",
    "sent": "made_me_come booked sent_me forced had_to_come pushed_me referred mandated",
    "skill": "good_at skill skills talent talented capable ability strengths",
    "home": "home house flat apartment move moved moving go_back going_back relocate relocated abroad emigrate city "
            "country",
    "caring": "carer caregiver caregiving look_after looking_after care_for caring_for nursing",
    "secret": "secret secrets hide hiding hid hidden confess haven't_told hasn't_told not_told",
    "conflict": "yell yelled yelling shout shouted shouting snap snapped snapping argue argued argument arguments "
                "fight fights fighting row rows scream screamed temper",
    "crying": "cry cried crying tears sob sobbing",
    "accident": "accident crash crashed collision",
    "baby": "baby babies birth born pregnant pregnancy newborn",
    "checking": "check checking checked search searching searched reassurance",
    "gaming": "game games gaming gamer",
}  # fmt: skip
_ZH_TOPICS: dict[str, str] = {
    "work": "工作 上班 下班 加班 公司 单位 裁员 被裁 辞职 失业 找工作 简历 面试 老板 领导 同事 "
            "工资 升职 项目 业绩 职场 岗位 打工 干活 销售 单子 客户 行业 汇报 例会 开会 会议 职业 "
            "护士 讲台 退休 送单",
    "study": "考试 考研 高考 中考 成绩 分数 学习 上课 作业 论文 复习 学校 大学 老师 同学 一模 二模 "
             "模考 排名 读书 上岸 复试 毕业 专业 备考 二战 考砸 考上",
    "money": "钱 债 欠 贷 房贷 房租 还款 工资 存款 花销 经济 收入 挣 赚 催收 年终奖 奖金 期权",
    "sleep": "睡 失眠 累 疲 困 熬夜 午觉 醒 缺觉 夜班",
    "death": "死 去世 离世 过世 葬礼 自杀 不想活 活着 轻生 一了百了 醒过来 别醒",
    "health": "病 疼 痛 身体 医院 医生 体检 症状 心脏 胸闷 健康 药 手术 住院 头疼 受伤 透析",
    "relationship": "分手 感情 恋爱 在一起 离婚 结婚 异地 拉黑 复合 出轨 外遇",
    "drinking": "喝酒 酒 应酬 烟 抽烟 戒烟",
    "online": "手机 朋友圈 微信 微博 群 聊天记录 刷 网上 上网 抖音",
    "worth": "没用 废物 不够好 失败 拖累 负担 价值 不配 傻 软弱 丢人 丢脸 差劲 错误 出错 失误 顶梁柱",
    "alone": "一个人 孤单 没人 独自 说话的人 冷清 一人",
    "judged": "看不起 笑话 丢人 议论 评价 别人怎么看 出丑 嫌弃 否定 指点 指责",
    "numb": "麻木 空空 没感觉 没有感觉 什么感觉都没有 一点感觉都没有 空虚",
    "sent": "让我来 被安排 非让我来 逼我来 劝来 叫我来 被劝 安排我",
    "skill": "擅长 拿手 本事 能力 强项",
    "home": "回家 搬家 房子 老家 家里 在家 别人家",
    "caring": "照顾 照护 护工 陪护 带孩子 带不好",
    "secret": "瞒 告诉 说出来 坦白 开口 秘密 不敢说 不敢跟",
    "conflict": "吵 吵架 吼 骂 发火 冲突 摔",
    "crying": "哭",
    "accident": "车祸 事故 撞车 出事",
    "baby": "生孩子 产后 怀孕 宝宝 月子 生产 顺产 剖 生完",
    "checking": "查 搜 检查",
    "gaming": "游戏",
}  # fmt: skip


# -- English text ------------------------------------------------------------------------------

_EN_NORMALISE = [
    (re.compile(r"\b(mother|father|sister|brother|son|daughter)s?[- ]in[- ]laws?\b"), r"\1inlaw"),
    (re.compile(r"\bin[- ]laws?\b"), "inlaws"),
    (re.compile(r"\bstep[- ](mother|father|mom|mum|dad)"), r"step\1"),
    (re.compile(r"\bco[- ]workers?\b"), "coworker"),
    (re.compile(r"\bex[- ](wife|husband|boyfriend|girlfriend|partner)"), r"ex\1"),
    (re.compile(r"\bgrand[- ](mother|father|ma|pa|dad|kids?)"), r"grand\1"),
    (re.compile(r"[’‘`]"), "'"),
]
_EN_WORD = re.compile(r"[a-zà-ÿ]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")


def _en_tokens(text: str) -> list[str]:
    low = text.lower()
    for pattern, repl in _EN_NORMALISE:
        low = pattern.sub(repl, low)
    return [t[:-2] if t.endswith("'s") else t for t in _EN_WORD.findall(low)]


def _singular(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _stem(token: str) -> str:
    """Light stemming: exams -> exam, stopped -> stop, worried -> worr, scared -> scar."""
    t = _singular(token)
    for suffix in ("ingly", "edly", "ing", "ed", "ly"):
        if len(t) - len(suffix) >= 3 and t.endswith(suffix):
            t = t[: -len(suffix)]
            break
    if len(t) > 3 and t[-1] == t[-2] and t[-1] not in "aeiouls":
        t = t[:-1]
    if len(t) > 3 and t.endswith(("e", "y", "i")):
        t = t[:-1]
    return t


_EN_TRIGGERS, _EN_EVIDENCE = _index(_EN_PEOPLE, lambda w: tuple(w.split()))
_EN_LONGEST = max(len(k) for k in _EN_EVIDENCE)
# Before a person word: these make it a role or anyone ("a bad father", "other mothers")...
_EN_GENERIC = {"a", "an", "another", "any", "every", "other", "others", "some", "no", "such", "many", "most", "all",
               "being", "become", "becoming", "as"}  # fmt: skip
# ...and these a particular person ("her mother", "the boss").
_EN_SPECIFIC = {"her", "his", "their", "my", "your", "the", "our", "its", "this", "that", "whose", "with", "to"}


def _en_people(tokens: list[str], table: dict, *, notes: bool) -> list[tuple[set[str], str]]:
    """(groups, word as written) for each person word; in notes, roles and anyones are skipped."""
    found, i = [], 0
    while i < len(tokens):
        for n in range(min(_EN_LONGEST, len(tokens) - i), 0, -1):
            words = tokens[i : i + n]
            groups = table.get(tuple(words)) or table.get((*words[:-1], _singular(words[-1])))
            if groups:
                if not (notes and _is_generic(tokens, i, _EN_SPECIFIC, _EN_GENERIC)):
                    found.append((groups, " ".join(words)))
                i += n
                break
        else:
            i += 1
    return found


def _is_generic(units, i: int, specific, generic) -> bool:
    """Whether the nearest marker in the 3 words (en) or characters (zh) before position i makes
    the mention generic ("a father", "每个妈妈") rather than specific ("my father", "我妈")."""
    for unit in reversed(units[max(0, i - 3) : i]):
        if unit in specific:
            return False
        if unit in generic:
            return True
    return False


_EN_UNITS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                        "fourteen fifteen sixteen seventeen eighteen nineteen".split())}  # fmt: skip
_EN_TENS = {w: 10 * (n + 2) for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_EN_SCALES = {"hundred": 100, "thousand": 1000, "k": 1000, "million": 1_000_000, "grand": 1000}
_EN_DECADES = {w[:-1] + "ies": v for w, v in _EN_TENS.items()}  # twenties, thirties...


def _en_numbers(tokens: list[str]) -> list[tuple[int, str]]:
    """(value, as written) for each number: digits, number words from ten up and decades ("in her thirties").
    Smaller counts in words are left alone: notes say "two" for "a couple", "both", "a fortnight"."""
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t in _EN_DECADES:
            out.append((_EN_DECADES[t], t))
            i += 1
            continue
        if not (t[0].isdigit() or t in _EN_UNITS or t in _EN_TENS):
            i += 1
            continue
        j, value, current, words = i, 0, 0, []
        while j < len(tokens):
            w = tokens[j]
            if w[0].isdigit() and not words:
                current = int(float(w.replace(",", ""))) if re.fullmatch(r"[\d,]+(\.\d+)?", w) else 0
            elif w in _EN_UNITS and (not words or tokens[j - 1] in _EN_TENS or tokens[j - 1] in _EN_SCALES):
                current += _EN_UNITS[w]
            elif w in _EN_TENS and (not words or tokens[j - 1] in _EN_SCALES):
                current += _EN_TENS[w]
            elif w in _EN_SCALES and words:
                value += max(current, 1) * _EN_SCALES[w]
                current = 0
            else:
                break
            words.append(w)
            j += 1
        value += current
        if words[0][0].isdigit() or value >= 10:
            out.append((value, " ".join(words)))
        i = max(j, i + 1)
    return out


_CAPITALISED = re.compile(r"(?<![A-Za-z0-9'])([A-Z][a-zA-Z]+|[A-Z]{2,})(?![a-zA-Z0-9])")
_SENTENCE_START = re.compile(r"(^|[.!?:;\"“”(\[—–-]|\s-)\s*$")
_NOT_NAMES = {"I", "I'm", "I'd", "I've", "I'll", "OK", "Ok", "Okay", "TV", "AM", "PM"}


def _en_names(text: str) -> list[str]:
    """Capitalised words inside a sentence: names of people, places, things."""
    names = []
    for m in _CAPITALISED.finditer(text):
        word = m.group(1)
        if (word in _NOT_NAMES or (word.lower(),) in _EN_EVIDENCE or _SENTENCE_START.search(text[: m.start()])
                or text[m.start() - 1 : m.start()] in "'‘"):  # fmt: skip
            continue
        names.append(word)
    return names


_EN_STOP = set("""
a about above after again against all also am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each even
ever every few for from further get gets getting got gotten had hadn't has hasn't have haven't having he he'd he's
her here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just let's
like me more most much must my myself no nor not now of off on once one only or other others our ours ourselves
out over own really same she she'd she's should shouldn't so some still such than that that's the their theirs
them themselves then there there's these they they'd they're they've this those though through to too under
until up upon us very was wasn't we we'd we're we've were weren't what what's when where which while who whom
why will with won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
client say says said saying think thinks thought want wants wanted make makes made making thing things
something anything nothing everything someone anyone everyone seem seems seemed way lot lots bit kind sort maybe
perhaps probably actually honestly feel feels feeling feelings felt go goes going went gone come comes came take
takes took keep keeps kept see sees saw seen look looks looked need needs needed try tries tried trying right well
back yes yeah okay ok um uh oh hmm able already always around away else gives give given put puts many new old
since unsure sure sounds sound sounded s t ll d re ve m never start starts started starting begin begins
beginning began instead
""".split())  # fmt: skip
_EN_EMOTION = set("""
sad sadness upset anxious anxiety anxiousness angry anger mad fear fears afraid scared scary frightened
frightening worry worried worries worrying stress stressed stressful hurting lonely loneliness guilt guilty
shame ashamed embarrassed frustration frustrated frustrating grief grieving hopeless hopelessness overwhelm
overwhelmed overwhelming disappointment disappointed jealous jealousy confused confusion numb numbness
resentment resentful relief relieved hope hopeful calm emotion emotions emotional happy unhappy bad good fine
terrible awful horrible depressed nervous tense panic
""".split())  # fmt: skip
_EN_SKIP = _EN_STOP | _EN_EMOTION | {_stem(w) for w in _EN_STOP | _EN_EMOTION}
_EN_TOPIC_OF: dict[tuple[str, ...], set[str]] = {}
for _topic, _words in _EN_TOPICS.items():
    for _w in _words.split():
        _EN_TOPIC_OF.setdefault(tuple(_stem(t) for t in _w.split("_")), set()).add(_topic)
_EN_TOPIC_LONGEST = max(len(k) for k in _EN_TOPIC_OF)


def _en_units(tokens: list[str], people: set[str]) -> set[str]:
    """What a text is about: content stems, "%topic" and "@person" units."""
    out = {f"@{g}" for g in people}
    stems = [_stem(t) for t in tokens]
    for i in range(len(stems)):
        for n in range(1, _EN_TOPIC_LONGEST + 1):
            out |= {f"%{topic}" for topic in _EN_TOPIC_OF.get(tuple(stems[i : i + n]), ())}
    for t, s in zip(tokens, stems, strict=True):
        if t in _EN_STOP or t in _EN_EMOTION or t[0].isdigit():
            continue
        if len(s) >= 3 and s not in _EN_SKIP:
            out.add(s)
    return out


def _en_shares(noted: set[str], said: set[str]) -> bool:
    if noted & said:
        return True
    words = [w for w in said if w[0] not in "@%" and len(w) >= 4]
    for a in noted:
        if a[0] in "@%":
            continue
        for b in words:
            short, long_ = (a, b) if len(a) <= len(b) else (b, a)
            if len(short) >= 4 and long_.startswith(short):  # exhaust ~ exhaustion, fair ~ fairer
                return True
    return False


# -- Chinese text ------------------------------------------------------------------------------

_ZH_TRIGGERS, _ZH_EVIDENCE = _index(_ZH_PEOPLE, str)
_ZH_LONGEST = max(len(w) for w in _ZH_EVIDENCE)
# Before a person word: a role the client plays, or anyone ("做个好妈妈", "是个坏女儿", "当妈的")...
_ZH_GENERIC = set("个位名当做是为像些种")
# ...or a particular person ("她妈妈", "跟老公").
_ZH_SPECIFIC = set("她他我你的们和跟与被让对给替")


def _zh_people(text: str, *, notes: bool) -> list[tuple[set[str], str]]:
    """(groups, word as written) for each person word; in notes, only names of people, not roles."""
    found, i = [], 0
    while i < len(text):
        for n in range(min(_ZH_LONGEST, len(text) - i), 0, -1):
            word = text[i : i + n]
            if word in _ZH_EVIDENCE:
                if not notes:
                    found.append((_ZH_EVIDENCE[word], word))
                elif word in _ZH_TRIGGERS and not _is_generic(text, i, _ZH_SPECIFIC, _ZH_GENERIC):
                    found.append((_ZH_TRIGGERS[word], word))
                i += n
                break
        else:
            i += 1
    return found


_ZH_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_ZH_SCALES = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
# Numerals that are not numbers here: idioms, "very", "in case", "by all means", "a couple"...
_ZH_NOT_NUMBERS = re.compile(
    "一五一十|三心二意|七上八下|乱七八糟|七嘴八舌|九死一生|四面八方|五花八门|一干二净|千方百计|千篇一律|十全十美|"
    "独一无二|二话不说|三番五次|三言两语|不三不四|一模一样|一清二楚|千万|万一|万万|万分|十分|百分百|再三|两难|两全|"
    "两头|两边|两样|两回事|两码事|两口子|一两|三两|两三|三五|七八|五六|四五|三四|八九|十几|几十|三十而立|二战|一一"
)
_ZH_NUMBER = re.compile(r"\d+(?:\.\d+)?[万千百亿]?|[零〇一二两三四五六七八九十百千万亿]+")


def _zh_value(numeral: str) -> int:
    if numeral[0].isdigit():
        return int(float(numeral.rstrip("万千百亿")) * _ZH_SCALES.get(numeral[-1], 1))
    total, section, digit = 0, 0, None
    for ch in numeral:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in ("万", "亿"):
            total += (section + (digit or 0)) * _ZH_SCALES[ch]
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * _ZH_SCALES[ch]
            digit = None
    return total + section + (digit or 0)


def _zh_numbers(text: str) -> list[tuple[int, str]]:
    """(value, as written) for digits and numerals from ten up (smaller counts in words are left alone,
    as in English; and 一 is mostly a word: 一个, 一直, 一起)."""
    out = []
    for numeral in _ZH_NUMBER.findall(_ZH_NOT_NUMBERS.sub("　", text)):
        if numeral in ("万", "千", "百", "亿"):
            continue
        value = _zh_value(numeral)
        if numeral[0].isdigit() or value >= 10:
            out.append((value, numeral))
    return out


_HAN = re.compile(r"[\u4e00-\u9fff]+")
# Characters too common, or too much about feelings alone, to show that two texts share a subject.
_ZH_COMMON = set(
    "的了是在不一有我你他她它们这那就也都和与很还又吗吧呢啊呀嘛会要着过被把让给对从到为能可个么什怎样而且但却只没"
    "些点得地之其或若如果所以因此然后太更最再才已将正并于以及挺蛮说好想天上人家来去下里子自年今出老大手小回现看心"
    "时三次多开打己生晚跟发道经直十话事头真用起别周几每觉知问完做同第公刚全月前走住两面二明活候理结儿口作分外当"
    "半拿气机中间近电该五新高放整场意接方笑身安早边信成东片带比西算声哪受长突行难主哈实消始应情像找叫敢关进见快"
    "连常告推照眼报差听单动员四种加定期特提送息怕干句久日总办备反停末复名本站位解谁国条感法绪慌愁烦躁悲哀恨怒"
    "愧疚羞耻惧恐焦虑郁闷委屈孤独绝望失担忧紧张苦憋崩溃怨嫉妒兴喜乐静平松舒服需被肯认为觉得希望重新视"
)
_ZH_STOP_BIGRAMS = set(
    "因为 自己 觉得 一个 没有 什么 这个 那个 他们 我们 她们 你们 就是 不是 可是 但是 还是 已经 现在 时候 感觉 知道 "
    "这样 那样 怎么 一直 一下 有点 有些 一些 真的 其实 可能 应该 如果 然后 而且 只是 不会 不能 不要 想要 需要 希望 "
    "来访 访者 事情 东西 问题 情况 好像 似乎 确实 特别 非常 比较 总是 经常 每次 这种 那种 这些 那些 最近 今天 "
    "难过 伤心 焦虑 害怕 担心 生气 愤怒 委屈 孤独 内疚 羞耻 失望 绝望 痛苦 烦躁 紧张 情绪 心情 难受 郁闷 恐惧 不安 "
    "开心 高兴 感受 心里 有人 别人 人家 想法 觉到 知觉 自觉 真是 说话 说出 说明 出来 起来 下去 看到 看见 听到 "
    "感到 认为 以为 开始 一样 自我 心理 做法 办法".split()
)
_ZH_TOPIC_WORDS = [(w, t) for t, words in _ZH_TOPICS.items() for w in words.split()]


def _zh_units(text: str, people: set[str]) -> set[str]:
    """What a text is about: two-character words (neighbouring Han characters, not function pairs),
    single characters that are not common, Latin words, "%topic" and "@person" units."""
    out = {f"@{g}" for g in people}
    out |= {f"%{t}" for w, t in _ZH_TOPIC_WORDS if w in text}
    out |= {f"#{w.lower()}" for w in re.findall(r"[A-Za-z]{2,}", text)}
    for run in _HAN.findall(text):
        out.update(ch for ch in run if ch not in _ZH_COMMON)
        out.update(run[i : i + 4] for i in range(len(run) - 3))  # a phrase reused word for word
        for a, b in zip(run, run[1:], strict=False):
            if a + b not in _ZH_STOP_BIGRAMS and not (a in _ZH_COMMON and b in _ZH_COMMON):
                out.add(a + b)
    return out


# -- the check ---------------------------------------------------------------------------------

# Notes that say the cause is not known yet invent nothing.
_UNKNOWN_CAUSE = re.compile(
    r"\b(unclear|unknown|not (yet )?(clear|known|sure)|not said|hasn't said|has not said|doesn't say|does not say|"
    r"yet to (say|be)|too early|no cause)\b"
    r"|不清楚|尚不明确|还不明确|还不知道|尚不清楚|未说|没说|没有说|不明|待了解|还没说",
    re.IGNORECASE,
)
# Notes about what the client is doing in the session right now (proposing, agreeing, weighing)
# report the conversation, not a fact from the client's life.
_IN_SESSION = re.compile(
    r"\b(is|are|seems|feels) (now |more |starting to |beginning to )?(open|willing|ready) to\b|\b(has|have) "
    r"(just )?(come up with|named|found|agreed|chosen|offered|suggested|proposed)\b|\bcame up with\b|\bis weighing\b|"
    r"\bis considering\b|\bfirst step\b|愿意|想出了|找到了|说出了|提出了|开始尝试|迈出",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _client_facts(message: str, language: str) -> tuple[frozenset[str], frozenset[int], frozenset[str], frozenset[str]]:
    """What one client message offers as evidence: people (groups), numbers, units, words."""
    tokens = _en_tokens(message)
    people = {g for groups, _ in _en_people(tokens, _EN_EVIDENCE, notes=False) for g in groups}
    if language == "zh":
        people |= {g for groups, _ in _zh_people(message, notes=False) for g in groups}
        numbers = {v for v, _ in _zh_numbers(message)} | {v for v, _ in _en_numbers(tokens)}
        units = _zh_units(message, people)
    else:
        numbers = {v for v, _ in _en_numbers(tokens)}
        units = _en_units(tokens, people)
    return frozenset(people), frozenset(numbers), frozenset(units), frozenset(tokens)


def grounding_problems(cause: str, appraisal: str, need: str, client_said: list[str], language: str) -> list[str]:
    """Short reasons why the notes are not grounded in what the client has said ([] when they are).

    `client_said` is every client message of the session up to and including the one being answered.
    """
    zh = language == "zh"
    people: set[str] = set()
    numbers: set[int] = set()
    said_units: set[str] = set()
    said_words: set[str] = set()
    for message in client_said:
        p, n, u, w = _client_facts(message, "zh" if zh else "en")
        people |= p
        numbers |= n
        said_units |= u
        said_words |= w
    allowed = _close(people)
    said_units |= {f"@{g}" for g in allowed}

    problems: dict[str, list[str]] = {}  # problem -> the fields it was found in
    noted_units: set[str] = set()
    for field, text in (("cause", cause), ("appraisal", appraisal), ("need", need)):
        if not text.strip():
            continue
        found: list[str] = []
        tokens = _en_tokens(text)
        named = _en_people(tokens, _EN_TRIGGERS, notes=True) + (_zh_people(text, notes=True) if zh else [])
        found += [f"names '{_shown(word)}', which the client never mentioned" for groups, word in named
                  if not groups & allowed]  # fmt: skip
        found += [f"names '{name}', which the client never said" for name in _en_names(text)
                  if name.lower() not in said_words]  # fmt: skip
        found += [f"says '{written}', a number the client never said"
                  for value, written in (_zh_numbers(text) if zh else _en_numbers(tokens))
                  if not _number_said(value, written, numbers)]  # fmt: skip
        for problem in found:
            problems.setdefault(problem, []).append(field)
        mentioned = {g for groups, _ in _en_people(tokens, _EN_EVIDENCE, notes=False) for g in groups}
        if zh:
            mentioned |= {g for groups, _ in _zh_people(text, notes=False) for g in groups}
            noted_units |= _zh_units(text, mentioned)
        else:
            noted_units |= _en_units(tokens, mentioned)

    out = [f"{_listed(fields)}: {problem}" for problem, fields in problems.items()]
    if cause.strip() and not _UNKNOWN_CAUSE.search(cause) and not _IN_SESSION.search(cause):
        shared = noted_units & said_units if zh else _en_shares(noted_units, said_units)
        if not shared:
            out.append("cause, appraisal and need: share no words with what the client said")
    return out


def _shown(word: str) -> str:
    """A person word as the notes wrote it, not as normalised: mother-in-law, in-laws, ex-wife."""
    word = re.sub(r"(\w+)inlaw\b", r"\1-in-law", word)
    return re.sub(r"\binlaws\b", "in-laws", re.sub(r"\bex(wife|husband|boyfriend|girlfriend|partner)", r"ex-\1", word))


def _listed(fields: list[str]) -> str:
    return fields[0] if len(fields) == 1 else f"{', '.join(fields[:-1])} and {fields[-1]}"


def _number_said(value: int, written: str, said: set[int]) -> bool:
    if value in said:
        return True
    if written.endswith("ies"):  # "in her thirties": any age in that decade
        return any(value <= v < value + 10 for v in said)
    return False
