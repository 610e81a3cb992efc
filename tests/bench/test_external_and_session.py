import json

import pytest

from empllm.bench import external
from empllm.bench.judge import Judge
from empllm.bench.run import BenchConfig, run_bench
from empllm.bench.scorers import score_mc, score_rating
from empllm.bench.session_task import eval_personas, run_eval_session
from empllm.errors import EmpLLMError
from empllm.runtime import Runtime, build_runtime
from empllm.settings import Settings

from .test_bench_run import RUBRIC


def eqbench_file(tmp_path):
    data = {
        "1": {"prompt": "Dialogue...\nFirst pass scores:\nRevised scores:",
              "reference_answer_fullscale": {"emotion1": "Angry", "emotion2": "Relieved", "emotion3": "Ashamed",
                                             "emotion4": "Hopeful", "emotion1_score": 7, "emotion2_score": "0",
                                             "emotion3_score": 3, "emotion4_score": "5"}},
    }  # fmt: skip
    path = tmp_path / "eq.json"
    path.write_text(json.dumps(data))
    return path


async def test_eqbench_items_score_with_the_revised_rule(tmp_path):
    (item,) = external.load_eqbench(eqbench_file(tmp_path))
    assert item.emotions == ["Angry", "Relieved", "Ashamed", "Hopeful"] and item.reference == [7, 0, 3, 5]
    reply = ("First pass scores:\nAngry: 5\nRelieved: 0\nAshamed: 3\nHopeful: 5\n"
             "Revised scores:\nAngry: 7\nRelieved: 0\nAshamed: 3\nHopeful: 5")  # fmt: skip
    record = await score_rating(None, item, method="responses", response=reply)
    assert record["pass"] == "revised" and record["score"] == 10.0


def test_eqbench_file_errors_are_one_line(tmp_path):
    path = tmp_path / "eq.json"
    path.write_text(json.dumps({"1": {"prompt": "x", "reference_answer_fullscale": {"emotion1": "a"}}}))
    with pytest.raises(EmpLLMError, match="question 1"):
        external.load_eqbench(path)


def emobench_files(tmp_path):
    eu = tmp_path / "eu.jsonl"
    eu.write_text(json.dumps({"qid": 1, "language": "en", "scenario": "Sam's dog died.", "subject": "Sam",
                              "emotion_choices": ["Joy", "Grief", "Pride", "Anger"], "emotion_label": "Grief",
                              "cause_choices": ["The dog died", "He won", "He moved", "Rain"],
                              "cause_label": "The dog died"}) + "\n")  # fmt: skip
    ea = tmp_path / "ea.jsonl"
    ea.write_text(json.dumps({"qid": 2, "language": "zh", "scenario": "小林被同事抢了功劳。", "subject": "小林",
                              "choices": ["忍着", "私下和同事谈", "辞职", "在群里骂人"], "label": 1},
                             ensure_ascii=False) + "\n")  # fmt: skip
    return eu, ea


async def test_emobench_eu_needs_both_emotion_and_cause(tmp_path):
    eu, ea = emobench_files(tmp_path)
    (item,) = external.load_emobench_eu(eu)
    assert [p.gold for p in item.parts] == [1, 0]
    # a recorded reply gives one letter, which answers both parts: B is right for emotion, wrong for cause
    record = await score_mc(None, item, method="responses", fmt="listed", permutations=1, response="B")
    assert record["acc"] == 0.0 and len(record["parts"]) == 2
    assert record["chance"] == pytest.approx(1 / 16)
    (act,) = external.load_emobench_ea(ea)
    assert act.language == "zh" and act.gold == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"qid": 3, "scenario": "x", "subject": "y", "choices": ["a", "b"], "label": "c"}))
    with pytest.raises(EmpLLMError, match="record 1: label 'c'"):
        external.load_emobench_ea(bad)


def scripted(tmp_path, name, body) -> Runtime:
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(body))
    return build_runtime(f"scripted:{path}", Settings(cache_dir=tmp_path / "cache", use_cache=False))


async def test_a_session_measures_the_clients_change_and_the_judges_rating(tmp_path):
    persona = next(p for p in eval_personas() if p.language == "en")
    states = [{"message": "It is a bit easier to say it out loud.", "end_session": False,
               "state": {"emotion_intensity": persona.starting_intensity - 1, "trust": persona.starting_trust + 1}},
              {"message": "Thank you, I think I can rest now.", "end_session": False,
               "state": {"emotion_intensity": persona.starting_intensity - 2, "trust": persona.starting_trust + 2}}]  # fmt: skip
    client = scripted(tmp_path, "client", {"replies": [json.dumps(s) for s in states]})
    model = scripted(tmp_path, "model", {"default": "That sounds like a lot to carry. What feels heaviest?"})
    judge = scripted(tmp_path, "judge", {"default": RUBRIC})
    record = await run_eval_session(persona, model=model, client=client, judge=Judge(judge), replies=3, seed=1)
    assert record["error"] is None
    assert [t["role"] for t in record["turns"]] == ["client", "psychologist"] * 3
    assert record["intensity_delta"] == -2 and record["trust_delta"] == 2
    assert record["score"] == pytest.approx((8 + 7 + 6 + 8 + 7 + 8 + 10) / 7)
    from empllm.bench.records import SampleRecord
    from empllm.bench.results import summarize_task

    row = summarize_task("session", [SampleRecord(id="s1", task="session", language="en", **record)])
    assert row.chance == 1.0 and row.trust_delta == 2 and row.n == 1


async def test_without_a_judge_judged_tasks_are_skipped_and_said_so(tmp_path):
    model = scripted(tmp_path, "m", {"default": "B", "chat_tuned": True})
    config = BenchConfig(model=model.spec, tasks=["respond_mc", "session"], language="zh", limit=2, method="generate")
    results = await run_bench(config, tmp_path / "run", settings=Settings(cache_dir=tmp_path / "c"),
                              runtimes={model.spec: model})  # fmt: skip
    assert results["tasks"]["respond_mc.zh"]["method"] == "generate_letter"
    assert "needs --judge" in results["skipped"]["session.zh"]
    assert (tmp_path / "run" / "report.html").is_file()
