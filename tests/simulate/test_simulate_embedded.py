"""A short real simulation on the embedded model, in both languages, through the CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from empllm.jsonl_store import read_jsonl
from empllm.types import Session

pytestmark = pytest.mark.integration
EMPLLM = str(Path(sys.executable).parent / "empllm")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_short_embedded_run_writes_well_formed_sessions(tmp_path, model_cache_dir, lang):
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir), "EMPLLM_USE_CACHE": "false", "HF_HUB_OFFLINE": "1",
           "COLUMNS": "200"}  # fmt: skip
    out = tmp_path / "run"
    args = [EMPLLM, "simulate", "--sessions", "1", "--language", lang, "--out", str(out), "--max-turns", "2",
            "--min-turns", "1", "--seed", "3"]  # fmt: skip
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "1/1 sessions" in done.stderr and "sessions/hour" in done.stderr
    (record,) = read_jsonl(out / "sessions.jsonl")
    session = Session.model_validate(record)
    assert session.language == lang and session.models["psychologist"] == "llamacpp:gemma-3-270m"
    assert session.usage["psychologist"].calls >= 2 and session.usage["psychologist"].completion_tokens > 0
    psych = [t for t in session.turns if t.role == "psychologist"]
    assert psych, "the psychologist took at least one turn (parsed, or recorded with its raw output)"
    for turn in psych:
        assert (turn.contemplation is not None and turn.content) or (turn.raw is not None and turn.parse_error)
    shown = subprocess.run([EMPLLM, "show", str(out)], env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and session.id in shown.stdout
