"""The loop from sessions to a model, through the CLI, offline: simulate -> curate -> export ->
train -> chat with the adapter. Simulation uses scripted models (fast); training and the final
chat use the real embedded weights."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .simulate.conftest import PERSONAS, PLAN_JSON, PSYCH_JSON, client_json, write_yaml

pytestmark = pytest.mark.integration
EMPLLM = str(Path(sys.executable).parent / "empllm")


def test_simulate_curate_export_train_chat(tmp_path, model_cache_dir):
    psych = write_yaml(
        tmp_path / "psych.yaml", {"match": [{"contains": '"goals"', "reply": PLAN_JSON}], "default": PSYCH_JSON}
    )
    client = write_yaml(tmp_path / "client.yaml", {"default": client_json(end=True)})
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir), "EMPLLM_USE_CACHE": "false", "HF_HUB_OFFLINE": "1"}

    def run(*args, timeout=900):
        done = subprocess.run([EMPLLM, "-q", *args], env=env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, (args[0], done.stderr[-2000:])
        return done

    # one reply per session: the scripted psychologist says the same thing every time
    # (the scripted notes speak of a failed mid-term: the fixture persona whose opening says so keeps
    # them grounded for curate; --no-checks because a script that repeats itself would be resampled)
    run("simulate", "--out", str(tmp_path / "run"), "--sessions", "3", "--language", "en", "--min-turns", "1",
        "--no-checks", "--personas", str(PERSONAS), "--client-model", f"scripted:{client}",
        "--psychologist-model", f"scripted:{psych}")  # fmt: skip
    run("curate", str(tmp_path / "run"), str(tmp_path / "cur"), "--min-replies", "1")
    summary = json.loads((tmp_path / "cur" / "curate.json").read_text())["summary"]
    assert summary["total"] == 3 and summary["kept"] >= 1  # scripted replies repeat, so dedup drops the rest
    run("export", str(tmp_path / "cur"), str(tmp_path / "data"), "--validation", "0")
    run("train", str(tmp_path / "data"), "--out", str(tmp_path / "adapter"), "--max-steps", "2", "--batch-size", "1",
        "--max-length", "256")  # fmt: skip
    reply = run("generate", "--chat", "--model", f"hf:gemma-3-270m+{tmp_path / 'adapter'}", "--max-tokens", "30",
                "--temperature", "0", "I failed my exam and I feel stupid.")  # fmt: skip
    assert reply.stdout.strip() and "<start_of_turn>" not in reply.stdout
