"""Timing and baseline helpers shared by `curate bench` and the `scripts/measure_*.py` studies, so a number
from either was measured the same way."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def best_of(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, dict[str, float]]:
    """Best wall and CPU seconds (every thread of this process) of each callable over `repeats` interleaved
    rounds, so a busy machine slows all of them alike."""
    best = {name: {"wall_s": float("inf"), "cpu_s": float("inf")} for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = {"wall_s": min(best[name]["wall_s"], wall), "cpu_s": min(best[name]["cpu_s"], cpu)}
    return best


def timed(func: Callable[[], T], repeats: int = 1) -> tuple[float, T]:
    """The best wall seconds of `repeats` calls, and the last call's result."""
    seconds = float("inf")
    for _ in range(max(repeats, 1)):
        started = time.perf_counter()
        result = func()
        seconds = min(seconds, time.perf_counter() - started)
    return seconds, result


def python_shingles(texts: Sequence[str], ngram: int = 5) -> list[list[str]]:
    """Word shingles as a user builds them to feed rensa or datasketch (same shingles as curate's)."""
    out = []
    for text in texts:
        words = text.split(" ")
        out.append([" ".join(words[i : i + ngram]) for i in range(max(len(words) - ngram + 1, 1))])
    return out
