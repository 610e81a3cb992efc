"""report.html opened in a real headless Chromium: the score rows, charts and comparison view render."""

import json

from selenium.webdriver.common.by import By

from ..browser import browser  # noqa: F401  (the fixture)
from .test_bench_run import bench, mc_items, write_responses


def test_the_report_and_its_comparison_view_render_in_chromium(tmp_path, browser):  # noqa: F811
    items = [it for it in mc_items() if it.subtask == "perceive"]
    gold = write_responses(tmp_path / "g.jsonl", [{"id": it.id, "response": "ABCDEF"[it.gold]} for it in items])
    fixed = write_responses(tmp_path / "b.jsonl", [{"id": it.id, "response": "B"} for it in items])
    for name, path in (("gold", gold), ("fixed", fixed)):
        out = bench("--responses", str(path), "--tasks", "perceive", "--out", str(tmp_path / name), tmp_path=tmp_path)
        assert out.returncode == 0, out.stderr
    from empllm.bench.report import write_report

    page = write_report(tmp_path / "gold", compare_with=tmp_path / "fixed")
    browser.get(page.as_uri())
    assert browser.title == "EmpTest report"
    rows = browser.find_elements(By.CSS_SELECTOR, "#scores tr[data-task]")
    assert [r.get_attribute("data-task") for r in rows] == ["perceive.en", "perceive.zh", "perceive"]
    results = json.loads((tmp_path / "gold" / "results.json").read_text())
    shown = [float(r.find_element(By.CSS_SELECTOR, ".score").text) for r in rows]
    assert shown == [round(results["tasks"][k]["score"], 1) for k in ("perceive.en", "perceive.zh", "perceive")]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#scores svg")) == 3
    verdicts = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#comparison td:last-child")]
    assert verdicts and all(v == "B higher" for v in verdicts)  # gold answers beat a fixed letter
    assert browser.find_elements(By.CSS_SELECTOR, "table.worst tr")
