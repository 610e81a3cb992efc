"""Curation steps are a list in the config: a new filter is one class, found through an entry point,
and the funnel (CLI table, curate.json) lists whatever ran."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from empllm.cli import app
from empllm.curate import steps as steps_module
from empllm.curate.pipeline import CurateConfig, run_curation
from empllm.errors import EmpLLMError

from ..plugin_package import install_plugin
from .sessions import make_session

PLUGIN = '''
from empllm.curate.decision import Issue
from empllm.curate.steps import CurationStep


class MentionsTea(CurationStep):
    """Drops sessions whose client mentions tea (a stand-in for any project-specific rule)."""

    name = "no_tea"
    codes = ("mentions_tea",)

    def check(self, session):
        return [Issue(filter=self.name, code="mentions_tea", turn=i) for i, t in enumerate(session.turns)
                if t.role == "client" and "tea" in t.content.lower()]
'''


@pytest.fixture
def tea_plugin(tmp_path, monkeypatch):
    """A step in a package of its own, declared under the entry-point group."""
    install_plugin(tmp_path / "site", "tea_step", PLUGIN, steps_module.ENTRY_POINT_GROUP,
                   {"no_tea": "tea_step:MentionsTea"}, monkeypatch)  # fmt: skip


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    tea = make_session(sid="en-tea")
    tea.turns[0].content = "I made tea for two again this morning and then just sat there."
    sessions = [make_session(sid="en-good"), make_session(lang="zh", sid="zh-good"), tea]
    (run / "sessions.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in sessions))
    return run


async def test_a_plugin_step_drops_with_its_code_and_joins_the_funnel(tea_plugin, run_dir, tmp_path):
    config = CurateConfig(steps=["rules", "no_tea"])
    summary = await run_curation(run_dir, tmp_path / "cur", config)
    assert summary.steps == ["rules", "no_tea"]
    assert (summary.kept, dict(summary.dropped_by)) == (2, {"no_tea": 1})
    meta = json.loads((tmp_path / "cur" / "curate.json").read_text())
    assert meta["summary"]["steps"] == ["rules", "no_tea"] and meta["summary"]["codes"] == {"mentions_tea": 1}


def test_the_cli_runs_the_steps_it_is_given_and_shows_each_in_the_funnel(tea_plugin, run_dir, tmp_path):
    result = CliRunner().invoke(app, ["curate", str(run_dir), str(tmp_path / "cur"), "--steps", "no_tea,rules"])
    assert result.exit_code == 0, result.output
    assert "dropped by no_tea" in result.output and "dropped by grounding" not in result.output
    decisions = [json.loads(line) for line in (tmp_path / "cur" / "decisions.jsonl").open()]
    assert [d["id"] for d in decisions if not d["kept"]] == ["en-tea"]


async def test_the_default_steps_run_in_order_and_an_unknown_one_is_a_clear_error(run_dir, tmp_path):
    summary = await run_curation(run_dir, tmp_path / "cur", CurateConfig())
    assert summary.steps == ["rules", "grounding", "safety", "dedup"]
    # the tea session's notes (about a dog) are ungrounded, and its replies repeat en-good's: the
    # funnel names the step that ran first
    assert summary.codes == {"ungrounded_notes": 1, "near_duplicate_replies": 1}
    assert dict(summary.dropped_by) == {"grounding": 1}
    reordered = await run_curation(run_dir, tmp_path / "cur3", CurateConfig(steps=["dedup", "grounding"]))
    assert dict(reordered.dropped_by) == {"dedup": 1}
    with pytest.raises(EmpLLMError, match="unknown curation step 'no_tea'; known: rules, grounding"):
        await run_curation(run_dir, tmp_path / "cur2", CurateConfig(steps=["rules", "no_tea"]))
