"""The trace chain: pick, per row, the first generation (in `select` order) that passes every trace filter.

Generations are tried in rounds: round k sends each undecided row's k-th preferred generation through the
filters in recipe order, batch by batch, so a filter sees many traces at once (worker pools, batched
tokenisation) and an expensive filter only sees generations that passed the cheaper ones before it. The
result, and the funnel, equal those of checking every generation with every filter: a row passes filter
F when some generation passes all filters up to F, and every generation of a dropped row is tried.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from curate import schema
from curate.filters import Drop, Keep, Trace, TraceFilter
from curate.table import SourceTable

LABELS = ("is_reasoning_complete", "finish_reasons", "correctness_math_verify", "correctness_llama")
NO_GENERATIONS = "no_generations"


@dataclass
class RowState:
    """One row in the chain: its generations in preference order and, once decided, the one chosen or the
    deepest drop."""

    row_id: int
    candidates: list[Trace]
    next: int = 0
    depth: int = -1  # deepest filter index a failing generation reached
    drop: tuple[str, Drop] | None = None
    selected: Trace | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChainResult:
    frame: pl.DataFrame  # row_id, selected, depth, filter, reason, detail, info, fields
    filters: list[str]


class ChainTally:
    """The chain's funnel, added up batch by batch from result tables (row_id, selected, depth, reason), so
    the driver never holds every row's result at once."""

    def __init__(self, filters: list[str]) -> None:
        self.filters = filters
        self.depths = np.zeros(len(filters) + 1, dtype=np.int64)  # rows whose deepest filter index is i
        self.dropped: list[Counter[str]] = [Counter() for _ in range(len(filters) + 1)]

    def add(self, batch: pa.RecordBatch | pa.Table) -> None:
        depth = batch.column("depth").to_numpy()
        self.depths += np.bincount(depth, minlength=self.depths.size)[: self.depths.size]
        dropped = np.flatnonzero(batch.column("selected").to_numpy() < 0)
        reasons = batch.column("reason").take(pa.array(dropped)).to_pylist()
        for index, reason in zip(depth[dropped].tolist(), reasons):
            self.dropped[index][reason] += 1

    def funnel(self) -> list[dict[str, Any]]:
        """Rows in/out at each filter, with drops per reason."""
        reached = np.cumsum(self.depths[::-1])[::-1]  # rows with depth >= i
        return [
            {
                "filter": name,
                "rows_in": int(reached[index]),
                "rows_out": int(reached[index + 1]),
                "dropped": dict(sorted(self.dropped[index].items())),
            }
            for index, name in enumerate(self.filters)
        ]


def order_candidates(traces: list[Trace], strategy: str, chosen: str | None = None) -> list[Trace]:
    """Generations in preference order. `dataset` keeps only the one the source's `messages` column chose."""
    if strategy == "dataset":
        return [t for t in traces if t.text == chosen][:1]
    if strategy == "first":
        return traces
    sign = 1 if strategy == "shortest" else -1
    return sorted(traces, key=lambda t: (sign * len(t.text), t.index))


def run_chain(
    filters: Sequence[TraceFilter],
    table: SourceTable,
    row_ids: np.ndarray,
    *,
    strategy: str,
    extra_columns: Sequence[str] = (),
    batch_rows: int = 2048,
    on_rows: Callable[[int], None] | None = None,
) -> ChainResult:
    present = table.common_columns()
    columns = ["uuid", "problem", "answer", "generations", *[c for c in LABELS if c in present]]
    columns += [c for c in extra_columns if c not in columns]
    if strategy == "dataset":
        columns.append("messages")
    results: list[RowState] = []
    for chunk in table.iter_rows(columns, row_ids, batch_rows=batch_rows):
        schema.check_lengths(chunk, table.locate)
        states = [candidates(row, strategy) for row in chunk.iter_rows(named=True)]
        decide(filters, states)
        results.extend(states)
        if on_rows:
            on_rows(len(states))
    return ChainResult(_to_frame(results, len(filters)), [f.name for f in filters])


def candidates(row: dict[str, Any], strategy: str) -> RowState:
    """A source row's generations as traces, in the `select` strategy's preference order."""
    generations = row["generations"] or []

    def label(name: str, i: int) -> Any:
        values = row.get(name)
        return values[i] if values is not None and i < len(values) else None

    traces = [
        Trace(
            row_id=row["row_id"],
            uuid=row["uuid"],
            problem=row["problem"],
            answer=row["answer"] or "",
            index=i,
            text=text or "",
            is_reasoning_complete=label("is_reasoning_complete", i),
            finish_reason=label("finish_reasons", i),
            correctness_math_verify=label("correctness_math_verify", i),
            correctness_llama=label("correctness_llama", i),
        )
        for i, text in enumerate(generations)
    ]
    messages = row.get("messages") or []
    chosen = messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else None
    return RowState(row["row_id"], order_candidates(traces, strategy, chosen))


def decide(filters: Sequence[TraceFilter], states: list[RowState]) -> None:
    """Choose each row's generation (or record its deepest drop) in place, round by round."""
    pending = [s for s in states if s.candidates]
    while pending:
        batch = [(s, s.candidates[s.next]) for s in pending]
        for s, _ in batch:
            s.next += 1
        gathered: dict[int, dict[str, Any]] = {id(s): {} for s, _ in batch}
        for depth, f in enumerate(filters):
            verdicts = f.apply([t for _, t in batch])
            survivors = []
            for (s, trace), verdict in zip(batch, verdicts):
                if isinstance(verdict, Drop):
                    if depth > s.depth:
                        s.depth, s.drop = depth, (f.name, verdict)
                else:
                    assert isinstance(verdict, Keep)
                    gathered[id(s)].update(verdict.fields)
                    survivors.append((s, trace))
            batch = survivors
            if not batch:
                break
        for s, trace in batch:
            s.selected, s.depth, s.fields = trace, len(filters), gathered[id(s)]
        pending = [s for s in pending if s.selected is None and s.next < len(s.candidates)]


def _to_frame(states: list[RowState], n_filters: int) -> pl.DataFrame:
    rows: list[tuple[Any, ...]] = []
    for s in states:
        if s.selected is not None:
            rows.append(
                (
                    s.row_id,
                    s.selected.index,
                    n_filters,
                    None,
                    None,
                    None,
                    None,
                    json.dumps(s.fields, sort_keys=True),
                )
            )
        elif s.drop is None:
            rows.append(
                (s.row_id, -1, 0, "select", NO_GENERATIONS, "no generation to choose from", None, None)
            )
        else:
            name, drop = s.drop
            info = json.dumps(drop.info, sort_keys=True) if drop.info else None
            rows.append((s.row_id, -1, s.depth, name, drop.reason, drop.detail, info, None))
    schema = {
        "row_id": pl.Int64,
        "selected": pl.Int64,
        "depth": pl.Int64,
        "filter": pl.String,
        "reason": pl.String,
        "detail": pl.String,
        "info": pl.String,
        "fields": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
