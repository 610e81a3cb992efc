"""Task scores from sample records: the score, its bootstrap interval, chance and chance-normalised."""

from __future__ import annotations

from collections import Counter

from empllm.bench.kinds import kind_of
from empllm.bench.records import PairwiseScore, SampleRecord, TaskScore
from empllm.bench.registry import get_task
from empllm.bench.stats import bootstrap_interval, chance_normalized, length_controlled_win_rate


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize_task(task: str, samples: list[SampleRecord], *, seed: int = 0, language: str | None = None) -> TaskScore:
    kind = get_task(task).kind
    spec = kind_of(kind)  # the kind's scale, best score and own measures
    scale = spec.scale
    scored = [s for s in samples if s.score is not None]
    values = [scale * s.score for s in scored]
    chance = scale * (_mean([s.chance for s in samples]) or 0.0)
    best = scale * spec.best
    score = _mean(values)
    interval = bootstrap_interval(values, seed=seed)
    normalized_interval = None if interval is None else [chance_normalized(x, chance, best) for x in interval]
    row = {
        "task": task,
        "kind": kind,
        "n": len(scored),
        "n_items": len(samples),
        "unparseable": len(samples) - len(scored),
        "method": Counter(s.method for s in samples).most_common(1)[0][0] if samples else None,
        "score": score,
        "interval": interval,
        "chance": chance,
        "best": best,
        "chance_normalized": None if score is None else chance_normalized(score, chance, best),
        "chance_normalized_interval": normalized_interval,
    }
    if language is not None:
        row["language"] = language
    if spec.measures is not None:
        spec.measures(samples, row, seed)
    pairs = [s for s in samples if s.pair_parsed]
    if pairs:
        outcomes = [s.outcome for s in pairs]
        row["pairwise"] = PairwiseScore(
            n=len(pairs),
            unparseable=sum(1 for s in samples if s.pair_parsed is False),
            win_rate=100 * sum(outcomes) / len(outcomes),
            win_rate_interval=bootstrap_interval([100 * o for o in outcomes], seed=seed),
            lc_win_rate=_pct(length_controlled_win_rate(outcomes, [s.length_delta for s in pairs])),
            position_consistency=100 * sum(s.consistent for s in pairs) / len(pairs),
        )
    return TaskScore(**row)


def _pct(x: float | None) -> float | None:
    return None if x is None else 100 * x
