"""Benchmark metrics over judged rollouts: the model card's pass@1 / any@N / perfect@N and their kin.

Every metric is a fraction in [0, 1] computed from per-problem lists of equal length N (the rollouts), so a
run that is resumed, reordered or rescored gives the same numbers.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb
from typing import Any


@dataclass(frozen=True)
class ProblemOutcome:
    """One problem's rollouts after judging, aligned by rollout index."""

    dataset: str
    correct: tuple[bool, ...]
    # Normalised extracted answers (None: nothing extracted); majority voting counts these.
    votes: tuple[str | None, ...]
    finish_reasons: tuple[str | None, ...]
    num_tokens: tuple[int | None, ...]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with `c` correct out of `n` samples: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def ks_for(n: int) -> list[int]:
    """1, 2, 4, ... up to n, with n itself always last (pass@n equals any@n)."""
    ks = [1]
    while ks[-1] * 2 <= n:
        ks.append(ks[-1] * 2)
    if ks[-1] != n:
        ks.append(n)
    return ks


def majority_correct(outcome: ProblemOutcome) -> bool:
    """Whether the most frequent extracted answer is right; ties go to the answer seen first, and a
    problem where nothing was extracted counts as wrong."""
    counts = Counter(v for v in outcome.votes if v is not None)
    if not counts:
        return False
    best = max(counts.values())
    winner = next(v for v in outcome.votes if v is not None and counts[v] == best)
    return next(c for v, c in zip(outcome.votes, outcome.correct) if v == winner)


def summarize(outcomes: Sequence[ProblemOutcome]) -> dict[str, Any]:
    """Metrics of a set of problems that all have the same number of rollouts N.

    pass@1 is computed the model card's way: the dataset-level accuracy of each of the N runs (run r = the
    r-th rollout of every problem), averaged over runs; `pass@1_std` is the spread of those run accuracies.
    """
    if not outcomes:
        raise ValueError("no problems to summarise")
    n = len(outcomes[0].correct)
    if n == 0 or any(len(o.correct) != n for o in outcomes):
        raise ValueError("every problem needs the same, non-zero number of rollouts")
    problems = len(outcomes)
    solved = [sum(o.correct) for o in outcomes]
    runs = [sum(o.correct[r] for o in outcomes) / problems for r in range(n)]
    metrics: dict[str, Any] = {
        "problems": problems,
        "rollouts": n,
        "pass@1": statistics.fmean(runs),
        "pass@1_std": statistics.pstdev(runs),
    }
    for k in ks_for(n)[1:]:
        metrics[f"pass@{k}"] = statistics.fmean(pass_at_k(n, c, k) for c in solved)
    metrics[f"any@{n}"] = sum(c > 0 for c in solved) / problems
    metrics[f"perfect@{n}"] = sum(c == n for c in solved) / problems
    metrics[f"maj@{n}"] = sum(majority_correct(o) for o in outcomes) / problems
    metrics["no_answer"] = statistics.fmean(v is None for o in outcomes for v in o.votes)
    reasons = [r for o in outcomes for r in o.finish_reasons if r is not None]
    metrics["truncated"] = statistics.fmean(r == "length" for r in reasons) if reasons else None
    tokens = [t for o in outcomes for t in o.num_tokens if t is not None]
    metrics["median_tokens"] = statistics.median(tokens) if tokens else None
    return metrics


def compute_metrics(outcomes: Sequence[ProblemOutcome]) -> dict[str, Any]:
    """Per dataset (in first-seen order) and `overall` (all problems pooled, as the model card's T0 row)."""
    by_dataset: dict[str, list[ProblemOutcome]] = {}
    for outcome in outcomes:
        by_dataset.setdefault(outcome.dataset, []).append(outcome)
    return {
        "datasets": {name: summarize(group) for name, group in by_dataset.items()},
        "overall": summarize(outcomes),
    }
