"""Training data for SFT: conversations from `empllm export` (OpenAI JSONL or an HF folder),
with the contemplation kept as `<think>…</think>` or dropped."""

from __future__ import annotations

from pathlib import Path

from empllm.contemplation_text import THINK_CLOSE, THINK_OPEN, split_think
from empllm.errors import EmpLLMError
from empllm.jsonl_store import read_jsonl


def _conversation(messages: list[dict], mode: str, where: str) -> list[dict]:
    out = []
    for m in messages:
        role, content = m.get("role"), m.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise EmpLLMError(f"{where}: expected messages with role system/user/assistant and text content")
        if role == "assistant":
            notes, reply = split_think(content)
            notes = notes if notes is not None else m.get("reasoning")
            content = f"{THINK_OPEN}\n{notes}\n{THINK_CLOSE}\n\n{reply}" if mode == "think" and notes else reply
        out.append({"role": role, "content": content})
    if not any(m["role"] == "assistant" for m in out):
        raise EmpLLMError(f"{where}: a conversation with no assistant message")
    return out


def _jsonl_rows(path: Path) -> list[dict]:
    rows = []
    for i, row in enumerate(read_jsonl(path), 1):
        if not isinstance(row.get("messages"), list):
            raise EmpLLMError(f'{path} record {i}: expected {{"messages": [...]}} (OpenAI fine-tuning format)')
        rows.append({"messages": row["messages"], "_where": f"{path} record {i}"})
    return rows


def load_training_data(data: Path, mode: str) -> dict[str, list[dict]]:
    """{'train': [...], 'validation': [...]} of {'messages': [...]} rows."""
    if mode not in ("think", "drop"):
        raise EmpLLMError(f"--contemplation {mode!r}: expected think or drop")
    if data.is_file():
        splits = {"train": _jsonl_rows(data)}
    elif (data / "train.jsonl").is_file():
        splits = {name: _jsonl_rows(data / f"{name}.jsonl") for name in ("train", "validation")
                  if (data / f"{name}.jsonl").is_file()}  # fmt: skip
    elif (data / "hf").is_dir():
        from datasets import load_from_disk

        ds = load_from_disk(str(data / "hf"))
        splits = {
            name: [{"messages": r["messages"], "_where": f"{data} {name} row {i}"} for i, r in enumerate(ds[name])]
            for name in ds
        }
    else:
        raise EmpLLMError(f"{data}: expected an OpenAI JSONL file or an `empllm export` folder (train.jsonl or hf/)")
    out = {}
    for name, rows in splits.items():
        out[name] = [{"messages": _conversation(r["messages"], mode, r["_where"])} for r in rows]
    if not out.get("train"):
        raise EmpLLMError(f"{data}: no training conversations")
    return out
