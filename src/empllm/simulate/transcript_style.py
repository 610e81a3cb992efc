"""The line format base models read and write: speakers, one-line notes, one-line client state.

    Client: I lost my job last week.
    Plan: Understand what the job meant to him; Explore his support
    Notes: emotion: shame | intensity: 7 | cause: ... | need: ... | risk: none | strategy: question | why: ...
    Counselor: That sounds like a heavy week. What has it been like at home?
    State: intensity: 6 | trust: 4 | reaction: ... | disclosed: ...
    Client: ...
    [Session ends]

A generation is primed with the first key of a line (`Notes: emotion:`) so even a 270M base
model stays in the format; the parse is forgiving about spacing and separators.
"""

from __future__ import annotations

from empllm.json_output import ParseError
from empllm.prompts import render
from empllm.record_labels import LABELS
from empllm.record_parsing import parse_kv_line
from empllm.types import ClientState, Contemplation


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def notes_line(c: Contemplation, lang: str) -> str:
    lab = LABELS[lang]
    values = c.model_dump(mode="json")
    return lab.notes + lab.colon + " | ".join(f"{label}: {_one_line(values[field])}" for field, label in lab.notes_keys)


def state_line(s: ClientState, lang: str) -> str:
    lab = LABELS[lang]
    parts = []
    for field, label in lab.state_keys:
        value = lab.list_sep.join(s.disclosed) if field == "disclosed" else getattr(s, field)
        parts.append(f"{label}: {_one_line(value) if value != '' else '-'}")
    return lab.state + lab.colon + " | ".join(parts)


def speaker_line(role: str, text: str, lang: str) -> str:
    lab = LABELS[lang]
    return (lab.client if role == "client" else lab.counselor) + lab.colon + _one_line(text)


def plan_line(goals: list[str], lang: str) -> str:
    lab = LABELS[lang]
    return lab.plan + lab.colon + lab.list_sep.join(_one_line(g) for g in goals)


_LIVE = "\x00live-session\x00"


def few_shot_prompt(
    template: str, lang: str, exemplar_blocks: list[str], live_head: str, live_rest: str, **values
) -> tuple[str, int]:
    """The transcript prompt (exemplar sessions, then the live one) and how many of its leading
    characters stay the same for every call of the session: the exemplars and `live_head` (say, the
    client's profile line). Backends that can keep an evaluated prefix reuse that part."""
    text = render(template, lang, blocks=[*exemplar_blocks, _LIVE], **values)
    cut = text.index(_LIVE)
    live = live_head + ("\n" if live_head and live_rest else "") + live_rest
    return text[:cut] + live, cut + len(live_head) + (1 if live_head and live_rest else 0)


def notes_primer(lang: str) -> str:
    """What a psychologist generation starts from: the notes label and its first key."""
    lab = LABELS[lang]
    return lab.notes + lab.colon + lab.notes_keys[0][1] + ":"


def state_primer(lang: str) -> str:
    lab = LABELS[lang]
    return lab.state + lab.colon + lab.state_keys[0][1] + ":"


def stops(lang: str, next_speaker: str) -> tuple[str, ...]:
    """Where a generation ends: the other speaker's next line, or the next session."""
    lab = LABELS[lang]
    label = lab.client if next_speaker == "client" else lab.counselor
    return (f"\n{label}{lab.colon.strip()}", "\n###", "\n\n\n")


def _strip_label(line: str, label: str) -> str | None:
    for colon in (":", "："):
        if line.startswith(label + colon):
            return line[len(label) + 1 :].strip()
    return None


def _split_at_speaker(lines: list[str], label: str) -> tuple[str, str | None, int]:
    """Lines before the first `label:` line joined (a base model may wrap its notes), that
    speaker's text, and the speaker line's index (-1 when absent)."""
    for i, line in enumerate(lines):
        said = _strip_label(line, label)
        if said is not None and i > 0:
            return " ".join(lines[:i]), said, i
    return " ".join(lines), None, -1


def _line_and_speaker(
    primer: str, generated: str, line_label: str, speaker: str, keys
) -> tuple[dict, str | None, list[str], int]:
    """The fields of the labelled line (wrapped lines joined) and what `speaker` said after it,
    plus the output's lines and the speaker line's index. Shared by both parsers below."""
    lines = [ln.strip() for ln in (primer + generated).split("\n") if ln.strip()]
    head, said, at = _split_at_speaker(lines, speaker)
    text = _strip_label(head, line_label)
    if text is None:
        raise ParseError(f"the '{line_label}' line is missing")
    names = {label: field for field, label in keys}
    return {names.get(k, k): v for k, v in parse_kv_line(text).items()}, said, lines, at


