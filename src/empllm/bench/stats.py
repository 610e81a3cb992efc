"""Intervals and normalisations for EmpTest scores: bootstrap over items, paired deltas, chance."""

from __future__ import annotations

import numpy as np

BOOTSTRAP_SAMPLES = 2000


def bootstrap_interval(values: list[float], *, seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of the mean over items, resampling items with replacement."""
    if not values:
        return None
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(BOOTSTRAP_SAMPLES, len(data)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def paired_bootstrap(a: dict[str, float], b: dict[str, float], *, seed: int = 0) -> dict | None:
    """Mean of b - a over the items both runs scored, with a paired percentile interval."""
    shared = sorted(a.keys() & b.keys())
    if not shared:
        return None
    diffs = [b[k] - a[k] for k in shared]
    interval = bootstrap_interval(diffs, seed=seed)
    return {"delta": float(np.mean(diffs)), "interval": interval, "n": len(shared),
            "significant": bool(interval and (interval[0] > 0 or interval[1] < 0))}  # fmt: skip


def chance_normalized(score: float, chance: float, best: float) -> float:
    """(score - chance) / (best - chance) x 100: 0 is chance level, 100 is a perfect score."""
    return (score - chance) / (best - chance) * 100 if best != chance else 0.0


def length_controlled_win_rate(outcomes: list[float], length_deltas: list[float]) -> float | None:
    """Win rate with the length effect regressed out (in the spirit of AlpacaEval's LC win rate).

    Fits P(win) = sigmoid(a + b * tanh(delta / sd)) by Newton steps on outcomes in {0, 0.5, 1}
    (ties count as half a win) and reports sigmoid(a): the win rate at equal length.
    """
    if len(outcomes) < 3:
        return None
    y = np.asarray(outcomes, dtype=float)
    d = np.asarray(length_deltas, dtype=float)
    sd = d.std() or 1.0
    x = np.stack([np.ones_like(d), np.tanh(d / sd)], axis=1)
    w = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (y - p) - 1e-3 * w  # a small ridge keeps separable data finite
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return float(1 / (1 + np.exp(-w[0])))
