"""`empllm bench` end to end on recorded responses and scripted models (no real model needed)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from empllm.bench.items import CANARY
from empllm.bench.registry import items_dir
from empllm.bench.tasks import load_units, mc_tasks

from ..cli_in_process import run_empllm

EMPLLM = str(Path(sys.executable).parent / "empllm")
RUBRIC = ('Warm and specific.\n{"emotional_reaction": 8, "interpretation": 7, "exploration": 6, "validation": 8, '
          '"specificity": 7, "naturalness": 8, "safety": 10}')  # fmt: skip


def bench(*args, tmp_path):
    return run_empllm("bench", *args, "--quiet", env={"EMPLLM_CACHE_DIR": str(tmp_path / "cache")})


def write_responses(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def mc_items():
    return [it for u in load_units(mc_tasks(), "all", data=None, limit=None) for it in u.items]


def test_gold_responses_score_100_and_a_fixed_letter_scores_near_chance(tmp_path):
    letters = "ABCDEF"
    gold = write_responses(tmp_path / "gold.jsonl", [{"id": it.id, "response": letters[it.gold]} for it in mc_items()])
    out = bench("--responses", str(gold), "--tasks", ",".join(mc_tasks()), "--out", str(tmp_path / "g"),
                tmp_path=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    results = json.loads((tmp_path / "g" / "results.json").read_text())
    for task in mc_tasks():
        assert results["tasks"][task]["score"] == 100.0, task
        assert results["tasks"][task]["method"] == "responses"
    fixed = write_responses(tmp_path / "a.jsonl", [{"id": it.id, "response": "B"} for it in mc_items()])
    out = bench("--responses", str(fixed), "--tasks", ",".join(mc_tasks()), "--out", str(tmp_path / "a"),
                tmp_path=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    results = json.loads((tmp_path / "a" / "results.json").read_text())
    for task in mc_tasks():
        row = results["tasks"][task]
        assert abs(row["score"] - row["chance"]) <= 10, (task, row["score"], row["chance"])
        assert abs(row["chance_normalized"]) <= 15
    samples = [json.loads(line) for line in (tmp_path / "a" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == len(mc_items()) and all("prompt" in s and "options" in s for s in samples)
    assert "<svg" in (tmp_path / "a" / "report.html").read_text()


def test_emobench_halves_that_share_qids_never_mix(tmp_path):
    # EmoBench numbers its English and Chinese halves 1..N each; here they share qids, with the gold
    # answer at different positions, so an id without the language would cross the halves
    rows = [{"qid": q, "language": lang, "scenario": f"{lang} scenario {q}", "subject": "Sam" if lang == "en" else "小林",
             "choices": ["a", "b", "c", "d"], "label": (q + (0 if lang == "en" else 2)) % 4}
            for lang in ("en", "zh") for q in (1, 2, 3)]  # fmt: skip
    data = write_responses(tmp_path / "ea.jsonl", rows)
    gold = write_responses(tmp_path / "gold.jsonl",
                           [{"id": f"emobench_ea-{r['language']}-{r['qid']}", "response": "ABCD"[r["label"]]}
                            for r in rows])  # fmt: skip
    args = ("--responses", str(gold), "--tasks", "emobench_ea", "--data", str(data), "--out", str(tmp_path / "e"))
    for _ in range(2):  # the second run resumes from the first run's samples
        out = bench(*args, tmp_path=tmp_path)
        assert out.returncode == 0, out.stderr
        assert json.loads((tmp_path / "e" / "results.json").read_text())["tasks"]["emobench_ea"]["score"] == 100.0
    samples = [json.loads(line) for line in (tmp_path / "e" / "samples.jsonl").read_text().splitlines()]
    assert sorted(s["id"] for s in samples) == sorted(f"emobench_ea-{r['language']}-{r['qid']}" for r in rows)
    write_responses(tmp_path / "twice.jsonl", rows + rows[:1])
    out = bench("--responses", str(gold), "--tasks", "emobench_ea", "--data", str(tmp_path / "twice.jsonl"),
                "--out", str(tmp_path / "t"), tmp_path=tmp_path)  # fmt: skip
    assert out.returncode != 0 and "two records give the item id emobench_ea-en-1" in out.stderr


def test_recorded_intensity_and_judged_replies(tmp_path):
    units = load_units(["intensity", "respond_gen"], "en", data=None, limit=3)
    rows = []
    for it in units[0].items:  # the reference ratings exactly: 10 per item, 100 for the task
        rows.append(
            {"id": it.id, "response": "\n".join(f"{e}: {r:g}" for e, r in zip(it.emotions, it.reference, strict=True))}
        )
    rows += [{"id": it.id, "response": "That sounds exhausting. What has been hardest?"} for it in units[1].items]
    responses = write_responses(tmp_path / "r.jsonl", rows)
    judge = tmp_path / "judge.yaml"
    judge.write_text(f"default: {json.dumps(RUBRIC)}\n")
    out = bench("--responses", str(responses), "--tasks", "intensity,respond_gen", "--language", "en", "--limit",
                "3", "--judge", f"scripted:{judge}", "--pairwise", "reference", "--out", str(tmp_path / "r"),
                tmp_path=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    tasks = json.loads((tmp_path / "r" / "results.json").read_text())["tasks"]
    assert tasks["intensity.en"]["score"] == pytest.approx(100.0)
    assert tasks["respond_gen.en"]["score"] == pytest.approx((8 + 7 + 6 + 8 + 7 + 8 + 10) / 7)
    # the scripted judge answers no pairwise verdict: recorded as unparseable, never counted
    assert "pairwise" not in tasks["respond_gen.en"]


def test_a_scripted_base_model_is_scored_by_loglikelihood_and_resumes(tmp_path):
    units = load_units(["perceive"], "en", data=None, limit=4)
    table = {" " + opt: -float(len(opt)) for it in units[0].items for opt in it.options}
    script = tmp_path / "lp.yaml"
    script.write_text(json.dumps({"logprobs": table, "chat_tuned": False, "default": "A"}))
    args = ["--model", f"scripted:{script}", "--tasks", "perceive", "--language", "en", "--out", str(tmp_path / "s")]
    out = bench(*args, "--limit", "4", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    out = bench(*args, "--limit", "4", tmp_path=tmp_path)  # same config: resumes, nothing new to do
    assert out.returncode == 0, out.stderr
    samples = (tmp_path / "s" / "samples.jsonl").read_text().splitlines()
    assert len(samples) == 4
    first = json.loads(samples[0])
    assert first["method"] == "loglikelihood" and len(first["loglikelihoods"]) == len(first["options"])
    # shortest option wins on the total; the per-byte normalisation treats them all alike (-1 per byte)
    assert first["pred"] == min(range(len(first["options"])), key=lambda i: (len(first["options"][i]), i))
    out = bench(*args, "--limit", "2", tmp_path=tmp_path)  # a different config must not mix into this folder
    assert out.returncode == 2 and "different config" in out.stderr


def test_bad_input_gets_one_line_and_exit_2(tmp_path):
    out = bench("--tasks", "nope", tmp_path=tmp_path)
    assert out.returncode == 2 and "unknown task 'nope'" in out.stderr
    out = bench("--task", "eqbench", "--responses", str(tmp_path / "none.jsonl"), tmp_path=tmp_path)
    assert out.returncode == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    out = bench("--task", "eqbench", "--data", str(broken), "--model", "scripted:" + str(broken), tmp_path=tmp_path)
    assert out.returncode == 2 and "not valid JSON" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_audit_passes_on_the_shipped_items_and_fails_on_a_planted_artifact(tmp_path):
    env = {"EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    ok = run_empllm("bench", "audit", env=env)
    assert ok.returncode == 0, ok.stdout[-2000:]
    planted = tmp_path / "items"
    planted.mkdir()
    lines = (items_dir() / "perceive.en.jsonl").read_text().splitlines()
    rows = [json.loads(x) for x in lines[1:]]
    for row in rows:  # make the gold the longest option every time
        row["options"][row["gold"]] += " — deeply and visibly, with everything that entails for her"
    (planted / "perceive.en.jsonl").write_text("\n".join([json.dumps({"canary": CANARY})] +
                                                         [json.dumps(r) for r in rows]) + "\n")  # fmt: skip
    bad = run_empllm("bench", "audit", "--items", str(planted), env=env)
    assert bad.returncode == 1
    assert "artifact_longest_option" in bad.stdout and "FAIL" in bad.stdout


def test_an_interrupted_run_resumes_without_losing_or_repeating_items(tmp_path):
    import signal
    import time

    script = tmp_path / "slow.yaml"
    script.write_text(json.dumps({"default": "B", "delay_s": 0.2}))
    args = [EMPLLM, "bench", "--model", f"scripted:{script}", "--tasks", "perceive", "--language", "en",
            "--method", "generate", "--limit", "20", "--concurrency", "1", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    env = {**os.environ, "EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = tmp_path / "run" / "samples.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not samples.is_file() or len(samples.read_text().splitlines()) < 5):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Rerun the same command to resume" in err
    partial = len(samples.read_text().splitlines())
    assert 5 <= partial < 20
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(x)["id"] for x in samples.read_text().splitlines()]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert json.loads((tmp_path / "run" / "results.json").read_text())["tasks"]["perceive.en"]["n"] == 20
