"""The kinds of EmpTest sub-task. A kind decides how a task's items are read, how one item is scored,
and how a task's samples become its score; every sub-task (bench/registry.py) names one.

Built in:
- `mc`: multiple choice, by log-likelihood or by letter; acc, acc_norm, acc_mi; chance 1 / options.
- `rating`: rate emotions 0-10 (EQ-Bench v2 formula); the best constant rater as a baseline.
- `respond`: an open reply rated by a judge's rubric (needs --judge).
- `session`: a whole conversation with a simulated client, judged (needs --judge).

A new kind is one `TaskKind`, registered by another package under the entry-point group
`empllm.task_kinds` (a name -> a TaskKind); its tasks then run, aggregate and compare like these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel

from empllm.bench import external
from empllm.bench.intensity import RATINGS, item_score
from empllm.bench.items import IntensityItem, MCItem, RespondGenItem
from empllm.bench.scorers import score_mc, score_rating, score_respond
from empllm.bench.stats import bootstrap_interval
from empllm.errors import EmpLLMError
from empllm.plugins import plugin_entries
from empllm.prompts import render

ENTRY_POINT_GROUP = "empllm.task_kinds"

# (run, item, recorded response or None, seed) -> the item's record; `run` is the BenchRun, which
# offers model(), judge(), runtime(spec), closed(scorer), responses, reference_for(item) and config
Scorer = Callable[[object, object, str | None, int], Awaitable[dict]]


def _same(items: list) -> list:
    return items


@dataclass(frozen=True)
class TaskKind:
    name: str
    scale: float  # the task score is scale x the mean item score
    best: float  # a perfect item score
    score: Scorer
    schema: type[BaseModel] | None = None  # its item files' schema; None: it has no item files
    scorer_items: Callable[[list], list] = _same  # the validated items as `score` reads them
    # its items in one language without item files, and where they came from (session: personas)
    own_items: Callable[[str], tuple[list, str]] | None = None
    needs_judge: bool = False
    from_responses: bool = True  # can be scored from replies recorded elsewhere (--responses)
    measures: Callable[[list, dict, int], None] | None = None  # adds its own measures to a results row
    main_metric: str = "score"  # the main score's name in comparisons
    extra_metrics: tuple[str, ...] = ()  # further per-item metrics, each compared on its own


# -- multiple choice ----------------------------------------------------------------------------


async def _score_mc(run, item, response, seed) -> dict:
    cfg = run.config

    async def scorer(model, method):
        return await score_mc(model, item, method=method, fmt=cfg.mc_format, permutations=cfg.permutations,
                              response=response, seed=seed, calibrate=cfg.calibrate)  # fmt: skip

    return await run.closed(scorer)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _mc_measures(samples: list, row: dict, seed: int) -> None:
    row["acc_norm"] = 100 * (_mean([s.acc_norm for s in samples]) or 0.0)
    row["acc_norm_interval"] = bootstrap_interval([100 * s.acc_norm for s in samples], seed=seed)
    calibrated = [100 * s.acc_mi for s in samples if s.acc_mi is not None]
    if calibrated:
        row["acc_mi"] = _mean(calibrated)
        row["acc_mi_interval"] = bootstrap_interval(calibrated, seed=seed)


# -- ratings ------------------------------------------------------------------------------------


async def _score_rating(run, item, response, seed) -> dict:
    return await run.closed(lambda model, method: score_rating(model, item, method=method, response=response,
                                                               seed=seed))  # fmt: skip


def rating_items(items: list[IntensityItem]) -> list[external.RatingItem]:
    """Intensity items as the rating scorer reads them: the rendered question and the references."""
    return [external.RatingItem(it.id, it.language, render("bench_intensity", it.language, item=it, ask_format=True),
                                list(it.emotions), [float(r) for r in it.reference]) for it in items]  # fmt: skip


def _rating_measures(samples: list, row: dict, seed: int) -> None:
    if samples:  # the best a rater that ignores the dialogue could do
        row["constant_baseline"] = max(
            (10 * _mean([item_score([c] * len(s.reference), s.reference) for s in samples]), c) for c in RATINGS
        )[0]


# -- judged replies and sessions ----------------------------------------------------------------


async def _score_respond(run, item, response, seed) -> dict:
    method = "responses" if run.responses is not None else "generate"
    return await score_respond(run.model(), item, judge=run.judge(), method=method, response=response,
                               reference=run.reference_for(item), seed=seed)  # fmt: skip


async def _score_session(run, item, response, seed) -> dict:
    from empllm.bench.session_task import run_eval_session  # the simulation stack, only when a session runs

    cfg = run.config
    return await run_eval_session(item, model=run.model(), client=run.runtime(cfg.client or cfg.judge),
                                  judge=run.judge(), replies=cfg.session_replies, seed=seed)  # fmt: skip


def _session_personas(language: str) -> tuple[list, str]:
    from empllm.bench.session_task import eval_persona_files, eval_personas

    personas = [p for p in eval_personas() if p.language == language]
    return personas, str(next(p for p in eval_persona_files() if p.stem.endswith(language)))


def _session_measures(samples: list, row: dict, seed: int) -> None:
    for key in ("intensity_delta", "trust_delta"):
        row[key] = _mean([getattr(s, key) for s in samples if getattr(s, key) is not None])


RUBRIC = {"scale": 1.0, "best": 10.0, "needs_judge": True}
BUILTIN_KINDS: dict[str, TaskKind] = {kind.name: kind for kind in (
    TaskKind("mc", 100.0, 1.0, _score_mc, MCItem, measures=_mc_measures, main_metric="acc",
             extra_metrics=("acc_norm", "acc_mi")),
    TaskKind("rating", 10.0, 10.0, _score_rating, IntensityItem, scorer_items=rating_items, measures=_rating_measures),
    TaskKind("respond", score=_score_respond, schema=RespondGenItem, **RUBRIC),
    TaskKind("session", score=_score_session, own_items=_session_personas, from_responses=False,
             measures=_session_measures, **RUBRIC),
)}  # fmt: skip


def task_kinds() -> dict[str, TaskKind]:
    """Built in, then from other packages (entry points)."""
    return plugin_entries(ENTRY_POINT_GROUP, BUILTIN_KINDS)


def kind_of(name: str) -> TaskKind:
    kinds = task_kinds()
    if name not in kinds:
        raise EmpLLMError(f"unknown task kind {name!r}; known: {', '.join(kinds)}")
    return kinds[name]
