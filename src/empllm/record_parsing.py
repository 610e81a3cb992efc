"""Turn model output into contemplations and client states, forgivingly but never silently.

Both prompt styles end here: chat models answer JSON (repaired with json-repair), base models
write `key: value | key: value` lines. Values are coerced (\"7/10\" -> 7, \"reflection\" ->
reflection_of_feelings, 焦虑 -> anxiety); what cannot be coerced raises ParseError, and the caller
retries or records the raw text with the error.
"""

from __future__ import annotations

import difflib
import re

from pydantic import ValidationError

from empllm.errors import first_problem
from empllm.json_output import ParseError
from empllm.types import ClientState, Contemplation, Emotion, RiskLevel, Strategy

# Field names as models write them (en, zh, and common variants) -> schema field.
CONTEMPLATION_KEYS = {
    "emotion": "emotion", "情绪": "emotion", "feeling": "emotion",
    "intensity": "intensity", "强度": "intensity",
    "cause": "cause", "原因": "cause",
    "appraisal": "appraisal", "评价": "appraisal", "看法": "appraisal",
    "need": "unmet_need", "unmet_need": "unmet_need", "unmet need": "unmet_need", "需要": "unmet_need",
    "risk": "risk_level", "risk_level": "risk_level", "风险": "risk_level",
    "strategy": "strategy", "策略": "strategy",
    "why": "rationale", "rationale": "rationale", "理由": "rationale", "reason": "rationale",
    "notes": "notes", "备注": "notes",
}  # fmt: skip
STATE_KEYS = {
    "intensity": "emotion_intensity", "emotion_intensity": "emotion_intensity", "强度": "emotion_intensity",
    "trust": "trust", "信任": "trust",
    "reaction": "reaction", "反应": "reaction",
    "disclosed": "disclosed", "已说出": "disclosed",
}  # fmt: skip

EMOTION_ALIASES = {
    "depression": "sadness", "depressed": "sadness", "upset": "sadness", "nervous": "anxiety",
    "sad": "sadness", "anxious": "anxiety", "worry": "anxiety", "worried": "anxiety", "stress": "overwhelm",
    "stressed": "overwhelm", "overwhelmed": "overwhelm", "afraid": "fear", "scared": "fear", "angry": "anger",
    "frustrated": "frustration", "ashamed": "shame", "guilty": "guilt", "lonely": "loneliness",
    "hopeless": "hopelessness", "despair": "hopelessness", "disappointed": "disappointment",
    "jealous": "jealousy", "confused": "confusion", "numb": "numbness", "hurt": "hurt",
    "resentful": "resentment", "relieved": "relief", "hopeful": "hope", "calm": "calm",
    "悲伤": "sadness", "难过": "sadness", "伤心": "sadness", "焦虑": "anxiety", "担心": "anxiety",
    "恐惧": "fear", "害怕": "fear", "愤怒": "anger", "生气": "anger", "沮丧": "frustration", "挫败": "frustration",
    "羞耻": "shame", "内疚": "guilt", "愧疚": "guilt", "孤独": "loneliness", "孤单": "loneliness",
    "哀伤": "grief", "悲痛": "grief", "绝望": "hopelessness", "无助": "hopelessness", "压力": "overwhelm",
    "不堪重负": "overwhelm", "失望": "disappointment", "嫉妒": "jealousy", "困惑": "confusion",
    "麻木": "numbness", "受伤": "hurt", "委屈": "hurt", "怨恨": "resentment", "放松": "relief", "希望": "hope",
    "平静": "calm",
}  # fmt: skip
STRATEGY_ALIASES = {
    "questions": "question", "asking": "question", "提问": "question",
    "paraphrase": "restatement", "paraphrasing": "restatement", "restatement_or_paraphrasing": "restatement",
    "复述": "restatement",
    "reflection": "reflection_of_feelings", "reflecting_feelings": "reflection_of_feelings",
    "reflection_of_feeling": "reflection_of_feelings", "情感反映": "reflection_of_feelings",
    "disclosure": "self_disclosure", "自我表露": "self_disclosure",
    "affirmation": "affirmation_and_reassurance", "reassurance": "affirmation_and_reassurance",
    "affirmation_reassurance": "affirmation_and_reassurance", "肯定与安慰": "affirmation_and_reassurance",
    "suggestion": "providing_suggestions", "suggestions": "providing_suggestions",
    "providing_suggestion": "providing_suggestions", "建议": "providing_suggestions",
    "providing_information": "information", "info": "information", "信息": "information", "其他": "other",
}  # fmt: skip
RISK_ALIASES = {
    "no": "none", "n/a": "none", "moderate": "elevated", "medium": "elevated", "high": "elevated",
    "severe": "crisis", "imminent": "crisis", "acute": "crisis",
    "无": "none", "没有": "none", "低": "low", "中": "elevated", "较高": "elevated", "高": "elevated", "危机": "crisis",
}  # fmt: skip


