"""Metrics against values worked out by hand for a four-problem, four-rollout table."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from curate.evaluate.metrics import ProblemOutcome, compute_metrics, ks_for, majority_correct, pass_at_k

T, F = True, False

# Two datasets of two problems, N = 4. Correct counts: A 2, B 0 | C 4, D 1.
TABLE = [
    ProblemOutcome(
        "x", (T, F, T, F), ("5", "7", "5", "7"), ("stop", "length", "stop", "length"), (10, 20, 30, 40)
    ),
    ProblemOutcome("x", (F, F, F, F), (None, "3", "3", None), (None,) * 4, (None,) * 4),
    ProblemOutcome("y", (T, T, T, T), ("1",) * 4, ("stop",) * 4, (1, 2, 3, 4)),
    ProblemOutcome("y", (F, F, F, T), ("2", "2", "9", "8"), ("stop", "stop", "stop", "length"), (5, 6, 7, 8)),
]


def test_pass_at_k_matches_counting_subsets() -> None:
    """1 - C(n-c, k)/C(n, k) is the share of k-subsets of the n samples holding at least one correct."""
    n = 6
    for c in range(n + 1):
        samples = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(samples, k))
            expected = Fraction(sum(any(s) for s in subsets), len(subsets))
            assert pass_at_k(n, c, k) == pytest.approx(float(expected), abs=1e-12)


def test_pass_at_k_by_hand() -> None:
    assert pass_at_k(4, 2, 1) == 0.5
    assert pass_at_k(4, 2, 2) == pytest.approx(5 / 6)  # 1 - C(2,2)/C(4,2) = 1 - 1/6
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(4, 1, 4) == 1.0
    assert pass_at_k(16, 0, 8) == 0.0
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)


def test_ks() -> None:
    assert ks_for(16) == [1, 2, 4, 8, 16]
    assert ks_for(6) == [1, 2, 4, 6]
    assert ks_for(1) == [1]


def test_majority_vote_ties_and_blanks() -> None:
    assert majority_correct(TABLE[0]) is True  # 2-2 tie: "5" was seen first, and "5" is right
    assert majority_correct(TABLE[1]) is False
    assert majority_correct(TABLE[3]) is False  # "2" wins although rollout 4 ("8") is right
    nothing = ProblemOutcome("z", (F, F), (None, None), (None, None), (None, None))
    assert majority_correct(nothing) is False


def test_metrics_table() -> None:
    metrics = compute_metrics(TABLE)
    x, y, overall = metrics["datasets"]["x"], metrics["datasets"]["y"], metrics["overall"]
    assert list(metrics["datasets"]) == ["x", "y"]
    # x: run accuracies 0.5, 0, 0.5, 0
    assert x["pass@1"] == pytest.approx(0.25)
    assert x["pass@1_std"] == pytest.approx(0.25)
    assert x["pass@2"] == pytest.approx(5 / 12)
    assert x["pass@4"] == pytest.approx(0.5)
    assert (x["any@4"], x["perfect@4"], x["maj@4"]) == (0.5, 0.0, 0.5)
    assert x["truncated"] == pytest.approx(0.5)  # B has no finish reasons: only A's 4 count
    assert x["median_tokens"] == 25
    assert x["no_answer"] == pytest.approx(2 / 8)
    # y: run accuracies 0.5, 0.5, 0.5, 1
    assert y["pass@1"] == pytest.approx(0.625)
    assert y["pass@2"] == pytest.approx(0.75)
    assert (y["any@4"], y["perfect@4"], y["maj@4"]) == (1.0, 0.5, 0.5)
    assert y["truncated"] == pytest.approx(1 / 8)
    assert y["median_tokens"] == 4.5
    # overall pools the four problems, as the model card's T0 row pools its 100
    assert overall["problems"] == 4 and overall["rollouts"] == 4
    assert overall["pass@1"] == pytest.approx((0.5 + 0 + 1 + 0.25) / 4)
    assert overall["pass@2"] == pytest.approx(7 / 12)
    assert overall["pass@4"] == pytest.approx(0.75) == overall["any@4"]
    assert overall["perfect@4"] == 0.25
    assert overall["truncated"] == pytest.approx(3 / 12)
    assert overall["median_tokens"] == 6.5  # 1..8, 10, 20, 30, 40
    for group in (x, y, overall):
        for key, value in group.items():
            if key not in ("problems", "rollouts", "median_tokens") and value is not None:
                assert 0.0 <= value <= 1.0, key


def test_unequal_rollouts_rejected() -> None:
    short = ProblemOutcome("x", (T,), ("1",), (None,), (None,))
    with pytest.raises(ValueError, match="same"):
        compute_metrics([TABLE[0], short])
