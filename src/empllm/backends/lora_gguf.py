"""A PEFT LoRA adapter (what `empllm train` writes) as a GGUF LoRA file, for `llamacpp:BASE+ADAPTER`.

llama.cpp's own converter (`convert_lora_to_gguf.py`, with its `conversion/` package and `gguf-py`)
does the work. The llama-cpp-python wheel leaves it out, so scripts/setup.sh takes it from the
llama-cpp-python sdist of the same version and copies it into the environment
(`.venv/share/empllm/llama-cpp-convert`; `EMPLLM_LLAMA_CPP_CONVERT` points elsewhere). It runs once
per adapter, offline, with this Python; the result sits in the adapter folder, named by a hash of
what it was made from, and is reused until the adapter or its base changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from empllm.backends.embedded import sha256_of_file as _sha256
from empllm.errors import BackendUnavailable

CONVERTER_ENV = "EMPLLM_LLAMA_CPP_CONVERT"
CONVERTER_SCRIPT = "convert_lora_to_gguf.py"
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")
CONVERT_TIMEOUT_S = 900


def converter_dir() -> Path:
    """The folder holding llama.cpp's LoRA converter, or a one-line BackendUnavailable."""
    override = os.environ.get(CONVERTER_ENV)
    folder = Path(override).expanduser() if override else Path(sys.prefix) / "share" / "empllm" / "llama-cpp-convert"
    if not (folder / CONVERTER_SCRIPT).is_file():
        where = f"{CONVERTER_ENV}={folder}" if override else str(folder)
        raise BackendUnavailable(
            f"llama.cpp's LoRA converter ({CONVERTER_SCRIPT}) is not installed ({where} has none); run "
            "scripts/setup.sh, which takes it from the llama-cpp-python sdist"
        )
    return folder


def converter_status() -> str | None:
    """None when the converter is installed, else why not (for `empllm models`)."""
    try:
        converter_dir()
    except BackendUnavailable as exc:
        return str(exc)
    return None


def _weights(adapter_dir: Path) -> Path:
    for name in WEIGHT_FILES:
        if (adapter_dir / name).is_file():
            return adapter_dir / name
    raise BackendUnavailable(f"{adapter_dir} is not a PEFT adapter (no {' or '.join(WEIGHT_FILES)})")


def adapter_key(adapter_dir: Path, base_checkpoint: Path) -> str:
    """A hash of what the GGUF is made from: the adapter's weights and config and the base model's
    config. (Not the converter: a converted adapter stays usable where the converter is absent.)"""
    digest = hashlib.sha256()
    for path in (_weights(adapter_dir), adapter_dir / "adapter_config.json", base_checkpoint / "config.json"):
        digest.update(path.name.encode() + b"\0" + _sha256(path).encode())
    return digest.hexdigest()[:16]


def adapter_gguf(adapter_dir: Path, base_checkpoint: Path) -> Path:
    """`adapter_dir/adapter-model-<hash>.gguf`, converted on first use (a few seconds) and reused.
    `base_checkpoint` is the transformers checkpoint the adapter was trained on (only its config is
    read). Raises BackendUnavailable, in one line, when the converter is missing or fails."""
    if not (adapter_dir / "adapter_config.json").is_file():
        raise BackendUnavailable(f"{adapter_dir} is not a PEFT adapter (no adapter_config.json)")
    if not (base_checkpoint / "config.json").is_file():
        raise BackendUnavailable(f"{base_checkpoint} is not a transformers checkpoint (no config.json)")
    target = adapter_dir / f"adapter-model-{adapter_key(adapter_dir, base_checkpoint)}.gguf"
    if target.is_file():
        return target
    converter = converter_dir()
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("NO_LOCAL_GGUF", None)  # the converter must use its own gguf-py, not the installed gguf
    cmd = [sys.executable, str(converter / CONVERTER_SCRIPT), str(adapter_dir), "--base", str(base_checkpoint),
           "--outfile", str(partial), "--outtype", "f32"]  # fmt: skip
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S)
        if done.returncode != 0 or not partial.is_file():
            raise BackendUnavailable(
                f"could not convert the LoRA adapter {adapter_dir} to GGUF: {_last_line(done.stderr or done.stdout)}"
            )
        os.replace(partial, target)  # the GGUF appears whole or not at all
    except subprocess.TimeoutExpired:
        raise BackendUnavailable(
            f"could not convert the LoRA adapter {adapter_dir} to GGUF: no result after {CONVERT_TIMEOUT_S} s"
        ) from None
    except OSError as exc:
        raise BackendUnavailable(f"could not convert the LoRA adapter {adapter_dir} to GGUF: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    for stale in adapter_dir.glob("adapter-model-*.gguf"):  # made from an earlier state of the adapter
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:500] if lines else "the converter failed without a message"


def file_sha256(path: Path) -> str:
    """The first 16 hex digits of a file's sha256 (a LoRA GGUF is a few MB: milliseconds)."""
    return _sha256(path)[:16]
