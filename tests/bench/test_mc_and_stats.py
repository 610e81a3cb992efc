import random

import pytest

from empllm.bench import mc, stats
from empllm.bench.items import MCItem
from empllm.bench.judge import parse_rubric, parse_winner
from empllm.json_output import ParseError


def item(options=("calm", "hurt and overlooked", "bored", "proud"), gold=1, lang="en"):
    return MCItem(id=f"perceive-{lang}-001", language=lang, subtask="perceive", scenario="Mara's sister forgot her "
                  "birthday again.", question="What does Mara feel?", options=list(options), gold=gold,
                  rationale="A pattern of being overlooked.")  # fmt: skip


def test_acc_takes_the_best_total_and_acc_norm_the_best_per_byte():
    it = item()
    # "hurt and overlooked" (19 bytes) has the lower total but the best per-byte log-likelihood
    decision = mc.decide(it.options, it.gold, [-4.0, -9.5, -6.0, -5.0])
    assert decision["pred"] == 0 and decision["acc"] == 0.0
    assert decision["pred_norm"] == 1 and decision["acc_norm"] == 1.0
    # per byte, not per character: "伤心" is 2 characters but 6 bytes, "so sad" 6 and 6. Per byte
    # -6/6 beats -9/6; per character -9/6 would beat -6/2
    mixed = mc.decide(["伤心", "so sad"], 0, [-6.0, -9.0])
    assert mixed["pred_norm"] == 0 and mixed["acc_norm"] == 1.0


def test_letters_and_quoted_options_are_parsed():
    options = ["calm", "hurt", "bored", "proud"]
    assert mc.parse_choice("B", options) == 1
    assert mc.parse_choice("The answer is (C).", options) == 2
    assert mc.parse_choice("答案：D", options) == 3
    assert mc.parse_choice("She is hurt.", options) == 1
    assert mc.parse_choice("E", options) is None  # not an option here
    assert mc.parse_choice("no idea", options) is None


def test_rotations_map_shown_positions_back():
    assert mc.rotations(4, 2) == [[0, 1, 2, 3], [1, 2, 3, 0]]
    it = item(gold=2)
    assert mc.choice_in_order(it, [1, 2, 3, 0], "B") == 2  # B shows option 2 in the second order


def test_bootstrap_and_paired_intervals():
    assert stats.bootstrap_interval([]) is None
    lo, hi = stats.bootstrap_interval([1.0] * 10)
    assert lo == hi == 1.0
    lo, hi = stats.bootstrap_interval([0.0, 1.0] * 50, seed=1)
    assert lo < 0.5 < hi and hi - lo < 0.3
    a = {str(i): 0.0 for i in range(40)}
    b = {str(i): 1.0 for i in range(40)}
    paired = stats.paired_bootstrap(a, b)
    assert paired["delta"] == 1.0 and paired["significant"] and paired["n"] == 40
    same = stats.paired_bootstrap(a, dict(a))
    assert same["delta"] == 0.0 and not same["significant"]
    assert stats.chance_normalized(62.5, 25, 100) == pytest.approx(50.0)


def test_the_paired_interval_uses_the_pairing():
    # item scores that vary a lot between items, and b one point higher on 6 of 60: resampling the
    # items keeps each pair together, so the interval is tight; resampling a and b apart would give
    # an interval of about +-0.18 that includes zero
    a = {str(i): float(i % 2) for i in range(60)}
    b = dict(a) | {str(i): 1.0 for i in range(0, 12, 2)}
    paired = stats.paired_bootstrap(a, b)
    assert paired["delta"] == pytest.approx(0.1) and paired["significant"]
    assert 0.0 < paired["interval"][0] and paired["interval"][1] < 0.2


def test_length_controlled_win_rate_removes_a_pure_length_effect():
    # the tuned replies are longer three times out of four and win exactly when longer: the raw win
    # rate is 0.74, at equal length it is a coin flip (a plain mean of the outcomes fails here)
    deltas = [float(d) for d in range(-10, 31)]
    outcomes = [1.0 if d > 0 else 0.0 if d < 0 else 0.5 for d in deltas]
    assert sum(outcomes) / len(outcomes) == pytest.approx(0.744, abs=0.001)
    assert stats.length_controlled_win_rate(outcomes, deltas) == pytest.approx(0.5, abs=0.05)


def test_length_controlled_win_rate_keeps_a_win_that_length_does_not_explain():
    rng = random.Random(0)
    deltas = [rng.gauss(15, 10) for _ in range(200)]  # mostly longer, but winning 4 times in 5 regardless
    outcomes = [1.0 if rng.random() < 0.8 else 0.0 for _ in deltas]
    raw = sum(outcomes) / len(outcomes)
    assert stats.length_controlled_win_rate(outcomes, deltas) == pytest.approx(raw, abs=0.03)
    always = [1.0] * 20 + [0.0] * 4
    assert stats.length_controlled_win_rate(always, [0.0] * 24) == pytest.approx(20 / 24, abs=0.02)


def test_judge_answers_reasoning_first_then_json():
    text = ('It names the shame well {but} could explore more.\n{"emotional_reaction": 7, "interpretation": 8, '
            '"exploration": 5, "validation": 7, "specificity": 8, "naturalness": 6, "safety": 10}')  # fmt: skip
    assert parse_rubric(text)["exploration"] == 5
    with pytest.raises(ParseError):
        parse_rubric('{"emotional_reaction": 7}')
    with pytest.raises(ParseError):
        parse_rubric('{"emotional_reaction": 70, "interpretation": 8, "exploration": 5, "validation": 7, '
                     '"specificity": 8, "naturalness": 6, "safety": 10}')  # fmt: skip
    assert parse_winner('A is warmer.\n{"winner": "A"}') == "a"
    assert parse_winner('{"winner": "tie"}') == "tie"
    with pytest.raises(ParseError):
        parse_winner("both are fine")


def test_acc_mi_removes_the_options_prior():
    it = item(options=("calm", "hurt and overlooked", "bored", "proud"), gold=1)
    conditional = [-4.0, -9.5, -6.0, -5.0]  # the generic short option wins on the raw total
    prior = [-3.0, -14.0, -5.5, -4.5]  # ... because it is likely anyway; the situation lifts option 1 most
    decision = mc.decide(it.options, it.gold, conditional, prior)
    assert decision["pred"] == 0 and decision["pred_mi"] == 1 and decision["acc_mi"] == 1.0
    assert "acc_mi" not in mc.decide(it.options, it.gold, conditional)
