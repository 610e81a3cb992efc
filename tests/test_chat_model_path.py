"""The path a real user takes, run for real: a chat-tuned model (SmolLM2 135M Instruct) on its own
OpenAI-compatible server (`python -m llama_cpp.server`, the GGUF's own ChatML template), next to
the in-process Gemma base model. No scripted replies anywhere in this file.

simulate (two backends) -> curate --judge (the server) -> export -> train an HF chat model with its
own template -> the adapter answers; EmpTest respond_gen judged by the server; `empllm serve` on
SmolLM2 through the stock openai client. One server for the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from empllm.backends.embedded import embedded_gguf_path

pytestmark = pytest.mark.integration
EMPLLM = str(Path(sys.executable).parent / "empllm")
SMOL = "smollm2-135m-instruct"


def run(args: list[str], env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    done = subprocess.run([EMPLLM, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"empllm {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def smol_url(model_cache_dir, tmp_path_factory):
    from empllm.backends.llama_server import serve_gguf

    gguf = embedded_gguf_path(model_cache_dir, SMOL)
    with serve_gguf(gguf, tmp_path_factory.mktemp("smol-server") / "server.log", n_ctx=4096) as url:
        yield url


@pytest.fixture(scope="module")
def env(model_cache_dir, tmp_path_factory, smol_url):
    """A models file naming the server, with a key in a variable: the key must reach no record."""
    folder = tmp_path_factory.mktemp("models")
    (folder / "models.yaml").write_text(
        f"endpoints:\n  smol:\n    model: smollm2\n    base_url: {smol_url}\n    api_key_env: SMOL_KEY\n"
    )
    return {**os.environ, "EMPLLM_CACHE_DIR": str(model_cache_dir), "HF_HUB_OFFLINE": "1",
            "EMPLLM_MODELS_FILE": str(folder / "models.yaml"), "SMOL_KEY": "sk-smol-SECRET-42"}  # fmt: skip


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, env, smol_url):
    """One short session; --no-checks, since a 135M psychologist rarely passes the grounding checks
    (what this run tests is the path: two backends, JSON turns through the server)."""
    out = tmp_path_factory.mktemp("sim") / "run"
    run(["simulate", "--out", str(out), "-n", "1", "--language", "en", "--min-turns", "1", "--max-turns", "1",
         "--psychologist-model", f"openai:smollm2@{smol_url}", "--client-model", "llamacpp:gemma-3-270m",
         "--attempts", "3", "--no-checks"], env)  # fmt: skip
    return out


def test_simulation_runs_two_backends_in_one_run(simulated, smol_url):
    run_json = json.loads((simulated / "run.json").read_text())
    sessions = [json.loads(line) for line in (simulated / "sessions.jsonl").read_text().splitlines()]
    assert len(sessions) == 1
    for s in sessions:
        assert s["models"]["psychologist"] == f"openai:smollm2@{smol_url}"
        assert s["models"]["client"] == "llamacpp:gemma-3-270m"
    replies = [t for s in sessions for t in s["turns"] if t["role"] == "psychologist" and not t.get("parse_error")]
    assert replies, "the chat model on the server gave no usable psychologist turn"
    assert all(t["contemplation"]["strategy"] for t in replies)  # JSON-style notes, parsed
    assert "SECRET" not in json.dumps(run_json)


@pytest.fixture(scope="module")
def curated(tmp_path_factory, env, simulated):
    """The simulated sessions and a few written ones (so export and training never depend on how
    many simulated sessions the 135M judge keeps), curated with the judge on the server."""
    from .curate.sessions import make_session

    folder = tmp_path_factory.mktemp("cur-in")
    written = [make_session(sid=f"w{i}", persona_id=f"p-w-{i}") for i in range(4)]
    text = (simulated / "sessions.jsonl").read_text() + "".join(s.model_dump_json() + "\n" for s in written)
    (folder / "sessions.jsonl").write_text(text)
    out = tmp_path_factory.mktemp("cur") / "out"
    run(["curate", str(folder / "sessions.jsonl"), str(out), "--judge", "openai:smol", "--concurrency", "1"], env)
    return out


def test_curate_judge_on_the_server_gives_verdicts(curated):
    decisions = [json.loads(line) for line in (curated / "decisions.jsonl").read_text().splitlines()]
    assert len(decisions) == 5
    # every session that passed the cheap filters went to the judge; at least one verdict was read
    judged = [d for d in decisions if all(i["filter"] == "judge" for i in d["issues"])]
    assert (
        judged
        and any(i["code"] != "judge_unparseable" for d in judged for i in d["issues"])
        or any(d["kept"] for d in judged)
    ), decisions
    info = json.loads((curated / "curate.json").read_text())
    assert "openai:smol" in json.dumps(info) and "SECRET" not in json.dumps(info)


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, env, curated):
    data = tmp_path_factory.mktemp("export") / "data"
    run(["export", str(curated), str(data), "--contemplation", "think", "--validation", "0"], env)
    out = tmp_path_factory.mktemp("train") / "smol-adapter"
    run(["train", str(data), "--out", str(out), "--base", f"hf:{SMOL}", "--max-steps", "3", "--batch-size", "2",
         "--learning-rate", "1e-3", "--max-length", "384", "--quiet"], env)  # fmt: skip
    return out


def test_an_hf_chat_model_trains_with_its_own_template_and_its_adapter_answers(adapter, env):
    summary = json.loads((adapter / "train_summary.json").read_text())
    assert summary["base"] == f"hf:{SMOL}" and summary["steps"] == 3
    assert summary["adapter_spec"] == f"hf:{SMOL}+{adapter}" and (adapter / "adapter_config.json").is_file()
    done = run(["generate", "I failed my driving test again and I feel stupid.", "--chat", "--model",
                summary["adapter_spec"], "--max-tokens", "60", "--temperature", "0"], env)  # fmt: skip
    assert done.stdout.strip()


def test_bench_respond_gen_judged_by_the_server(tmp_path, env, smol_url):
    out = tmp_path / "bench"
    run(["bench", "--model", f"openai:smollm2@{smol_url}", "--tasks", "respond_gen", "--judge", "openai:smol",
         "--language", "en", "--limit", "1", "--out", str(out)], env)  # fmt: skip
    scores = json.loads((out / "results.json").read_text())
    assert "respond_gen" in json.dumps(scores) and "SECRET" not in json.dumps(scores)


def test_serve_on_smollm2_through_the_stock_openai_client(model_cache_dir):
    import openai

    from empllm.runtime import build_runtime
    from empllm.settings import Settings

    from .serve.server import running_server

    runtime = build_runtime(f"llamacpp:{SMOL}", Settings(cache_dir=model_cache_dir, use_cache=False))
    user = {"role": "user", "content": "My dog died last week and the house feels empty."}
    with running_server(runtime) as base:
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused")

        def ask(temperature: float, seed: int, system: str | None = None):
            messages = ([{"role": "system", "content": system}] if system else []) + [user]
            return client.chat.completions.create(model="empllm-test", messages=messages, temperature=temperature,
                                                  seed=seed, max_tokens=120)  # fmt: skip

        greedy = [ask(0.0, seed) for seed in (1, 2)]
        hot = [ask(1.0, seed) for seed in (1, 2, 3, 1)]
        steered = ask(0.0, 1, system="You are Pip, a cheerful pirate. Speak like a pirate in every sentence.")
    replies = [r.choices[0].message.content for r in (*greedy, steered)]
    hot_replies = [r.choices[0].message.content for r in hot]
    assert all(replies + hot_replies), replies + hot_replies
    assert replies[0] == replies[1]  # temperature 0: the seed does not matter
    # temperature 1: the seed reproduces a sample, and seeds differ. One pair of hot samples from a 135M
    # model can coincide (seeds 1 and 2 did once), so variety is asked of three seeds, not of two.
    assert hot_replies[0] == hot_replies[3]
    assert len(set(hot_replies[:3])) > 1, hot_replies
    assert replies[2] != replies[0]  # the system message reached the model
    for r in greedy:
        assert r.usage.prompt_tokens > 100 and r.usage.completion_tokens > 0
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
