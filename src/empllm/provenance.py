"""What every long job records about what produced it (run.json), and the check that a rerun into
the same folder is the same job, so resuming never mixes two configurations."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from empllm import __version__
from empllm.errors import EmpLLMError
from empllm.jsonl_store import write_text_atomic
from empllm.prompts import PROMPTS_VERSION


def stable_hash(data, *, ensure_ascii: bool = True) -> str:
    """16 hex digits of sha256 over JSON with sorted keys: the config hash every job records, so a
    rerun with the same settings resumes and any other is refused."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=ensure_ascii).encode()).hexdigest()[:16]


def git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def check_run_file(out_dir: Path, config: dict, chash: str, extra: dict | None = None) -> dict:
    """Write run.json for a new run, or check that the existing one has the same config hash."""
    run_file = out_dir / "run.json"
    if run_file.is_file():
        try:
            existing = json.loads(run_file.read_text())
        except ValueError:
            raise EmpLLMError(f"{run_file} is not valid JSON; move it away or use another --out") from None
        if existing.get("config_hash") != chash:
            raise EmpLLMError(
                f"{out_dir} holds a run with a different config (hash {existing.get('config_hash')}, this one "
                f"{chash}); use another --out, or the same arguments to resume"
            )
        return existing
    out_dir.mkdir(parents=True, exist_ok=True)
    provenance = {
        "config_hash": chash,
        "config": config,
        "prompts_version": PROMPTS_VERSION,
        "empllm_version": __version__,
        "git_revision": git_revision(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    write_text_atomic(run_file, json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
    return provenance
