"""`empllm export IN OUT`: curated sessions -> training data (OpenAI JSONL, ShareGPT or Alpaca for
LLaMA-Factory, a Hugging Face `datasets` folder), split by persona, with a dataset card.

The client is the user and the psychologist the assistant. The contemplation is dropped, rendered
as `<think>…</think>` before each reply, or kept as the assistant message's `reasoning` field.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from empllm import __version__
from empllm.contemplation_text import render_contemplation, render_think
from empllm.errors import EmpLLMError
from empllm.hub_card import front_matter
from empllm.jsonl_store import write_text_atomic
from empllm.session_view import load_sessions
from empllm.types import Session

Format = Literal["openai", "sharegpt", "alpaca", "hf"]
ContemplationMode = Literal["drop", "think", "field"]
FORMATS = ("openai", "sharegpt", "alpaca", "hf")
MODES = ("drop", "think", "field")


REASONING_KEYS = ("reasoning", "reasoning_content")  # what chat templates and servers read


def session_messages(session: Session, mode: ContemplationMode, reasoning_key: str = "reasoning") -> list[dict]:
    """OpenAI-style messages; a trailing client message (nothing answers it) is left out.
    With mode `field` the contemplation goes in `reasoning_key` beside the reply."""
    messages = []
    for i, turn in enumerate(session.turns):
        if turn.role == "client":
            messages.append({"role": "user", "content": turn.content})
            continue
        if turn.parse_error or (mode != "drop" and turn.contemplation is None):
            raise EmpLLMError(f"session {session.id} turn {i}: no contemplation to export (curate the sessions first)")
        if mode == "think":
            messages.append(
                {"role": "assistant", "content": render_think(turn.contemplation, turn.content, session.language)}
            )
        elif mode == "field":
            reasoning = render_contemplation(turn.contemplation, session.language)
            messages.append({"role": "assistant", "content": turn.content, reasoning_key: reasoning})
        else:
            messages.append({"role": "assistant", "content": turn.content})
    while messages and messages[-1]["role"] == "user":
        messages.pop()
    return messages


def split_by_persona(sessions: list[Session], validation: float, seed: int) -> dict[str, list[Session]]:
    """No persona in both splits. At least one validation persona when there are two or more."""
    personas = sorted({s.persona_id for s in sessions})
    random.Random(seed).shuffle(personas)
    n_val = 0 if validation <= 0 or len(personas) < 2 else max(1, round(len(personas) * validation))
    val = set(personas[:n_val])
    return {"train": [s for s in sessions if s.persona_id not in val],
            "validation": [s for s in sessions if s.persona_id in val]}  # fmt: skip


def _sharegpt(rows: list[tuple[Session, list[dict]]]) -> list[dict]:
    role = {"user": "human", "assistant": "gpt"}
    return [{"id": s.id, "conversations": [{"from": role[m["role"]], "value": m["content"]} for m in msgs]}
            for s, msgs in rows]  # fmt: skip


def _alpaca(rows: list[tuple[Session, list[dict]]]) -> list[dict]:
    """One example per assistant reply, with the earlier exchanges as `history`."""
    out = []
    for s, msgs in rows:
        history: list[list[str]] = []
        for user, assistant in zip(msgs[0::2], msgs[1::2], strict=False):
            out.append({"instruction": user["content"], "input": "", "output": assistant["content"],
                        "history": [list(h) for h in history], "id": s.id})  # fmt: skip
            history.append([user["content"], assistant["content"]])
    return out


def _dataset_info(name: str, fmt: str, files: dict[str, str]) -> dict:
    if fmt == "sharegpt":
        tags = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
        entry = {"formatting": "sharegpt", "columns": {"messages": "conversations"}, "tags": tags}
    else:
        entry = {"columns": {"prompt": "instruction", "query": "input", "response": "output", "history": "history"}}
    return {f"{name}_{split}": {"file_name": file, **entry} for split, file in files.items()}


def _write_json(path: Path, data) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def export_dataset(
    in_path: Path, out_dir: Path, *, fmt: Format, mode: ContemplationMode, validation: float = 0.1, seed: int = 0,
    name: str = "empllm", reasoning_key: str = "reasoning",
) -> dict:  # fmt: skip
    if reasoning_key not in REASONING_KEYS:
        raise EmpLLMError(f"--reasoning-key {reasoning_key!r}: expected one of {', '.join(REASONING_KEYS)}")
    if fmt not in FORMATS:
        raise EmpLLMError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if mode not in MODES:
        raise EmpLLMError(f"--contemplation {mode!r}: expected one of {', '.join(MODES)}")
    if mode == "field" and fmt in ("sharegpt", "alpaca"):
        raise EmpLLMError(
            f"--contemplation field needs --format openai or hf ({fmt} has no reasoning field); use think"
        )
    sessions = load_sessions(in_path)
    if not sessions:
        raise EmpLLMError(f"{in_path} holds no sessions")
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = split_by_persona(sessions, validation, seed)
    rows = {split: [(s, session_messages(s, mode, reasoning_key)) for s in ss] for split, ss in splits.items()}
    rows = {split: [(s, m) for s, m in r if m] for split, r in rows.items() if r}
    files: dict[str, str] = {}
    if fmt == "hf":
        from datasets import Dataset, DatasetDict

        def records(r):
            return [{"id": s.id, "persona_id": s.persona_id, "language": s.language, "messages": m} for s, m in r]

        DatasetDict({split: Dataset.from_list(records(r)) for split, r in rows.items()}).save_to_disk(
            str(out_dir / "hf")
        )
        files = {split: f"hf/{split}" for split in rows}
    for split, r in rows.items():
        if fmt == "openai":
            path = out_dir / f"{split}.jsonl"
            write_text_atomic(path, "".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n" for _, m in r))
            files[split] = path.name
        elif fmt in ("sharegpt", "alpaca"):
            path = out_dir / f"{split}.json"
            _write_json(path, _sharegpt(r) if fmt == "sharegpt" else _alpaca(r))
            files[split] = path.name
    if fmt in ("sharegpt", "alpaca"):
        _write_json(out_dir / "dataset_info.json", _dataset_info(name, fmt, files))
    info = _describe(in_path, sessions, splits, fmt, mode, files, reasoning_key)
    _write_json(out_dir / "export.json", info)
    (out_dir / "README.md").write_text(dataset_card(info), encoding="utf-8")
    return info


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _describe(in_path: Path, sessions, splits, fmt, mode, files, reasoning_key) -> dict:
    folder = in_path if in_path.is_dir() else in_path.parent
    curate = _read_json(folder / "curate.json")
    run = None
    if curate:  # the simulation run the curated sessions came from
        first_input = Path(curate.get("input", [""])[0])
        run = _read_json(first_input.parent / "run.json")
    run = run or _read_json(folder / "run.json")
    replies = [t for s in sessions for t in s.turns if t.role == "psychologist" and t.contemplation]
    return {
        "format": fmt, "contemplation": mode, "files": files, "source": str(in_path),
        "reasoning_key": reasoning_key if mode == "field" else None,
        "sessions": {split: len(ss) for split, ss in splits.items()},
        "personas": {split: len({s.persona_id for s in ss}) for split, ss in splits.items()},
        "assistant_turns": len(replies),
        "languages": dict(Counter(s.language for s in sessions)),
        "strategies": dict(Counter(t.contemplation.strategy.value for t in replies).most_common()),
        "emotions": dict(Counter(t.contemplation.emotion.value for t in replies).most_common()),
        "models": sorted({f"{role}: {spec}" for s in sessions for role, spec in s.models.items()}),
        "config_hashes": sorted({s.config_hash for s in sessions}),
        "prompts_versions": sorted({s.prompts_version for s in sessions}),
        "curation": curate and {"config": curate.get("config"), "summary": curate.get("summary")},
        "simulation": run and {"config_hash": run.get("config_hash"), "config": run.get("config")},
        "empllm_version": __version__, "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip


def dataset_card(info: dict) -> str:
    def table(d: dict) -> str:
        return "\n".join(f"| {k} | {v} |" for k, v in d.items()) or "| - | - |"

    curation = info.get("curation") or {}
    summary = curation.get("summary") or {}
    filters = "not curated with empllm curate"
    if summary:
        filters = (f"{summary.get('total')} simulated sessions in, {summary.get('kept')} kept; dropped by filter: "
                   f"{summary.get('dropped_by')}; reason codes: {summary.get('codes')}")  # fmt: skip
    # the Hub's front-matter: hf exports are save_to_disk folders, read back through their arrow files
    data_files = [{"split": split, "path": f"{path}/*.arrow" if info["format"] == "hf" else path}
                  for split, path in info["files"].items()]  # fmt: skip
    card = front_matter(pretty_name="EmpLLM counseling dataset", languages=list(info["languages"]),
                        task_categories=["text-generation"], tags=["empathy", "counseling", "synthetic", "empllm"],
                        size=sum(info["sessions"].values()),
                        configs=[{"config_name": "default", "data_files": data_files}])  # fmt: skip
    return (
        card
        + f"""# EmpLLM counseling dataset

