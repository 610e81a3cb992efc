import math

import pytest

from empllm.bench import intensity


def test_cost_follows_the_eqbench_v2_formula():
    assert intensity.emotion_cost(7, 7) == 0.0
    assert intensity.emotion_cost(3, 7) == pytest.approx(6.5 / 2)  # d = 4 sits at the sigmoid's midpoint
    assert intensity.emotion_cost(2, 7) == pytest.approx(6.5 / (1 + math.exp(-1.2)))  # d = 5
    assert intensity.emotion_cost(1, 7) == 6.0  # d > 5 costs d itself
    assert intensity.emotion_cost(0.5, 1) == pytest.approx(6.5 / (1 + math.exp(-1.2 * (0.5 - 4))))


def test_a_constant_five_scores_exactly_what_the_formula_gives():
    reference = [0, 3, 8, 10]
    costs = [6.5 / (1 + math.exp(-1.2 * (5 - 4))), 6.5 / (1 + math.exp(-1.2 * (2 - 4))),
             6.5 / (1 + math.exp(-1.2 * (3 - 4))), 6.5 / (1 + math.exp(-1.2 * (5 - 4)))]  # fmt: skip
    expected = 10 - 0.7477 * sum(costs)
    assert intensity.item_score([5, 5, 5, 5], reference) == pytest.approx(expected)
    assert intensity.task_score([expected, expected]) == pytest.approx(10 * expected)
    assert intensity.item_score(reference, reference) == 10.0


def test_ratings_are_read_from_name_number_lines_in_both_languages():
    emotions = ["Resentful", "relieved", "Embarrassed", "hopeful"]
    text = "Resentful: 7\n- relieved: 0\n**Embarrassed**: 2.5\nhopeful : 10\n"
    assert intensity.parse_ratings(text, emotions) == [7, 0, 2.5, 10]
    assert intensity.parse_ratings("委屈：8\n愧疚: 1\n欣慰：0\n尴尬：3", ["委屈", "愧疚", "欣慰", "尴尬"]) == [
        8,
        1,
        0,
        3,
    ]
    assert intensity.parse_ratings("Resentful: 7\nrelieved: 0", emotions) is None  # all four or nothing
    assert intensity.parse_ratings("Resentful: 70\nrelieved: 0\nEmbarrassed: 1\nhopeful: 1", emotions) is None


def test_revised_scores_count_only_when_they_parse_and_are_not_worse():
    emotions, reference = ["a", "b", "c", "d"], [5, 5, 5, 5]
    better = "First pass scores:\na: 0\nb: 0\nc: 0\nd: 0\nRevised scores:\na: 5\nb: 5\nc: 5\nd: 5"
    score, ratings, which = intensity.score_answer(better, emotions, reference)
    assert (which, ratings, score) == ("revised", [5, 5, 5, 5], 10.0)
    worse = "First pass scores:\na: 5\nb: 5\nc: 5\nd: 5\nRevised scores:\na: 0\nb: 0\nc: 0\nd: 0"
    assert intensity.score_answer(worse, emotions, reference)[2] == "first_pass"
    broken = "First pass scores:\na: 4\nb: 5\nc: 5\nd: 5\nRevised scores:\na: 5\nb: 5"
    score, ratings, which = intensity.score_answer(broken, emotions, reference)
    assert which == "first_pass" and ratings == [4, 5, 5, 5]
    assert intensity.score_answer("I cannot say.", emotions, reference)[0] is None


def test_expected_rating_and_chance():
    lps = [math.log(0.5) if r in (2, 4) else -1e9 for r in intensity.RATINGS]
    assert intensity.expected_rating(lps) == pytest.approx(3.0)
    # a uniform random rater's expected score; a perfect rater gets 10
    chance = intensity.chance_item_score([0, 10, 5, 5])
    assert 0 < chance < 10


def test_the_constant_rater_baseline_is_the_best_single_number():
    from empllm.bench.records import SampleRecord
    from empllm.bench.results import summarize_task

    samples = [SampleRecord(id=f"i{n}", task="intensity", language="en", score=score, chance=1.0, method="responses",
                            reference=[4, 4, 4, 4]) for n, score in enumerate((5.0, 6.0))]  # fmt: skip
    row = summarize_task("intensity", samples)
    assert row.constant_baseline == pytest.approx(100.0)  # answering 4 everywhere is perfect here
    assert row.score == pytest.approx(55.0)
