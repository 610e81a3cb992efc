"""The task registry: a new multiple-choice sub-task is its item files plus one declaration, from a
folder (--include-path) or from another package (the entry-point group), and runs end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from empllm.bench import registry
from empllm.bench.items import load_mc_items
from empllm.cli import app
from empllm.errors import EmpLLMError

from ..plugin_package import install_plugin

TASK_DIR = Path(__file__).parent / "data" / "comfort_task"
LETTERS = "ABCDEF"


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    monkeypatch.setattr(registry, "_INCLUDED", {})  # what one test includes, the next does not see


def run_cli(*args, tmp_path):
    result = CliRunner().invoke(app, ["bench", *args, "--quiet"], env={"EMPLLM_CACHE_DIR": str(tmp_path / "cache")})
    return result


def responses(tmp_path, answer) -> Path:
    items = load_mc_items(TASK_DIR / "comfort_mc.en.jsonl")
    path = tmp_path / "responses.jsonl"
    path.write_text("".join(json.dumps({"id": it.id, "response": answer(it)}) + "\n" for it in items))
    return path


def test_a_declared_task_runs_end_to_end_from_its_folder(tmp_path):
    gold = responses(tmp_path, lambda it: LETTERS[it.gold])
    out = run_cli("--include-path", str(TASK_DIR), "--tasks", "comfort_mc", "--responses", str(gold),
                  "--out", str(tmp_path / "gold"), tmp_path=tmp_path)  # fmt: skip
    assert out.exit_code == 0, out.output
    results = json.loads((tmp_path / "gold" / "results.json").read_text())
    row = results["tasks"]["comfort_mc.en"]
    assert (row["kind"], row["n"], row["score"], row["chance"]) == ("mc", 4, 100.0, 25.0)
    assert json.loads((tmp_path / "gold" / "run.json").read_text())["config"]["include_path"] == str(TASK_DIR)

    wrong = responses(tmp_path, lambda it: LETTERS[(it.gold + 1) % 4])
    out = run_cli("--include-path", str(TASK_DIR), "--tasks", "comfort_mc", "--responses", str(wrong),
                  "--out", str(tmp_path / "wrong"), tmp_path=tmp_path)  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads((tmp_path / "wrong" / "results.json").read_text())["tasks"]["comfort_mc.en"]["score"] == 0.0
    compared = CliRunner().invoke(app, ["bench", "compare", str(tmp_path / "gold"), str(tmp_path / "wrong")])
    assert compared.exit_code == 0, compared.output  # compare reads the kind from results.json, no --include-path


def test_without_the_declaration_the_task_is_unknown(tmp_path):
    out = run_cli("--tasks", "comfort_mc", "--responses", str(responses(tmp_path, lambda it: "A")),
                  "--out", str(tmp_path / "r"), tmp_path=tmp_path)  # fmt: skip
    assert out.exit_code != 0 and "unknown task 'comfort_mc'" in str(out.exception)


@pytest.mark.integration
def test_a_declared_task_is_scored_by_the_embedded_model(tmp_path):
    out = run_cli("--include-path", str(TASK_DIR), "--tasks", "comfort_mc", "--model", "llamacpp:gemma-3-270m",
                  "--limit", "2", "--out", str(tmp_path / "real"), tmp_path=tmp_path)  # fmt: skip
    assert out.exit_code == 0, out.output
    samples = [json.loads(line) for line in (tmp_path / "real" / "samples.jsonl").read_text().splitlines()]
    assert [s["id"] for s in samples] == ["comfort_mc-en-001", "comfort_mc-en-002"]
    assert all(s["method"] == "loglikelihood" and len(s["loglikelihoods"]) == 4 for s in samples)


def test_a_package_declares_a_task_through_the_entry_point_group(tmp_path, monkeypatch):
    folder = tmp_path / "tasks"
    shutil.copytree(TASK_DIR, folder)
    source = (f"from pathlib import Path\nfrom empllm.bench.registry import TaskSpec\n"
              f"COMFORT = TaskSpec('comfort_mc', 'mc', 'from a package', folder=Path({str(folder)!r}), default=False)\n")  # fmt: skip
    install_plugin(tmp_path / "site", "comfort_tasks", source, registry.ENTRY_POINT_GROUP,
                   {"comfort_mc": "comfort_tasks:COMFORT"}, monkeypatch)  # fmt: skip
    assert "comfort_mc" in registry.task_names(kind="mc", builtin=False)
    assert "comfort_mc" not in registry.task_names(default=True)
    out = run_cli("--tasks", "comfort_mc", "--responses", str(responses(tmp_path, lambda it: LETTERS[it.gold])),
                  "--out", str(tmp_path / "pkg"), tmp_path=tmp_path)  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads((tmp_path / "pkg" / "results.json").read_text())["tasks"]["comfort_mc.en"]["score"] == 100.0


def test_the_built_in_lists_come_from_the_registry():
    assert registry.task_names(kind="mc", builtin=True, external=False) == [
        "perceive", "understand", "manage", "respond_mc", "safety"]  # fmt: skip
    assert registry.closed_builtin_tasks()[-1] == "intensity"
    assert registry.task_names(default=True) == [
        "perceive", "intensity", "understand", "manage", "respond_mc", "safety", "respond_gen", "session"]  # fmt: skip
    assert registry.task_names(external=True) == ["eqbench", "emobench_eu", "emobench_ea"]


@pytest.mark.parametrize(
    ("declaration", "items_name", "message"),
    [
        ("task: comfort_mc\nkind: essay\n", "comfort_mc.en.jsonl", "kind"),
        ("task: perceive\nkind: mc\n", "perceive.en.jsonl", "is built in"),
        ("task: comfort_mc\nkind: mc\n", "other.en.jsonl", "no item file comfort_mc.en.jsonl"),
        ("task: comfort_mc\nkind: mc\nlanguage: en\n", "comfort_mc.en.jsonl", "language"),
        ("task: Comfort-MC\nkind: mc\n", "comfort_mc.en.jsonl", "task"),
    ],
)
def test_a_bad_declaration_is_one_clear_error(tmp_path, declaration, items_name, message):
    (tmp_path / "task.yaml").write_text(declaration, encoding="utf-8")
    shutil.copy(TASK_DIR / "comfort_mc.en.jsonl", tmp_path / items_name)
    with pytest.raises(EmpLLMError, match=message):
        registry.include_path(tmp_path)


def test_items_must_name_the_task_of_their_file(tmp_path):
    (tmp_path / "kind_mc.yaml").write_text("task: kind_mc\nkind: mc\n", encoding="utf-8")
    shutil.copy(TASK_DIR / "comfort_mc.en.jsonl", tmp_path / "kind_mc.en.jsonl")  # items say comfort_mc
    registry.include_path(tmp_path)
    with pytest.raises(EmpLLMError, match="is of sub-task 'comfort_mc', not 'kind_mc'"):
        registry.get_task("kind_mc").read_items(tmp_path / "kind_mc.en.jsonl")


def test_the_audit_reads_a_folder_of_declared_tasks(tmp_path):
    out = CliRunner().invoke(app, ["bench", "audit", "--items", str(TASK_DIR)])
    assert "comfort_mc.en.jsonl" in out.output and "4 items, canary present" in out.output


YES_NO_KIND = """
from dataclasses import dataclass

