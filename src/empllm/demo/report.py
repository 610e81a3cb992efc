"""report.html of a demo run, rendered from results.json only. Every figure is wrapped as
<span data-key="path/in/results.json">, so a test can check the page against the file.
Self-contained: inline SVG, no scripts, no network."""

from __future__ import annotations

import html
from pathlib import Path

from empllm.bench.report import fmt_num, score_bar
from empllm.bench.run import write_json
from empllm.demo.results import COMPARISONS
from empllm.jsonl_store import write_text_atomic

MODELS = {"base": "base", "think": "tuned, with contemplation", "drop": "tuned, without contemplation"}
esc = html.escape


def num(value, key: str, digits: int = 1) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else fmt_num(value, digits)
    return f"<span data-key='{esc(key)}'>{text}</span>"


def _interval(ci, key: str) -> str:
    if not ci:
        return "–"
    return f"[{num(ci[0], key + '/0')}, {num(ci[1], key + '/1')}]"


def _funnel(results: dict) -> str:
    out = ["<h2>Funnel</h2><table id='funnel'><tr><th>language</th><th class='num'>simulated</th><th>outcomes</th>"
           "<th>dropped by</th><th>reasons</th><th class='num'>kept</th></tr>"]  # fmt: skip
    for lang, row in results["funnel"].items():
        k = f"funnel/{lang}"
        outcomes = ", ".join(f"{esc(o)} {num(n, f'{k}/outcomes/{o}')}" for o, n in row["outcomes"].items())
        dropped = ", ".join(f"{esc(f)} {num(n, f'{k}/dropped_by/{f}')}" for f, n in row["dropped_by"].items())
        codes = ", ".join(f"{esc(c)} {num(n, f'{k}/codes/{c}')}" for c, n in row["codes"].items())
        out.append(f"<tr><td>{lang}</td><td class='num'>{num(row['simulated'], k + '/simulated')}</td>"
                   f"<td>{outcomes}</td><td>{dropped or '–'}</td><td>{codes or '–'}</td>"
                   f"<td class='num'>{num(row['kept'], k + '/kept')}</td></tr>")  # fmt: skip
    out.append("</table><h3>Training data by source</h3><table id='sources'><tr><th>split</th>"
               "<th class='num'>simulated (kept)</th><th class='num'>hand-written seed</th></tr>")  # fmt: skip
    for split, row in results["training_data"]["splits"].items():
        k = f"training_data/splits/{split}"
        out.append(f"<tr><td>{split}</td><td class='num'>{num(row['simulated'], k + '/simulated')}</td>"
                   f"<td class='num'>{num(row['seed'], k + '/seed')}</td></tr>")  # fmt: skip
    seed = "on" if results["training_data"]["seed_data"] else "off"
    return "".join(out) + f"</table><p>--seed-data {seed}.</p>"


def _curves(training: dict, width: int = 640, height: int = 200) -> str:
    """Training loss per step for both runs, one polyline each."""
    points = [(p["step"], p["loss"]) for run in training.values() for p in run["loss_curve"]]
    if not points:
        return "<p>No loss was logged.</p>"
    max_step = max(s for s, _ in points) or 1
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    span = (hi - lo) or 1.0

    def xy(step, loss):
        return 40 + (width - 60) * step / max_step, 10 + (height - 40) * (hi - loss) / span

    colours = {"think": "#4a7bd0", "drop": "#d07a4a"}
    parts = [f"<svg width='{width}' height='{height}' role='img' aria-label='training loss'>",
             f"<line x1='40' y1='{height - 30}' x2='{width - 20}' y2='{height - 30}' stroke='#999'/>",
             f"<line x1='40' y1='10' x2='40' y2='{height - 30}' stroke='#999'/>",
             f"<text x='2' y='16' font-size='11'>{hi:.2f}</text>",
             f"<text x='2' y='{height - 30}' font-size='11'>{lo:.2f}</text>",
             f"<text x='{width - 60}' y='{height - 12}' font-size='11'>step {max_step}</text>"]  # fmt: skip
    for i, (mode, run) in enumerate(training.items()):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(p["step"], p["loss"]) for p in run["loss_curve"]))
        parts.append(f"<polyline fill='none' stroke='{colours.get(mode, '#333')}' stroke-width='2' points='{pts}'/>")
        parts.append(f"<text x='{width - 200}' y='{24 + 14 * i}' font-size='12' "
                     f"fill='{colours.get(mode, '#333')}'>{esc(MODELS[mode])}</text>")  # fmt: skip
    return "".join(parts) + "</svg>"