Simulated psychologist–client sessions made with EmpLLM: a client agent plays a persona card, a
psychologist agent writes a private inner contemplation before each reply. The client is the
`user`, the psychologist the `assistant`.

- Format: **{info["format"]}** ({", ".join(f"{k}: `{v}`" for k, v in info["files"].items())})
- Contemplation: **{info["contemplation"]}** (drop: replies only; think: `<think>…</think>` before each
  reply; field: the assistant message's `{info["reasoning_key"] or "reasoning"}`)
- Split by persona (no persona in both): {info["sessions"]} sessions, {info["personas"]} personas
- Assistant turns: {info["assistant_turns"]}
- Languages: {info["languages"]}

## Strategies used (ESConv taxonomy)

| strategy | replies |
| --- | --- |
{table(info["strategies"])}

## Emotions perceived

| emotion | replies |
| --- | --- |
{table(info["emotions"])}

## Filters applied

{filters}

## Provenance

- Models: {", ".join(info["models"])}
- Simulation config hashes: {", ".join(info["config_hashes"])}; prompt versions: {", ".join(info["prompts_versions"])}
- Source: `{info["source"]}`; EmpLLM {info["empllm_version"]}; exported {info["created"]}

## Intended use and limits

For research on empathetic and supportive dialogue. The sessions are synthetic: they are not real
clients or real therapy, and a model trained on them is not a substitute for a professional. Text
generated by a Gemma model falls under the Gemma Terms of Use.
"""
    )
