"""Crafted sessions for curation tests."""

from empllm.types import ClientState, Contemplation, Session, Turn

NOTES = dict(emotion="sadness", intensity=6, cause="Her dog died last week.", appraisal="She thinks she should be over it.",
             unmet_need="Permission to grieve.", risk_level="none", strategy="reflection_of_feelings",
             rationale="Name the feeling first.")  # fmt: skip
NOTES_ZH = {**NOTES, "cause": "她的狗上周走了", "appraisal": "她觉得自己早该走出来", "unmet_need": "允许自己难过",
            "rationale": "先说出她的感受"}  # fmt: skip
GOOD_EN = [
    "I lost Biscuit last week and I keep expecting to hear her at the door.",
    "It sounds like the house feels different without her, like the quiet keeps reminding you.",
    "Yes. Everyone says she was just a dog.",
    "And when people say that, it can feel like your grief isn't allowed. What was she to you?",
    "She was with me through my divorce. Thank you, that helps.",
]
GOOD_ZH = [
    "我家的狗上周走了，我总觉得还能听到它在门口叫。",
    "它不在了，家里安静得让人难受，好像每个角落都在提醒你。",
    "是啊，别人都说不过是一条狗。",
    "听到这种话，会觉得自己的难过好像不被允许。它对你来说意味着什么？",
    "它陪我熬过了离婚。谢谢你，这样说我好受一点。",
]


def make_session(texts=None, *, sid="s1", lang="en", notes=None, outcome="client_ended", persona_id="p1") -> Session:
    texts = texts or (GOOD_EN if lang == "en" else GOOD_ZH)
    turns = []
    for i, text in enumerate(texts):
        if i % 2 == 0:
            turns.append(Turn(role="client", content=text, client_state=ClientState(emotion_intensity=6, trust=4)))
        else:
            c = Contemplation(**{**(NOTES if lang == "en" else NOTES_ZH), **(notes or {})})
            turns.append(Turn(role="psychologist", content=text, contemplation=c))
    return Session(id=sid, persona_id=persona_id, language=lang, stance="person_centred", seed=0, config_hash="h",
                   prompts_version="p", models={"client": "c", "psychologist": "p"}, created="2026-11-25T00:00:00+00:00",
                   empllm_version="t", turns=turns, outcome=outcome)  # fmt: skip
