"""`empllm demo`: presets, seed data, the verdict and report (unit), and the quick run on the real
embedded model, interrupted after its first stage and resumed (integration)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from empllm.demo.config import PRESETS, demo_config
from empllm.demo.examples import example_messages
from empllm.demo.pipeline import _training_data
from empllm.demo.report import render_demo_report
from empllm.demo.results import COMPARISONS, verdict
from empllm.demo.seed_sessions import is_seed, seed_sessions
from empllm.errors import EmpLLMError
from empllm.export import session_messages

from .cli_in_process import run_empllm

EMPLLM = str(Path(sys.executable).parent / "empllm")


def test_presets_and_overrides():
    quick, default = demo_config(True), demo_config(False)
    assert quick.sessions_per_language == PRESETS["quick"]["sessions_per_language"]
    assert default.train_steps > quick.train_steps and default.bench_limit == 0 and quick.bench_limit == 1
    assert not default.seed_data and default.calibrate and default.bench_backend == "llamacpp"
    tuned = demo_config(False, train_steps=500, bench_limit=0, model="openai:my-model")
    assert (tuned.train_steps, tuned.bench_limit, tuned.model) == (500, 0, "openai:my-model")
    assert tuned.hash() != default.hash() and default.hash() == demo_config(False).hash()
    assert "respond_gen" not in default.bench_tasks and "respond_gen" in demo_config(False, judge="x").bench_tasks


def test_seed_sessions_cover_both_languages_and_export_with_notes():
    sessions = seed_sessions()
    for lang in ("en", "zh"):
        assert sum(s.language == lang for s in sessions) >= 20
    assert all(is_seed(s.id) and s.models["psychologist"] == "hand-written" for s in sessions)
    think = session_messages(sessions[0], "think")
    assert think[0]["role"] == "user" and think[1]["content"].startswith("<think>")
    assert all("<think>" not in m["content"] for m in session_messages(sessions[0], "drop"))


def test_nothing_to_train_on_is_a_clear_error(tmp_path):
    for lang in ("en", "zh"):
        (tmp_path / "curate" / lang).mkdir(parents=True)
        (tmp_path / "curate" / lang / "sessions.jsonl").write_text("")
    with pytest.raises(EmpLLMError, match="--seed-data on"):
        _training_data(demo_config(True), tmp_path)
    counts = _training_data(demo_config(True, seed_data=True), tmp_path)
    assert counts["splits"]["train"]["simulated"] == 0 and counts["splits"]["train"]["seed"] > 0
    assert (tmp_path / "data" / "think" / "train.jsonl").is_file()


def test_one_language_runs_alone(tmp_path):
    (tmp_path / "curate" / "zh").mkdir(parents=True)  # no English folder: a zh-only run never reads one
    (tmp_path / "curate" / "zh" / "sessions.jsonl").write_text("")
    config = demo_config(True, seed_data=True, languages=["zh"])
    assert config.bench_language == "zh" and demo_config(True).bench_language == "all"
    assert _training_data(config, tmp_path)["splits"]["train"]["seed"] > 0
    assert {lang for lang, _ in example_messages(1, config.languages)} == {"zh"}
    done = run_empllm("demo", "--out", str(tmp_path / "d"), "--languages", "en,fr")
    assert done.returncode != 0 and done.stderr.strip().count("\n") == 0 and "languages" in done.stderr


def _emptest(significant: bool, delta: float = 6.0) -> dict:
    value = {"score": 40.0, "interval": [30.0, 50.0]}
    row = {
        "n": 120,
        "chance": 25.0,
        "best": 100.0,
        "metrics": {m: {x: value for x in ("base", "think", "drop")} for m in ("acc", "acc_norm", "acc_mi")},
    }
    interval = [delta - 5, delta + 5] if significant else [-4.0, 16.0]
    moved = {"delta": delta, "interval": interval, "n": 120, "significant": significant}
    still = {"delta": 1.0, "interval": [-4.0, 6.0], "n": 120, "significant": False}
    rows = {"perceive": row, "perceive.en": {**row, "n": 60}, "perceive.zh": {**row, "n": 60}}
    deltas = {r: {"acc": still, "acc_norm": still, "acc_mi": moved if r == "perceive" else still} for r in rows}
    return {"models": {"base": "hf:b", "think": "hf:b+t", "drop": "hf:b+d"}, "rows": rows,
            "deltas": {name: deltas for name in COMPARISONS}}  # fmt: skip


def test_verdict_says_within_noise_and_credits_seed_data_apart():
    no_seed = {"splits": {"train": {"simulated": 5, "seed": 0}}}
    lines = verdict(_emptest(False), no_seed)
    assert "no sub-task differs beyond noise" in lines[0] and "all 3 paired 95% intervals include zero" in lines[0]
    assert not any("seed sessions" in line for line in lines)
    lines = verdict(_emptest(True), {"splits": {"train": {"simulated": 5, "seed": 30}}})
    assert "think is higher beyond noise on perceive acc_mi +6.0 [+1.0, +11.0]" in lines[0]
    assert "The other 2 of 3 paired intervals include zero" in lines[0]
    assert any("cannot be credited to simulation alone" in line for line in lines)
    lines = verdict(_emptest(True, delta=-6.0), no_seed)
    assert "think is lower beyond noise on perceive acc_mi -6.0" in lines[0] and "higher" not in lines[0]


def test_a_one_language_verdict_is_about_that_language():
    full = _emptest(False)
    en_only = {**full, "rows": {k: v for k, v in full["rows"].items() if k.endswith(".en")},
               "deltas": {name: {k: v for k, v in d.items() if k.endswith(".en")} for name, d in full["deltas"].items()}}  # fmt: skip
    lines = verdict(en_only, {"splits": {"train": {"simulated": 5, "seed": 0}}})
    assert "no sub-task differs beyond noise on any metric, in en; all 3 paired 95% intervals" in lines[0]
    assert "both languages" not in " ".join(lines)


def test_report_shows_every_row_and_metric_with_its_verdict():
    from empllm.demo.report import _emptest as emptest_table

    page = emptest_table({"emptest": _emptest(True)})
    assert page.count("<tr data-task=") == 9  # 3 rows (pooled, en, zh) x 3 metrics
    assert "data-task='perceive.zh' data-metric='acc_mi'" in page and page.count("class='sig'>higher") == 3


def test_bad_flags_fail_with_one_line(tmp_path):
    done = run_empllm("demo", "--out", str(tmp_path / "d"), "--seed-data", "maybe")
    assert done.returncode != 0 and done.stderr.strip().count("\n") == 0, done.stderr
    assert "--seed-data 'maybe'" in done.stderr


def _lookup(data, path: str):
    for part in path.split("/"):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def check_report_matches_results(report: str, results: dict) -> int:
    """Every figure in the page equals the one at its data-key in results.json. Returns the count."""
    spans = re.findall(r"<span data-key='([^']+)'>([^<]*)</span>", report)
    assert spans, "the report shows no figures"
    for key, text in spans:
        value = _lookup(results, key)
        if value is None:
            assert text == "–", key
        elif isinstance(value, int):
            assert text == str(value), (key, text, value)
        else:
            assert abs(float(text) - value) <= 0.051, (key, text, value)
    return len(spans)


@pytest.mark.integration
def test_quick_demo_is_interruptible_resumable_and_reports_its_numbers(tmp_path, model_cache_dir):
    out = tmp_path / "demo"
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir), "EMPLLM_USE_CACHE": "false", "HF_HUB_OFFLINE": "1"}
    cmd = [EMPLLM, "demo", "--quick", "--seed-data", "on", "--out", str(out)]
    # 1. interrupt once the first stage has finished
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stages = out / "stages.json"
    deadline = time.monotonic() + 600
    while not (stages.is_file() and "simulate.en" in stages.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "the first stage did not finish"
        time.sleep(0.5)
    first = json.loads(stages.read_text())["simulate.en"]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    assert "Rerun the same command to resume" in err and "Segmentation" not in err
    # 2. the same command resumes: the finished stage is skipped, the rest runs
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "simulate.en: done earlier" in done.stderr
    finished = json.loads(stages.read_text())
    assert finished["simulate.en"] == first
    expected = ["simulate.en", "simulate.zh", "curate.en", "curate.zh", "data", "train.think", "train.drop",
                "bench.base", "bench.think", "bench.drop"]  # fmt: skip
    assert list(finished) == expected
    # 3. every artefact exists and is well-formed
    results = json.loads((out / "results.json").read_text())
    assert json.loads((out / "run.json").read_text())["config_hash"] == results["config_hash"]
    for lang in ("en", "zh"):
        assert results["funnel"][lang]["simulated"] == 1
        assert len((out / "simulate" / lang / "sessions.jsonl").read_text().splitlines()) == 1
    train_think = (out / "data" / "think" / "train.jsonl").read_text()
    assert "<think>" in train_think and "<think>" not in (out / "data" / "drop" / "train.jsonl").read_text()
    for mode in ("think", "drop"):
        run = results["training"][mode]
        assert run["steps"] == 3 and len(run["loss_curve"]) == 3 and run["tokens_seen"] > 0
        from safetensors.torch import load_file

        weights = load_file(str(out / "train" / mode / "adapter_model.safetensors"))
        lora_b = [t for k, t in weights.items() if "lora_B" in k]
        assert lora_b and any(float(t.abs().sum()) > 0 for t in lora_b), "training left LoRA B at zero"
    for name in ("base", "think", "drop"):
        bench = json.loads((out / "bench" / name / "results.json").read_text())
        assert bench["model"] == results["emptest"]["models"][name] and not bench["skipped"]
    tasks = {"perceive", "understand", "manage", "respond_mc", "safety", "intensity"}
    rows = results["emptest"]["rows"]
    assert set(rows) == tasks | {f"{t}.{lang}" for t in tasks for lang in ("en", "zh")}
    assert set(rows["respond_mc"]["metrics"]) == {"acc", "acc_norm", "acc_mi"}
    for name in COMPARISONS:
        assert set(results["emptest"]["deltas"][name]) == set(rows)
        assert set(results["emptest"]["deltas"][name]["perceive.zh"]) == {"acc", "acc_norm", "acc_mi"}
    assert len(results["examples"]) == 2 and all(len(r["replies"]) == 3 for r in results["examples"])
    assert results["verdict"] and any("hand-written seed sessions" in line for line in results["verdict"])
    # 4. the report shows exactly the numbers of results.json
    report = (out / "report.html").read_text(encoding="utf-8")
    assert check_report_matches_results(report, results) > 50
    assert render_demo_report(results) == report
    # 5. the tuned think model chats through the agent, streamed, its <think> never shown as reply
    chat = subprocess.run([EMPLLM, "chat", "--model", f"hf:gemma-3-270m+{out / 'train' / 'think'}", "--style", "think",
                           "--max-tokens", "48", "--seed", "1"], input="I feel so alone since I moved here.\n",
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert chat.returncode == 0, chat.stderr[-2000:]
    assert "assistant> " in chat.stdout and "think>" not in chat.stdout
