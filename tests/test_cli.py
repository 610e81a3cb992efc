"""The CLI as a user runs it: the installed `empllm` script in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EMPLLM = str(Path(sys.executable).parent / "empllm")


def run(*args, cache_dir, stdin=None):
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(cache_dir)}
    return subprocess.run([EMPLLM, *args], capture_output=True, text=True, input=stdin, env=env, timeout=120)


def test_version_and_help(tmp_path):
    out = run("--version", cache_dir=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("empllm ")
    for verb in ["models", "generate", "chat"]:
        helped = run(verb, "--help", cache_dir=tmp_path)
        assert helped.returncode == 0 and "Usage" in helped.stdout


def test_generate_with_scripted_model(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("replies: [' is a quiet Tuesday.']\n")
    out = run("generate", "--model", f"scripted:{script}", "Today", "--quiet", cache_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Today is a quiet Tuesday."


def test_chat_repl_with_scripted_model(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("replies: ['That sounds heavy.', 'I am here.']\n")
    out = run(
        "chat",
        "--plain",
        "--model",
        f"scripted:{script}",
        cache_dir=tmp_path,
        stdin="I lost my job\n/reset\nhi\n/quit\n",
    )
    assert out.returncode == 0, out.stderr
    assert "That sounds heavy." in out.stdout and "I am here." in out.stdout
    assert "conversation cleared" in out.stderr


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["generate", "--model", "nosuch:thing", "hi"], "unknown backend 'nosuch'"),
        (["generate", "--model", "gemma", "hi"], "is not KIND:TARGET"),
        (["generate", "--model", "llamacpp:/no/such/model.gguf", "hi"], "does not exist"),
        (["generate", "--model", "scripted:/no/such.yaml", "hi"], "does not exist"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, fragment):
    out = run(*args, cache_dir=tmp_path)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_malformed_scripted_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"reply": "fine"}\n{oops\n')
    out = run("generate", "--model", f"scripted:{bad}", "hi", cache_dir=tmp_path)
    assert out.returncode != 0
    assert (
        out.stderr.strip() == f"empllm: error: scripted file {bad} line 2: " + out.stderr.split("line 2: ")[1].strip()
    )
    assert len(out.stderr.strip().splitlines()) == 1


def test_wrong_flag_and_bad_config(tmp_path):
    out = run("generate", "--max-tokens", "0", "hi", cache_dir=tmp_path)
    assert out.returncode != 0 and "max-tokens" in out.stderr
    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_concurrency: -3\n")
    out = run("--config", str(cfg), "models", cache_dir=tmp_path)
    assert out.returncode == 2 and "max_concurrency" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = run("--config", str(tmp_path / "missing.yaml"), "models", cache_dir=tmp_path)
    assert out.returncode == 2 and "does not exist" in out.stderr


def test_config_file_sets_model(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("replies: [' from config']\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"model: scripted:{script}\n")
    out = run("--config", str(cfg), "-q", "generate", "x", cache_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "x from config"


def test_models_lists_backends(tmp_path):
    out = run("models", cache_dir=tmp_path)
    assert out.returncode == 0
    for kind in ["llamacpp", "openai", "hf", "scripted"]:
        assert kind in out.stdout


def test_chat_goes_through_the_agent_with_thoughts_save_and_language(tmp_path):
    import json

    notes = {"emotion": "sadness", "intensity": 6, "cause": "job loss", "appraisal": "I failed",
             "unmet_need": "reassurance", "risk_level": "low", "strategy": "reflection_of_feelings",
             "rationale": "name the loss"}  # fmt: skip
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"default": json.dumps({"contemplation": notes, "reply": "That is a real loss."})}))
    saved = tmp_path / "conv.jsonl"
    stdin = f"I lost my job\n/thoughts\n/lang zh\n我好难过\n/save {saved}\n/quit\n"
    out = run("chat", "--model", f"scripted:{script}", "--locale", "UK", cache_dir=tmp_path, stdin=stdin)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("That is a real loss.") == 2
    assert "[contemplation]" in out.stderr and "job loss" in out.stderr  # shown after /thoughts
    assert "empathetic agent (structured)" in out.stderr
    rows = [json.loads(x) for x in saved.read_text().splitlines()]
    assert [r["language"] for r in rows] == ["en", "zh"] and rows[0]["contemplation"]["cause"] == "job loss"
