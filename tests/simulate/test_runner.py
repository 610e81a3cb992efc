import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from empllm.backends.registry import create_backend
from empllm.errors import BackendError, EmpLLMError
from empllm.jsonl_store import read_jsonl
from empllm.personas.loader import load_personas
from empllm.runtime import Runtime
from empllm.settings import Settings
from empllm.simulate.runner import SimulationConfig, plan_work, run_simulation
from empllm.types import Session

from ..cli_in_process import run_empllm
from .conftest import PERSONAS, write_yaml

EMPLLM = str(Path(sys.executable).parent / "empllm")


def config(client, psych, n=5, **kw):
    # scripted models repeat one line: the line checks (tested in test_line_checks.py) would reject it
    kw.setdefault("checks", False)
    return SimulationConfig(personas=str(PERSONAS), sessions=n, client_model=client, psychologist_model=psych,
                            min_turns=2, max_turns=3, **kw)  # fmt: skip


def runtimes_for(cfg, **kw):
    return {spec: Runtime(create_backend(spec), **kw) for spec in {cfg.client_model, cfg.psychologist_model}}


def test_work_plan_is_deterministic_and_shards_partition_it(chat_models):
    cfg = config(*chat_models, n=11)
    personas = load_personas(PERSONAS)
    ids = [w.session_id for w in plan_work(cfg, personas)]
    assert ids == [w.session_id for w in plan_work(cfg, personas)] and len(set(ids)) == 11
    shards = [{w.session_id for w in plan_work(cfg, personas) if w.index % 3 == k} for k in range(3)]
    assert set().union(*shards) == set(ids) and sum(len(s) for s in shards) == 11
    zh_only = plan_work(config(*chat_models, n=3, language="zh"), personas)
    assert {w.persona.language for w in zh_only} == {"zh"}


async def test_run_writes_n_sessions_with_provenance_and_resumes(tmp_path, chat_models):
    cfg = config(*chat_models, n=5)
    out = tmp_path / "run"
    summary = await run_simulation(cfg, out, settings=Settings(use_cache=False), runtimes=runtimes_for(cfg))
    assert summary.written == 5 and summary.outcomes["client_ended"] == 5
    records = read_jsonl(out / "sessions.jsonl")
    sessions = [Session.model_validate(r) for r in records]
    run = json.loads((out / "run.json").read_text())
    assert {s.config_hash for s in sessions} == {run["config_hash"]}
    assert all(
        s.prompts_version == run["prompts_version"] and s.models["psychologist"] == cfg.psychologist_model
        for s in sessions
    )
    again = await run_simulation(cfg, out, settings=Settings(use_cache=False), runtimes=runtimes_for(cfg))
    assert (again.written, again.already_done) == (0, 5)
    with pytest.raises(EmpLLMError, match="different config"):
        await run_simulation(config(*chat_models, n=6), out, settings=Settings(use_cache=False),
                             runtimes=runtimes_for(cfg))  # fmt: skip


async def test_torn_last_line_is_repaired_and_redone(tmp_path, chat_models):
    cfg = config(*chat_models, n=3)
    out = tmp_path / "run"
    await run_simulation(cfg, out, settings=Settings(use_cache=False), runtimes=runtimes_for(cfg))
    path = out / "sessions.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]) + lines[2][:40])  # the last record torn mid-write
    summary = await run_simulation(cfg, out, settings=Settings(use_cache=False), runtimes=runtimes_for(cfg))
    assert summary.written == 1
    assert len({r["id"] for r in read_jsonl(path)}) == 3 == len(read_jsonl(path))
    assert list(out.glob("sessions.jsonl.torn-*"))  # kept aside, not silently dropped