def _norm(value: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(value).strip().strip(".。").lower())


def _stem_match(key: str, enum: type) -> str | None:
    """The one label whose word stem (first 6 letters of a word of 6 or more) the value contains:
    "reaffirming" -> affirmation_and_reassurance, "suggestion" -> providing_suggestions."""
    hits = {e.value for e in enum for word in e.value.split("_") if len(word) >= 6 and word[:6] in key}
    return hits.pop() if len(hits) == 1 else None


def _enum(value: object, enum: type, aliases: dict[str, str], what: str):
    key = _norm(value)
    key = aliases.get(key, aliases.get(str(value).strip(), key))
    try:
        return enum(key)
    except ValueError:
        pass
    # a small model's near-miss of a label; a value that matches no label, or several, is rejected
    close = difflib.get_close_matches(key, [e.value for e in enum] + list(aliases), n=1, cutoff=0.8)
    found = (aliases.get(close[0], close[0]) if close else None) or _stem_match(key, enum)
    if found is None:
        raise ParseError(f"{what} {value!r} is not one of {', '.join(e.value for e in enum)}")
    return enum(found)


def strategy_label(value: object) -> str | None:
    """The strategy label a written value names (near misses included), or None."""
    try:
        return _enum(value, Strategy, STRATEGY_ALIASES, "strategy").value
    except ParseError:
        return None


def _score(value: object, what: str) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(0, min(10, round(value)))
    match = re.search(r"\d+(?:\.\d+)?", str(value))
    if not match:
        raise ParseError(f"{what} {value!r} is not a number from 0 to 10")
    return max(0, min(10, round(float(match.group()))))


def _rename(fields: dict, keys: dict[str, str]) -> dict:
    out = {}
    for k, v in fields.items():
        name = keys.get(str(k).strip().lower()) or keys.get(str(k).strip())
        if name and name not in out:
            out[name] = v
    return out


def parse_kv_line(text: str) -> dict[str, str]:
    """`key: value | key: value` (ASCII or full-width separators) -> dict, in order."""
    fields: dict[str, str] = {}
    for part in re.split(r"\s*[|｜]\s*", text.strip()):
        match = re.match(r"([^:：]+?)\s*[:：]\s*(.*)$", part.strip(), re.S)
        if match:
            fields.setdefault(match.group(1).strip(), match.group(2).strip())
    return fields


def parse_contemplation(fields: dict) -> Contemplation:
    data = _rename(fields, CONTEMPLATION_KEYS)
    required = ["emotion", "intensity", "cause", "appraisal", "unmet_need", "risk_level", "strategy", "rationale"]
    missing = [k for k in required if not str(data.get(k, "")).strip()]
    if missing:
        raise ParseError(f"contemplation is missing {', '.join(missing)}")
    data["emotion"] = _enum(data["emotion"], Emotion, EMOTION_ALIASES, "emotion")
    data["intensity"] = _score(data["intensity"], "intensity")
    data["risk_level"] = _enum(data["risk_level"], RiskLevel, RISK_ALIASES, "risk level")
    data["strategy"] = _enum(data["strategy"], Strategy, STRATEGY_ALIASES, "strategy")
    for key in ("cause", "appraisal", "unmet_need", "rationale", "notes"):
        if key in data:
            data[key] = str(data[key]).strip()
    try:
        return Contemplation.model_validate(data)
    except ValidationError as exc:
        raise ParseError(f"contemplation: {first_problem(exc)[1]}") from None


def parse_client_state(fields: dict, previous: ClientState) -> ClientState:
    """A state from the model's fields; `disclosed` only grows (what was said cannot be unsaid)."""
    data = _rename(fields, STATE_KEYS)
    for key in ("emotion_intensity", "trust"):
        if key not in data or str(data[key]).strip() == "":
            raise ParseError(f"client state is missing {key}")
        data[key] = _score(data[key], key)
    disclosed = data.get("disclosed") or []
    if isinstance(disclosed, str):
        disclosed = [d.strip() for d in re.split(r"[;；]", disclosed) if d.strip() and d.strip() not in {"-", "无"}]
    return ClientState(
        emotion_intensity=data["emotion_intensity"],
        trust=data["trust"],
        disclosed=[*previous.disclosed, *[str(d) for d in disclosed]],
        reaction=str(data.get("reaction", "")).strip(),
    )
