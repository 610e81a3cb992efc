"""report.html for a bench run: a chart per sub-task (score, interval, chance), the worst items, and
a comparison view when a second run is given. Self-contained: inline SVG, no scripts, no network."""

from __future__ import annotations

import html
from pathlib import Path

from empllm.bench.compare import compare_runs, load_run
from empllm.bench.records import SampleRecord, TaskScore

WORST = 5


def fmt_num(x, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def score_bar(score, interval, chance, best, width: int = 360) -> str:
    """A horizontal bar from 0 to best, the interval as a whisker, chance as a dashed line."""

    def x(v):
        return 10 + (width - 20) * max(0.0, min(1.0, (v or 0) / best)) if best else 10

    parts = [f'<svg width="{width}" height="26" role="img" aria-label="score {fmt_num(score)} of {best:g}">',
             f'<rect x="10" y="8" width="{width - 20}" height="10" fill="#eee"/>']  # fmt: skip
    if score is not None:
        parts.append(f'<rect x="10" y="8" width="{x(score) - 10:.1f}" height="10" fill="#4a7bd0"/>')
    if interval:
        lo, hi = x(interval[0]), x(interval[1])
        parts.append(f'<line x1="{lo:.1f}" y1="13" x2="{hi:.1f}" y2="13" stroke="#123" stroke-width="2"/>')
        parts += [f'<line x1="{v:.1f}" y1="9" x2="{v:.1f}" y2="17" stroke="#123"/>' for v in (lo, hi)]
    c = x(chance)
    parts.append(f'<line x1="{c:.1f}" y1="3" x2="{c:.1f}" y2="23" stroke="#c33" stroke-dasharray="3,2"/>')
    return "".join(parts) + "</svg>"


def _below(row: TaskScore) -> str:
    """A flag for a score whose whole interval lies under chance: a systematic bias, not noise."""
    ci = row.interval
    if not ci or ci[1] >= row.chance:
        return ""
    hint = "; see acc_mi" if row.has("acc_mi") else ""
    return f" <span class='below' title='the interval lies below chance'>below chance{hint}</span>"


def worst_items(samples: list[SampleRecord], task: str, language: str, n: int = WORST) -> list[SampleRecord]:
    rows = [s for s in samples if s.task == task and s.language == language]

    def badness(s):
        if s.score is None:
            return float("inf")
        lls = s.loglikelihoods
        if lls and s.pred is not None and s.pred != s.gold:  # confidently wrong first
            return 1 + lls[s.pred] - lls[s.gold]
        return -s.score

    return sorted(rows, key=badness, reverse=True)[:n]


def _describe(s: SampleRecord) -> str:
    esc = html.escape
    if s.options is not None:
        got = "(unparsed)" if s.pred is None else s.options[s.pred]
        return f"answered <b>{esc(got)}</b>; gold <b>{esc(s.options[s.gold])}</b>"
    if s.reference is not None:
        return f"ratings {esc(str(s.ratings))} vs reference {esc(str(s.reference))}"
    if s.reply is not None:
        return f"reply: {esc(s.reply[:300])}"
    if s.persona is not None:
        return f"persona {esc(s.persona)}; intensity {s.intensity_start}→{s.intensity_end}"
    return ""


def render_report(results: dict, samples: list[SampleRecord], comparison: dict | None = None) -> str:
    esc = html.escape
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>EmpTest report</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
        ".num{text-align:right}.sig{font-weight:bold}.noise{color:#777}</style></head><body>",
        f"<h1>EmpTest: {esc(str(results['model']))}</h1>",
        f"<p>judge: {esc(str(results.get('judge')))} · config {esc(results['config_hash'])} · prompts "
        f"{esc(results['prompts_version'])} · empllm {esc(results['empllm_version'])} · seed {results['seed']} · "
        f"{results['wall_s']} s</p>",
        "<p>Bars run from 0 to a perfect score; the whisker is the bootstrap 95% interval over items; the red "
        "dashed line is chance (the rubric floor for judged tasks).</p>",
        "<h2>Scores</h2><table id='scores'><tr><th>task</th><th>lang</th><th>method</th><th class='num'>n</th>"
        "<th class='num'>score</th><th>95% interval</th><th class='num'>chance</th>"
        "<th class='num'>chance-normalized</th><th>chart</th></tr>",
    ]
    for key, row in results["tasks"].items():
        ci = row.interval
        out.append(
            f"<tr data-task='{esc(key)}'><td>{esc(row.task)}</td><td>{esc(str(row.language))}</td>"
            f"<td>{esc(str(row.method))}</td><td class='num'>{row.n}/{row.n_items}</td>"
            f"<td class='num score'>{fmt_num(row.score)}</td><td>{fmt_num(ci and ci[0])} – {fmt_num(ci and ci[1])}"
            f"{_below(row)}</td>"
            f"<td class='num'>{fmt_num(row.chance)}</td><td class='num'>{fmt_num(row.chance_normalized)}</td>"
            f"<td>{score_bar(row.score, ci, row.chance, row.best)}</td></tr>"
        )
    out.append("</table>")
    extras = [(k, r) for k, r in results["tasks"].items()
              if any(r.has(f) for f in ("acc_norm", "pairwise", "trust_delta", "constant_baseline"))]  # fmt: skip
    if extras:
        out.append("<h2>More measures</h2><ul>")
        for key, r in extras:
            if r.has("acc_norm"):
                mi = f", acc_mi {fmt_num(r.acc_mi)}" if r.has("acc_mi") else ""
                out.append(f"<li>{esc(key)}: acc_norm {fmt_num(r.acc_norm)}{mi}</li>")
            if r.has("constant_baseline"):
                out.append(f"<li>{esc(key)}: the best constant rating (the same number for every emotion) "
                           f"scores {fmt_num(r.constant_baseline)}; below that, the model reads nothing from "
                           "the dialogue</li>")  # fmt: skip
            if r.has("trust_delta"):
                out.append(f"<li>{esc(key)}: client intensity change {fmt_num(r.intensity_delta, 2)}, trust change "
                           f"{fmt_num(r.trust_delta, 2)}</li>")  # fmt: skip
            if r.pairwise is not None:
                p = r.pairwise
                out.append(f"<li>{esc(key)}: pairwise win rate {fmt_num(p.win_rate)} (length-controlled "
                           f"{fmt_num(p.lc_win_rate)}), judge position consistency "
                           f"{fmt_num(p.position_consistency)} over {p.n} pairs</li>")  # fmt: skip
        out.append("</ul>")
    if results.get("skipped"):
        out.append("<h2>Skipped</h2><ul>")
        out += [f"<li>{esc(k)}: {esc(v)}</li>" for k, v in results["skipped"].items()]
        out.append("</ul>")
    if comparison:
        out.append(render_comparison(comparison))
    out.append("<h2>Worst items</h2>")
    for key, row in results["tasks"].items():
        if row.language == "all":
            continue
        out.append(f"<h3>{esc(key)}</h3><table class='worst'>")
        for s in worst_items(samples, row.task, row.language):
            out.append(f"<tr><td>{esc(s.id)}</td><td class='num'>{fmt_num(s.score, 2)}</td>"
                       f"<td>{_describe(s)}</td></tr>")  # fmt: skip
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def render_comparison(comparison: dict) -> str:
    esc = html.escape
    out = [f"<h2>Comparison: B = {esc(comparison['b']['model'])} vs A = {esc(comparison['a']['model'])}</h2>",
           "<p>Delta is B − A on the items both runs scored, with a paired bootstrap 95% interval. A delta whose "
           "interval contains 0 is within noise.</p>",
           "<table id='comparison'><tr><th>task</th><th class='num'>A</th><th class='num'>B</th>"
           "<th class='num'>delta</th><th>95% interval</th><th class='num'>n</th><th>verdict</th></tr>"]  # fmt: skip
    for key, r in comparison["tasks"].items():
        ci = r["interval"]
        verdict = "B higher" if ci[0] > 0 else "B lower" if ci[1] < 0 else "within noise"
        out.append(f"<tr><td>{esc(key)}</td><td class='num'>{fmt_num(r['a'])}</td>"
                   f"<td class='num'>{fmt_num(r['b'])}</td>"
                   f"<td class='num'>{fmt_num(r['delta'])}</td><td>{fmt_num(ci[0])} – {fmt_num(ci[1])}</td>"
                   f"<td class='num'>{r['n']}</td><td class='{'sig' if r['significant'] else 'noise'}'>{verdict}</td>"
                   "</tr>")  # fmt: skip
    out.append("</table>")
    return "\n".join(out)


def write_report(run_dir: Path, compare_with: Path | None = None, out: Path | None = None) -> Path:
    results, samples = load_run(run_dir)
    comparison = compare_runs(compare_with, run_dir) if compare_with else None
    path = out or run_dir / "report.html"
    path.write_text(render_report(results, samples, comparison), encoding="utf-8")
    return path