def _training(results: dict) -> str:
    out = ["<h2>Training</h2>", _curves(results["training"]),
           "<table id='training'><tr><th>run</th><th class='num'>steps</th><th class='num'>first loss</th>"
           "<th class='num'>final train loss</th><th class='num'>eval loss</th><th class='num'>tokens/s</th>"
           "<th class='num'>wall s</th></tr>"]  # fmt: skip
    for mode, run in results["training"].items():
        k = f"training/{mode}"
        first = run["loss_curve"][0]["loss"] if run["loss_curve"] else None
        out.append(f"<tr><td>{esc(MODELS[mode])}</td><td class='num'>{num(run['steps'], k + '/steps')}</td>"
                   f"<td class='num'>{num(first, k + '/loss_curve/0/loss', 3)}</td>"
                   f"<td class='num'>{num(run['final_train_loss'], k + '/final_train_loss', 3)}</td>"
                   f"<td class='num'>{num(run['eval_loss'], k + '/eval_loss', 3)}</td>"
                   f"<td class='num'>{num(run['tokens_per_s'], k + '/tokens_per_s')}</td>"
                   f"<td class='num'>{num(run['train_wall_s'], k + '/train_wall_s')}</td></tr>")  # fmt: skip
    return "".join(out) + "</table>"


def _delta_cell(d: dict | None, key: str) -> str:
    if d is None:
        return "<td>–</td>"
    if d["significant"]:
        label = f"<b class='sig'>{'higher' if d['delta'] > 0 else 'lower'}</b>"
    else:
        label = "<i class='noise'>within noise</i>"
    return f"<td>{num(d['delta'], key + '/delta')} {_interval(d['interval'], key + '/interval')} {label}</td>"


def _emptest(results: dict) -> str:
    em = results["emptest"]
    head = "".join(f"<th class='num'>{esc(MODELS[m])}</th>" for m in em["models"])
    deltas = "".join(f"<th>{esc(b)} − {esc(a)}</th>" for a, b, _ in COMPARISONS.values())
    out = ["<h2>EmpTest</h2><p>Every sub-task, pooled over both languages and per language, on every metric it "
           "has (multiple choice: <code>acc</code>, <code>acc_norm</code> per byte, <code>acc_mi</code> relative to "
           "the options' prior). Scores (0–100) with bootstrap 95% intervals over items; deltas are paired over "
           "the same items, with paired bootstrap 95% intervals. <i>within noise</i>: the interval includes 0."
           "</p><table id='emptest'><tr><th>sub-task</th><th>language</th><th>metric</th><th class='num'>n</th>",
           head, "<th class='num'>chance</th>", deltas, "</tr>"]  # fmt: skip
    for row_key, row in em["rows"].items():
        task, _, lang = row_key.partition(".")
        for metric, by_model in row["metrics"].items():
            k = f"emptest/rows/{row_key}"
            cells = []
            for m in em["models"]:
                value, mk = by_model.get(m), f"{k}/metrics/{metric}/{m}"
                if value is None or value["score"] is None:
                    cells.append("<td>–</td>")
                    continue
                bar = score_bar(value["score"], value["interval"], row["chance"], row["best"], 160)
                cells.append(f"<td class='num'>{num(value['score'], mk + '/score')} "
                             f"{_interval(value['interval'], mk + '/interval')}<br>{bar}</td>")  # fmt: skip
            cells.append(f"<td class='num'>{num(row['chance'], k + '/chance')}</td>")
            for name in COMPARISONS:
                d = em["deltas"][name].get(row_key, {}).get(metric)
                cells.append(_delta_cell(d, f"emptest/deltas/{name}/{row_key}/{metric}"))
            out.append(f"<tr data-task='{esc(row_key)}' data-metric='{esc(metric)}'><td>{esc(task)}</td>"
                       f"<td>{esc(lang or 'pooled')}</td><td>{esc(metric)}</td>"
                       f"<td class='num'>{num(row['n'], k + '/n')}</td>{''.join(cells)}</tr>")  # fmt: skip
    models = " · ".join(f"{esc(m)}: <code>{esc(spec)}</code>" for m, spec in em["models"].items())
    return "".join(out) + f"</table><p>{models}</p>"


