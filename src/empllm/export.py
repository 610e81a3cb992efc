"""`empllm export IN OUT`: curated sessions -> training data (OpenAI JSONL, ShareGPT or Alpaca for
LLaMA-Factory, a Hugging Face `datasets` folder), split by persona, with a dataset card.

The client is the user and the psychologist the assistant. The contemplation is dropped, rendered
as `<think>…</think>` before each reply, or kept as the assistant message's `reasoning` field.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from empllm import __version__
from empllm.contemplation_text import render_contemplation, render_think
from empllm.errors import EmpLLMError
from empllm.hub_card import front_matter
from empllm.jsonl_store import write_text_atomic
from empllm.session_view import iter_sessions
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


def validation_personas(personas: set[str], validation: float, seed: int) -> set[str]:
    """The personas held out for validation. At least one when there are two or more."""
    ordered = sorted(personas)
    random.Random(seed).shuffle(ordered)
    n_val = 0 if validation <= 0 or len(ordered) < 2 else max(1, round(len(ordered) * validation))
    return set(ordered[:n_val])


def split_by_persona(sessions: list[Session], validation: float, seed: int) -> dict[str, list[Session]]:
    """No persona in both splits."""
    val = validation_personas({s.persona_id for s in sessions}, validation, seed)
    return {"train": [s for s in sessions if s.persona_id not in val],
            "validation": [s for s in sessions if s.persona_id in val]}  # fmt: skip


def _sharegpt(s: Session, msgs: list[dict]) -> dict:
    role = {"user": "human", "assistant": "gpt"}
    return {"id": s.id, "conversations": [{"from": role[m["role"]], "value": m["content"]} for m in msgs]}


def _alpaca(s: Session, msgs: list[dict]) -> list[dict]:
    """One example per assistant reply, with the earlier exchanges as `history`."""
    out = []
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
    personas = {s.persona_id for s in iter_sessions(in_path)}  # a first pass: which personas validate
    if not personas:
        raise EmpLLMError(f"{in_path} holds no sessions")
    out_dir.mkdir(parents=True, exist_ok=True)
    held_out = validation_personas(personas, validation, seed)
    stats = ExportStats()
    writers: dict[str, _SplitWriter] = {}
    try:
        for session in iter_sessions(in_path):  # the second pass writes as it reads: memory stays flat
            split = "validation" if session.persona_id in held_out else "train"
            stats.add(split, session)
            messages = session_messages(session, mode, reasoning_key)
            if messages:
                if split not in writers:
                    writers[split] = _SplitWriter(out_dir, split, fmt)
                writers[split].write(session, messages)
    except BaseException:
        for writer in writers.values():
            writer.discard()  # an earlier export in OUT stays as it was
        raise
    files = {split: writer.close() for split, writer in writers.items()}
    if fmt == "hf":
        files = _save_hf(out_dir, files)
    if fmt in ("sharegpt", "alpaca"):
        _write_json(out_dir / "dataset_info.json", _dataset_info(name, fmt, files))
    info = _describe(in_path, stats, fmt, mode, files, reasoning_key)
    _write_json(out_dir / "export.json", info)
    (out_dir / "README.md").write_text(dataset_card(info), encoding="utf-8")
    return info


class _SplitWriter:
    """One split's file, written a session at a time and put in place on close. hf splits go
    through a JSONL file that `datasets` turns into arrow (_save_hf)."""

    def __init__(self, out_dir: Path, split: str, fmt: str):
        self.fmt = fmt
        suffix = ".json" if fmt in ("sharegpt", "alpaca") else ".jsonl"
        self.path = out_dir / (f"{split}{suffix}" if fmt != "hf" else f".{split}.hf.jsonl")
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.file = self.partial.open("w", encoding="utf-8")
        self.items = 0
        if fmt in ("sharegpt", "alpaca"):
            self.file.write("[")

    def _item(self, item: dict) -> None:
        if self.fmt in ("sharegpt", "alpaca"):  # a JSON array, one element per line
            self.file.write(("," if self.items else "") + "\n" + json.dumps(item, ensure_ascii=False))
        else:
            self.file.write(json.dumps(item, ensure_ascii=False) + "\n")
        self.items += 1

    def write(self, session: Session, messages: list[dict]) -> None:
        if self.fmt == "openai":
            self._item({"messages": messages})
        elif self.fmt == "sharegpt":
            self._item(_sharegpt(session, messages))
        elif self.fmt == "alpaca":
            for row in _alpaca(session, messages):
                self._item(row)
        else:
            self._item({"id": session.id, "persona_id": session.persona_id, "language": session.language,
                        "messages": messages})  # fmt: skip

    def discard(self) -> None:
        self.file.close()
        self.partial.unlink(missing_ok=True)

    def close(self) -> str:
        if self.fmt in ("sharegpt", "alpaca"):
            self.file.write("\n]\n")
        self.file.close()
        self.partial.replace(self.path)
        return self.path.name


def _save_hf(out_dir: Path, files: dict[str, str]) -> dict[str, str]:
    """The hf splits as a `datasets` folder (arrow), built from their JSONL files without holding them."""
    from datasets import DatasetDict, load_dataset

    cache = out_dir / ".hf-cache"
    splits = load_dataset("json", data_files={split: str(out_dir / name) for split, name in files.items()},
                          cache_dir=str(cache))  # fmt: skip
    DatasetDict(dict(splits)).save_to_disk(str(out_dir / "hf"))
    for name in files.values():
        (out_dir / name).unlink()
    shutil.rmtree(cache, ignore_errors=True)
    return {split: f"hf/{split}" for split in files}


class ExportStats:
    """What the dataset card and export.json say about the sessions, counted as they stream by."""

    def __init__(self):
        self.sessions: Counter = Counter()
        self.personas: dict[str, set] = {}
        self.languages: Counter = Counter()
        self.strategies: Counter = Counter()
        self.emotions: Counter = Counter()
        self.assistant_turns = 0
        self.models: set[str] = set()
        self.config_hashes: set[str] = set()
        self.prompts_versions: set[str] = set()

    def add(self, split: str, s: Session) -> None:
        self.sessions[split] += 1
        self.personas.setdefault(split, set()).add(s.persona_id)
        self.languages[s.language] += 1
        for t in s.turns:
            if t.role == "psychologist" and t.contemplation:
                self.assistant_turns += 1
                self.strategies[t.contemplation.strategy.value] += 1
                self.emotions[t.contemplation.emotion.value] += 1
        self.models |= {f"{role}: {spec}" for role, spec in s.models.items()}
        self.config_hashes.add(s.config_hash)
        self.prompts_versions.add(s.prompts_version)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _describe(in_path: Path, stats: ExportStats, fmt, mode, files, reasoning_key) -> dict:
    folder = in_path if in_path.is_dir() else in_path.parent
    curate = _read_json(folder / "curate.json")
    run = None
    if curate:  # the simulation run the curated sessions came from
        first_input = Path(curate.get("input", [""])[0])
        run = _read_json(first_input.parent / "run.json")
    run = run or _read_json(folder / "run.json")
    splits = ("train", "validation")
    return {
        "format": fmt, "contemplation": mode, "files": files, "source": str(in_path),
        "reasoning_key": reasoning_key if mode == "field" else None,
        "sessions": {split: stats.sessions[split] for split in splits},
        "personas": {split: len(stats.personas.get(split, ())) for split in splits},
        "assistant_turns": stats.assistant_turns,
        "languages": dict(stats.languages),
        "strategies": dict(stats.strategies.most_common()),
        "emotions": dict(stats.emotions.most_common()),
        "models": sorted(stats.models),
        "config_hashes": sorted(stats.config_hashes),
        "prompts_versions": sorted(stats.prompts_versions),
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