class FlakyBackend:
    """Wraps a backend; 30% of calls fail with a retryable 5xx or timeout."""

    def __init__(self, inner, rate=0.3, seed=0):
        self.inner, self.rate, self.rng = inner, rate, random.Random(seed)
        self.spec, self.failures = inner.spec, 0

    @property
    def capabilities(self):
        return self.inner.capabilities.model_copy(update={"cacheable": False})

    def _maybe_fail(self):
        if self.rng.random() < self.rate:
            self.failures += 1
            raise BackendError(self.rng.choice(["HTTP 503: overloaded", "request timed out"]), retryable=True)

    async def chat(self, messages, gen):
        self._maybe_fail()
        return await self.inner.chat(messages, gen)

    async def complete(self, prompt, gen):
        self._maybe_fail()
        return await self.inner.complete(prompt, gen)

    async def aclose(self):
        pass


async def test_run_completes_when_30_percent_of_calls_fail(tmp_path, chat_models):
    cfg = config(*chat_models, n=20)
    flaky = {spec: FlakyBackend(create_backend(spec), seed=i) for i, spec in enumerate(sorted(set(chat_models)))}
    runtimes = {spec: Runtime(b, retries=1, retry_wait_s=(0.001, 0.002)) for spec, b in flaky.items()}
    summary = await run_simulation(cfg, tmp_path / "run", settings=Settings(use_cache=False), concurrency=8,
                                   runtimes=runtimes)  # fmt: skip
    sessions = [Session.model_validate(r) for r in read_jsonl(tmp_path / "run" / "sessions.jsonl")]
    assert len(sessions) == 20 and len({s.id for s in sessions}) == 20
    assert sum(b.failures for b in flaky.values()) > 10
    failed = [s for s in sessions if s.outcome == "error"]
    assert summary.outcomes["client_ended"] + len(failed) == 20 and summary.outcomes["client_ended"] > 0
    assert failed and all("gave up after 2 attempts" in s.outcome_detail for s in failed)  # permanent failures recorded


def test_sigkill_mid_run_then_resume_gives_exactly_n_sessions(tmp_path, chat_models):
    client, psych = chat_models
    slow_client = write_yaml(
        tmp_path / "slow_client.yaml",
        {**__import__("yaml").safe_load(Path(client.split(":", 1)[1]).read_text()), "delay_s": 0.03},
    )
    slow_psych = write_yaml(
        tmp_path / "slow_psych.yaml",
        {**__import__("yaml").safe_load(Path(psych.split(":", 1)[1]).read_text()), "delay_s": 0.03},
    )
    out = tmp_path / "run"
    args = [EMPLLM, "-q", "simulate", "--personas", str(PERSONAS), "--sessions", "30", "--out", str(out),
            "--client-model", f"scripted:{slow_client}", "--psychologist-model", f"scripted:{slow_psych}",
            "--concurrency", "3", "--min-turns", "2", "--max-turns", "3"]  # fmt: skip
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = out / "sessions.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not path.is_file() or path.read_text().count("\n") < 5):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written_before = path.read_text().count("\n")
    assert 5 <= written_before < 30, "the run should have been killed part-way"
    with path.open("a") as f:  # and as if the kill had landed mid-write
        f.write('{"id": "s00029-test-en-exam", "turns": [{"role": "cli')
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    records = read_jsonl(path)
    assert len(records) == 30 and len({r["id"] for r in records}) == 30
    assert all(Session.model_validate(r) for r in records)


def test_cli_rejects_bad_simulate_flags(tmp_path, chat_models):
    env = {"EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    base = ["simulate", "--out", str(tmp_path / "o"), "--personas", str(PERSONAS), "--model", chat_models[0]]
    for extra, fragment in [(["--shard", "3/2"], "--shard"), (["--language", "fr"], "--language"),
                            (["--stance", "freudian"], "--stance")]:  # fmt: skip
        out = run_empllm(*base, *extra, env=env)
        assert out.returncode == 2 and fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_show_reads_a_run(tmp_path, chat_models):
    cfg = config(*chat_models, n=2)
    asyncio.run(run_simulation(cfg, tmp_path / "run", settings=Settings(use_cache=False), runtimes=runtimes_for(cfg)))
    out = run_empllm("show", str(tmp_path / "run"), env={"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "Psychologist:" in out.stdout and "strategy: reflection_of_feelings" in out.stdout and "trust" in out.stdout