from empllm.bench.kinds import TaskKind


@dataclass
class Question:
    id: str
    language: str


def questions(language):
    return [Question(f"q{i}", language) for i in range(4)], "four questions"


async def score(run, item, response, seed):
    said = (response or "").strip().lower()
    return {"method": "responses", "reply": said, "score": 5.0 if said == "yes" else 0.0, "chance": 2.5}


def measures(samples, row, seed):
    row["constant_baseline"] = 25.0


YES_NO = TaskKind("yes_no", scale=10.0, best=5.0, score=score, own_items=questions, measures=measures)
"""


def test_a_new_task_kind_is_one_object_from_a_package(tmp_path, monkeypatch):
    from empllm.bench import kinds

    install_plugin(tmp_path / "site", "yes_no_kind", YES_NO_KIND, kinds.ENTRY_POINT_GROUP,
                   {"yes_no": "yes_no_kind:YES_NO"}, monkeypatch)  # fmt: skip
    install_plugin(tmp_path / "site", "yes_no_task",
                   "from empllm.bench.registry import TaskSpec\nAGREE = TaskSpec('agree', 'yes_no', default=False)\n",
                   registry.ENTRY_POINT_GROUP, {"agree": "yes_no_task:AGREE"}, monkeypatch)  # fmt: skip
    runs = {}
    for name, answers in {"half": ["yes", "yes", "no", "no"], "all": ["yes"] * 4}.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"id": f"q{i}", "response": a}) + "\n" for i, a in enumerate(answers)))
        out = run_cli("--tasks", "agree", "--language", "en", "--responses", str(path), "--out", str(tmp_path / name),
                      tmp_path=tmp_path)  # fmt: skip
        assert out.exit_code == 0, out.output
        runs[name] = json.loads((tmp_path / name / "results.json").read_text())["tasks"]["agree.en"]
    # the kind's own scale (10 x the mean item score), best score, chance and measures
    assert (runs["half"]["kind"], runs["half"]["score"], runs["half"]["best"]) == ("yes_no", 25.0, 50.0)
    assert runs["half"]["chance"] == 25.0 and runs["half"]["constant_baseline"] == 25.0
    assert runs["all"]["score"] == 50.0
    from empllm.bench.compare import compare_runs

    delta = compare_runs(tmp_path / "half", tmp_path / "all")["tasks"]["agree.en"]
    assert (delta["a"], delta["b"], delta["delta"]) == (25.0, 50.0, 25.0)