def parse_psychologist_output(primer: str, generated: str, lang: str) -> tuple[dict, str]:
    """Notes fields and the reply from `primer + generated` (notes line, then the reply line)."""
    lab = LABELS[lang]
    fields, reply, _, _ = _line_and_speaker(primer, generated, lab.notes, lab.counselor, lab.notes_keys)
    if not reply:
        raise ParseError(f"no '{lab.counselor}' reply after the notes")
    return fields, reply


def parse_client_output(primer: str, generated: str, lang: str) -> tuple[dict, str, bool]:
    """State fields, the message, and whether the client ended the session."""
    lab = LABELS[lang]
    fields, message, lines, at = _line_and_speaker(primer, generated, lab.state, lab.client, lab.state_keys)
    if message is None:
        raise ParseError(f"no '{lab.client}' message after the state line")
    ended = any(lab.end in ln for ln in lines[at:])
    message = message.replace(lab.end, "").strip()
    if not message:
        raise ParseError("the client's message is empty")
    if fields.get("disclosed") in ("-", ""):
        fields["disclosed"] = []
    return fields, message, ended


# -- grammars: the same line format as GBNF, for constrained decoding on llama.cpp -----------------


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _alternatives(values) -> str:
    return " | ".join(_lit(v) for v in values)


_COMMON_RULES = (
    'score ::= "10" | [0-9]\n'
    "text ::= [^|｜\\n]{1,160}\n"  # one field: no separators, no line breaks, bounded
    "said ::= [^\\n]{1,600}\n"
)


def notes_grammar(lang: str) -> str:
    """The rest of a notes line after the primer, then the counselor's reply line."""
    from empllm.types import Emotion, RiskLevel, Strategy

    lab = LABELS[lang]
    kinds = {"emotion": "emotion", "intensity": "score", "risk_level": "risk", "strategy": "strategy"}
    parts = []
    for i, (field, label) in enumerate(lab.notes_keys):
        prefix = " " if i == 0 else f" | {label}: "
        parts.append(f"{_lit(prefix)} {kinds.get(field, 'text')}")
    reply = _lit("\n" + lab.counselor + lab.colon)
    return (
        f"root ::= {' '.join(parts)} {reply} said {_lit(chr(10))}\n"
        f"emotion ::= {_alternatives(e.value for e in Emotion)}\n"
        f"risk ::= {_alternatives(r.value for r in RiskLevel)}\n"
        f"strategy ::= {_alternatives(s.value for s in Strategy)}\n" + _COMMON_RULES
    )


def state_grammar(lang: str, *, can_end: bool) -> str:
    """The rest of a state line after the primer, the client's message, and maybe the end marker."""
    lab = LABELS[lang]
    kinds = {"emotion_intensity": "score", "trust": "score"}
    parts = []
    for i, (field, label) in enumerate(lab.state_keys):
        prefix = " " if i == 0 else f" | {label}: "
        parts.append(f"{_lit(prefix)} {kinds.get(field, 'text')}")
    message = _lit("\n" + lab.client + lab.colon)
    ending = f" ({_lit(chr(10) + lab.end)})?" if can_end else ""
    return f"root ::= {' '.join(parts)} {message} said{ending} {_lit(chr(10))}\n" + _COMMON_RULES


def notes_fields(primer: str, generated: str, lang: str) -> tuple[dict[str, str], str | None]:
    """The notes fields a base model wrote (by Contemplation field name, in order) and its reply
    line if it wrote one; unlike parse_psychologist_output this never raises."""
    lab = LABELS[lang]
    lines = [ln.strip() for ln in (primer + generated).split("\n") if ln.strip()]
    head, reply, _ = _split_at_speaker(lines, lab.counselor)
    notes_text = _strip_label(head, lab.notes) or ""
    keys = {label: field for field, label in lab.notes_keys}
    fields = {keys.get(k, k): v for k, v in parse_kv_line(notes_text).items() if v.strip()}
    return fields, reply


def notes_text_from_fields(fields: dict[str, str], lang: str) -> str:
    """`Notes: k: v | k: v ...` for the fields present, in the canonical order."""
    lab = LABELS[lang]
    parts = [f"{label}: {_one_line(fields[field])}" for field, label in lab.notes_keys if field in fields]
    return lab.notes + lab.colon + " | ".join(parts)


def missing_note_labels(fields: dict[str, str], lang: str) -> list[str]:
    return [label for field, label in LABELS[lang].notes_keys if field not in fields]