def _examples(results: dict) -> str:
    out = [
        "<h2>Example replies</h2><p>The same message to each model, sampled (temperature 0.7, top-p 0.95, "
        "the run's seed).</p>"
    ]
    for i, row in enumerate(results["examples"]):
        out.append(f"<h3>{esc(row['language'])}: “{esc(row['message'])}”</h3><div class='row'>")
        for m, reply in row["replies"].items():
            notes = (f"<details><summary>contemplation</summary><pre>{esc(reply['contemplation'])}</pre></details>"
                     if reply.get("contemplation") else "")  # fmt: skip
            out.append(f"<div class='reply' data-example='{i}' data-model='{esc(m)}'><b>{esc(MODELS[m])}</b>"
                       f"{notes}<p>{esc(reply['reply']) or '<i>(empty)</i>'}</p></div>")  # fmt: skip
        out.append("</div>")
    return "".join(out)


def _stages(results: dict) -> str:
    rows = "".join(f"<tr><td>{esc(name)}</td><td class='num'>{num(s, f'stage_wall_s/{name}')}</td></tr>"
                   for name, s in results["stage_wall_s"].items())  # fmt: skip
    total = sum(results["stage_wall_s"].values())
    return (f"<h2>Stages</h2><table id='stages'><tr><th>stage</th><th class='num'>wall s</th></tr>{rows}"
            f"<tr><td><b>total</b></td><td class='num'>{total:.1f}</td></tr></table>")  # fmt: skip


def render_demo_report(results: dict) -> str:
    cfg, prov = results["config"], results["provenance"]
    verdict = "".join(f"<li>{esc(line)}</li>" for line in results["verdict"])
    return "".join([
        "<!doctype html><html><head><meta charset='utf-8'><title>EmpLLM demo report</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
        ".num{text-align:right}.sig{font-weight:bold;color:#155}.noise{color:#777}"
        ".row{display:flex;gap:1em}.reply{flex:1;border:1px solid #ddd;padding:.5em;border-radius:6px}"
        "pre{white-space:pre-wrap;font-size:12px}</style></head><body>",
        "<h1>EmpLLM demo: simulate → curate → train ± contemplation → EmpTest</h1>",
        f"<p>simulator <code>{esc(cfg['model'])}</code> · base <code>{esc(cfg['base'])}</code> · seed {cfg['seed']}"
        f" · config {esc(results['config_hash'])} · prompts {esc(str(prov['prompts_version']))} · empllm "
        f"{esc(str(prov['empllm_version']))} · git {esc(str(prov['git_revision']))} · written {esc(results['written'])}"
        "</p>",
        f"<h2>Verdict</h2><ul id='verdict'>{verdict}</ul>",
        _funnel(results), _training(results), _emptest(results), _examples(results), _stages(results),
        "</body></html>",
    ])  # fmt: skip


def write_results(out_dir: Path, results: dict) -> None:
    """results.json, and report.html rendered from it."""
    write_json(out_dir / "results.json", results)
    write_text_atomic(out_dir / "report.html", render_demo_report(results))
