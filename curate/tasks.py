"""The units of parallel work, as task classes an executor builds once per worker and calls per batch.

Each is built from plain, picklable arguments (filter names, parameters, file paths), never from live
objects, so the same task runs in a local worker process or a Ray actor on another machine.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

import filters
from curate import traces
from curate.table import SourceTable
from filters import Drop, Filter, FilterContext, Keep, Row, Verdict

VERDICT_SCHEMA = pa.schema(
    [
        ("row_id", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("info", pa.string()),
    ]
)


@dataclass(frozen=True)
class FilterSpec:
    """Everything needed to rebuild a filter anywhere."""

    name: str
    params: dict[str, Any]
    context: FilterContext

    def build(self) -> Filter:
        cls = filters.get(self.name)
        instance = cls(cls.Params.model_validate(self.params), self.context)
        instance.setup()
        return instance


def verdicts_to_table(row_ids: list[int], verdicts: list[Verdict]) -> pa.Table:
    """The dropped rows, and the notes on kept rows (reason null, the note's reason in `info["note"]`)."""
    drops: list[tuple[int, Drop, bool]] = []
    for rid, v in zip(row_ids, verdicts):
        if isinstance(v, Drop):
            drops.append((rid, v, False))
        elif isinstance(v, Keep) and v.note is not None:
            drops.append((rid, v.note, True))
    return pa.table(
        {
            "row_id": [rid for rid, _, _ in drops],
            "reason": [None if kept else v.reason for _, v, kept in drops],
            "detail": [v.detail for _, v, _ in drops],
            "info": [
                json.dumps({**(v.info or {}), "note": v.reason} if kept else v.info, sort_keys=True)
                if v.info or kept
                else None
                for _, v, kept in drops
            ],
        },
        schema=VERDICT_SCHEMA,
    )


class RowFilterTask:
    """A row filter over a batch of rows; returns the dropped rows with their reasons."""

    def __init__(self, spec: FilterSpec) -> None:
        self.filter = spec.build()

    def __call__(self, batch: pa.Table) -> pa.Table:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        rows = [Row(r["row_id"], r) for r in frame.iter_rows(named=True)]
        verdicts = self.filter.filter_batch(rows)  # type: ignore[attr-defined]
        return verdicts_to_table([r.row_id for r in rows], verdicts)


class SignatureTask:
    """A global filter's per-row signatures (hash keys, MinHash signatures) over a batch of rows."""

    def __init__(self, spec: FilterSpec) -> None:
        self.filter = spec.build()

    def __call__(self, batch: pa.Table) -> pa.Table:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        return pa.table({"signature": self.filter.signatures(frame)})  # type: ignore[attr-defined]


class ChainTask:
    """The trace chain over a batch of row ids: reads those rows' generations from the source files itself,
    so only row ids and results cross process (or machine) boundaries."""

    def __init__(self, files: list[str], specs: list[FilterSpec], strategy: str, batch_rows: int) -> None:
        self.table = SourceTable([Path(f) for f in files])
        # One process per chain worker: nested pools inside it (e.g. the answer verifier) get one worker.
        self.filters = [replace(s, context=replace(s.context, workers=1)).build() for s in specs]
        self.strategy = strategy
        self.batch_rows = batch_rows
        self.extra = sorted({c for f in self.filters for c in f.required_columns()})
        self.reported: dict[str, Counter] = {f.name: Counter() for f in self.filters}

    def __call__(self, batch: pa.Table) -> pa.Table:
        row_ids = batch.column("row_id").to_numpy()
        for f in self.filters:
            f.stats = type(f.stats)()
        result = traces.run_chain(
            self.filters,
            self.table,
            np.asarray(row_ids),
            strategy=self.strategy,  # type: ignore[arg-type]
            extra_columns=self.extra,
            batch_rows=self.batch_rows,
        )
        stats = {f.name: {**f.stats.as_dict(), "counters": self._new_counts(f)} for f in self.filters}
        table = result.frame.to_arrow()
        column = [json.dumps(stats)] + [None] * (table.num_rows - 1)
        return table.append_column("_stats", pa.array(column, pa.string()))

    def _new_counts(self, f: Filter) -> dict[str, int]:
        """What a filter's running counters gained during this batch."""
        now = Counter(f.counters())
        gained, self.reported[f.name] = now - self.reported[f.name], now
        return dict(gained)


def merge_chain_stats(instances: list[Filter], tables: list[pa.Table]) -> None:
    """Add every batch's per-filter counts into the driver's filter instances."""
    by_name = {f.name: f for f in instances}
    for table in tables:
        cell = table.column("_stats")[0].as_py() if table.num_rows else None
        if not cell:
            continue
        for name, stats in json.loads(cell).items():
            f = by_name[name]
            f.stats.seen += stats["seen"]
            f.stats.kept += stats["kept"]
            f.stats.seconds += stats["seconds"]
            f.stats.dropped.update(Counter(stats["dropped"]))
            f.merge_counters(stats["counters"])
