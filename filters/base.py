"""The filter interface.

A filter's only job is to say, for each row (or each generation of a row), keep or drop-with-reason.
Counting, timing, parallel dispatch and the funnel live here and in the engine, never in a filter.

Three kinds, by what a decision needs to see:
- `RowFilter`: one row's columns (source, question_type, the problem text for decontamination...).
- `GlobalFilter`: all surviving rows at once (deduplication needs to see every cluster member).
- `TraceFilter`: one generation of a row. The engine runs the trace filters as one chain, generation by
  generation in the `select` preference order, and stops at the first generation that passes them all,
  so expensive checks (answer verification, tokenisation) run only where they can change the result.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Keep:
    """Keep the row; `fields` are values the filter adds to the output row (e.g. `num_tokens`)."""

    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Drop:
    """Drop the row. `reason` is a short stable code, `detail` a sentence for humans, `info` structured data
    that a filter's report is built from (e.g. the matched benchmark item)."""

    reason: str
    detail: str = ""
    info: dict[str, Any] | None = None


KEEP = Keep()
Verdict = Keep | Drop


class FilterParams(BaseModel):
    """Base of every filter's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class FilterContext:
    """What the engine lends a filter: the recipe seed, a cache folder, the worker count, and the
    `build_messages` keywords of the recipe's `format` (so token counts see the rows as written)."""

    seed: int = 0
    cache_dir: str | None = None
    workers: int = 1
    recipe_dir: str | None = None
    format_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    """One source row: `row_id` is the engine's index, `data` holds only the columns the filter asked for."""

    row_id: int
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@dataclass
class Trace:
    """One generation of one row, with its per-generation labels from the source."""

    row_id: int
    uuid: str
    problem: str
    answer: str
    index: int
    text: str
    is_reasoning_complete: bool | None = None
    finish_reason: str | None = None
    correctness_math_verify: bool | None = None
    correctness_llama: bool | None = None


@dataclass
class FilterStats:
    seen: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "kept": self.kept,
            "dropped": dict(sorted(self.dropped.items())),
            "seconds": round(self.seconds, 3),
        }


class Filter:
    """Common base. Subclasses set `name` (by registering), `Params`, and `columns`."""

    name: ClassVar[str] = ""
    level: ClassVar[Literal["row", "global", "trace"]]
    Params: ClassVar[type[FilterParams]] = FilterParams
    columns: ClassVar[tuple[str, ...]] = ()
    # Row and trace filters whose per-item work is CPU-bound Python set this to run in worker processes.
    parallel: ClassVar[bool] = False

    def __init__(self, params: FilterParams | None = None, context: FilterContext | None = None) -> None:
        self.params = params if params is not None else self.Params()
        self.context = context or FilterContext()
        self.stats = FilterStats()

    def setup(self) -> None:
        """Heavy one-time preparation (indexes, tokenizers), run once before any data is seen."""

    def required_columns(self) -> tuple[str, ...]:
        """Source columns this filter reads; may depend on parameters."""
        return self.columns

    def fingerprint_extra(self) -> str:
        """Anything besides parameters and code that changes results (e.g. hashes of user files)."""
        return ""

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any] | None:
        """A JSON report built from this filter's drops as (uuid, drop) pairs, written beside the outputs."""
        return None

    def close(self) -> None:
        """Release worker processes or other resources."""

    def _account(self, verdicts: Sequence[Verdict], seconds: float) -> None:
        self.stats.seen += len(verdicts)
        self.stats.seconds += seconds
        for verdict in verdicts:
            if isinstance(verdict, Drop):
                self.stats.dropped[verdict.reason] += 1
            elif isinstance(verdict, Keep):
                self.stats.kept += 1
            else:
                raise TypeError(f"filter {self.name!r} returned {verdict!r}, not Keep or Drop")

    def _timed(self, items: Sequence[Any], decide: Callable[[Sequence[Any]], list[Verdict]]) -> list[Verdict]:
        start = time.perf_counter()
        verdicts = decide(items)
        if len(verdicts) != len(items):
            raise RuntimeError(
                f"filter {self.name!r} returned {len(verdicts)} verdicts for {len(items)} items"
            )
        self._account(verdicts, time.perf_counter() - start)
        return verdicts


class RowFilter(Filter):
    level = "row"

    def filter(self, row: Row) -> Verdict:
        raise NotImplementedError

    def filter_batch(self, rows: Sequence[Row]) -> list[Verdict]:
        return [self.filter(row) for row in rows]

    def apply(self, rows: Sequence[Row], pool: Executor | None = None, chunk: int = 2048) -> list[Verdict]:
        return self._timed(rows, lambda items: _dispatch(self, items, pool, chunk))


class TraceFilter(Filter):
    level = "trace"

    def filter(self, trace: Trace) -> Verdict:
        raise NotImplementedError

    def filter_batch(self, traces: Sequence[Trace]) -> list[Verdict]:
        return [self.filter(trace) for trace in traces]

    def apply(self, traces: Sequence[Trace], pool: Executor | None = None, chunk: int = 512) -> list[Verdict]:
        return self._timed(traces, lambda items: _dispatch(self, items, pool, chunk))


class GlobalFilter(Filter):
    level = "global"

    def filter_all(self, rows: pl.DataFrame) -> list[Verdict]:
        """`rows` holds `row_id` and the requested columns of every surviving row, in source order."""
        raise NotImplementedError

    def apply(self, rows: pl.DataFrame) -> list[Verdict]:
        return self._timed(rows, lambda frame: self.filter_all(frame))


# The filter a worker process runs: set in the parent before the pool forks, so workers inherit it built.
_WORKER_FILTERS: dict[int, Filter] = {}


def register_for_workers(f: Filter) -> None:
    _WORKER_FILTERS[id(f)] = f


def _run_in_worker(key: int, items: Sequence[Any]) -> list[Verdict]:
    return _WORKER_FILTERS[key].filter_batch(items)  # type: ignore[attr-defined]


def _dispatch(f: Filter, items: Sequence[Any], pool: Executor | None, chunk: int) -> list[Verdict]:
    if pool is None or not f.parallel or len(items) <= chunk or id(f) not in _WORKER_FILTERS:
        return f.filter_batch(items)  # type: ignore[attr-defined]
    parts: Iterable[Sequence[Any]] = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    futures = [pool.submit(_run_in_worker, id(f), part) for part in parts]
    return [verdict for future in futures for verdict in future.result()]
