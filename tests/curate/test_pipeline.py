import json
import sys
from pathlib import Path

import pytest
import yaml

from empllm.backends.registry import create_backend
from empllm.curate.pipeline import CurateConfig, run_curation
from empllm.errors import EmpLLMError
from empllm.jsonl_store import read_jsonl
from empllm.runtime import Runtime

from ..cli_in_process import run_empllm
from .sessions import GOOD_EN, make_session

EMPLLM = str(Path(sys.executable).parent / "empllm")


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    sessions = [
        make_session(sid="en-good"),
        make_session(lang="zh", sid="zh-good"),
        make_session(sid="en-copy"),
        make_session([GOOD_EN[0], "As an AI, I can't relate, but go on.", *GOOD_EN[2:]], sid="en-ai"),
        make_session(sid="en-error", outcome="error"),
    ]
    (run / "sessions.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in sessions))
    return run


async def test_funnel_outputs_and_untouched_input(run_dir, tmp_path):
    before = (run_dir / "sessions.jsonl").read_bytes()
    out = tmp_path / "cur"
    summary = await run_curation(run_dir, out, CurateConfig())
    assert (summary.total, summary.kept) == (5, 2)
    assert summary.dropped_by == {"rules": 2, "dedup": 1}
    assert {r["id"] for r in read_jsonl(out / "sessions.jsonl")} == {"en-good", "zh-good"}
    decisions = {d["id"]: d for d in read_jsonl(out / "decisions.jsonl")}
    assert len(decisions) == 5 and decisions["en-copy"]["issues"][0]["code"] == "near_duplicate_session"
    assert any(i["code"] == "ai_disclaimer" for i in decisions["en-ai"]["issues"])
    meta = json.loads((out / "curate.json").read_text())
    assert meta["summary"]["kept"] == 2 and meta["input_hash"]
    assert (run_dir / "sessions.jsonl").read_bytes() == before


def judge_runtime(tmp_path, script: dict) -> Runtime:
    path = tmp_path / "judge.yaml"
    path.write_text(yaml.safe_dump(script, allow_unicode=True))
    return Runtime(create_backend(f"scripted:{path}"))


async def test_judge_drops_with_codes_and_unparseable_is_its_own_code(run_dir, tmp_path):
    script = {"match": [{"contains": "督导", "reply": 'Replies are generic.\n{"keep": false, "issues": ["generic_reply", "missed_emotion"]}'}],
              "default": 'Warm and specific.\n{"keep": true, "issues": []}'}  # fmt: skip
    summary = await run_curation(run_dir, tmp_path / "cur", CurateConfig(judge="scripted"),
                                 judge_runtime=judge_runtime(tmp_path, script))  # fmt: skip
    assert summary.kept == 1 and summary.dropped_by["judge"] == 1
    zh = next(d for d in read_jsonl(tmp_path / "cur" / "decisions.jsonl") if d["id"] == "zh-good")
    assert [i["code"] for i in zh["issues"]] == ["generic_reply", "missed_emotion"]
    bad = await run_curation(run_dir, tmp_path / "cur2", CurateConfig(judge="scripted"),
                             judge_runtime=judge_runtime(tmp_path, {"default": "Looks fine to me!"}))  # fmt: skip
    assert bad.kept == 0 and bad.codes["judge_unparseable"] == 2


async def test_a_base_model_judge_is_refused(run_dir, tmp_path):
    with pytest.raises(EmpLLMError, match="chat-tuned"):
        await run_curation(run_dir, tmp_path / "cur", CurateConfig(judge="x"),
                           judge_runtime=judge_runtime(tmp_path, {"default": "x", "chat_tuned": False}))  # fmt: skip


async def test_resume_after_interruption_gives_the_same_result(run_dir, tmp_path):
    full = tmp_path / "full"
    await run_curation(run_dir, full, CurateConfig())
    part = tmp_path / "part"
    await run_curation(run_dir, part, CurateConfig())
    decisions = (part / "decisions.jsonl").read_text().splitlines(keepends=True)
    kept = (part / "sessions.jsonl").read_text().splitlines(keepends=True)
    # killed after deciding 2 sessions, while writing the 3rd decision; the 2nd kept session never written
    (part / "decisions.jsonl").write_text("".join(decisions[:2]) + decisions[2][:30])
    (part / "sessions.jsonl").write_text(kept[0])
    summary = await run_curation(run_dir, part, CurateConfig())
    assert (summary.total, summary.kept, summary.already_done) == (5, 2, 2)
    for name in ("decisions.jsonl", "sessions.jsonl"):
        assert sorted(r["id"] for r in read_jsonl(part / name)) == sorted(r["id"] for r in read_jsonl(full / name))


async def test_refuses_other_settings_and_writing_into_the_input(run_dir, tmp_path):
    await run_curation(run_dir, tmp_path / "cur", CurateConfig())
    with pytest.raises(EmpLLMError, match="other input or settings"):
        await run_curation(run_dir, tmp_path / "cur", CurateConfig(min_replies=1))
    with pytest.raises(EmpLLMError, match="different folder"):
        await run_curation(run_dir, run_dir, CurateConfig())


def test_cli_bad_input_is_one_line(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x"}\n')
    env = {"EMPLLM_CACHE_DIR": str(tmp_path / "c")}
    for src, fragment in [(empty, "no sessions"), (broken, "not a session"), (tmp_path / "nope", "does not exist")]:
        out = run_empllm("curate", str(src), str(tmp_path / "o"), env=env)
        assert out.returncode == 2 and fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
