"""The units of parallel work, as task classes an executor builds once per worker and calls per batch.

Each is built from plain, picklable arguments (filter names, parameters, the source's `Layout`), never from
live objects, so the same task runs in a local worker process or a Ray worker on another machine. A batch is
a table of row ids; the task reads those rows' columns from the source files itself, so only row ids go out
and only results come back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from curate import filters, traces
from curate.clusters import identity
from curate.drops import VERDICT_SCHEMA
from curate.filters import (
    Drop,
    Filter,
    FilterContext,
    GlobalFilter,
    Keep,
    Row,
    RowFilter,
    TraceFilter,
    Verdict,
)
from curate.formatting import build_messages
from curate.mapping import content_ids
from curate.outputs import split_schema
from curate.table import Layout, SourceTable
from curate.tokenizers import TokenCounter, load_counter

# What the writer asks a worker for: which generation of each row, the counts the chain took, the split.
WRITE_SCHEMA = pa.schema(
    [("row_id", pa.int64()), ("selected", pa.int64()), ("fields", pa.string()), ("test", pa.bool_())]
)
OUTPUT_COLUMNS = ["uuid", "problem", "answer", "source", "problem_type", "question_type", "generations"]


@dataclass(frozen=True)
class FilterSpec:
    """Everything needed to rebuild a filter anywhere."""

    name: str
    params: dict[str, Any]
    context: FilterContext

    def build(self) -> Filter:
        cls = filters.get(self.name)
        instance = cls(cls.Params.model_validate(self.params), self.context)
        instance.name = self.name
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


def row_verdicts(f: RowFilter, frame: pl.DataFrame) -> pa.Table:
    """A row filter's drops over a frame of rows."""
    rows = [Row(r["row_id"], r) for r in frame.iter_rows(named=True)]
    return verdicts_to_table([r.row_id for r in rows], f.filter_batch(rows))


def _ids(batch: pa.Table) -> np.ndarray:
    return batch.column("row_id").to_numpy()


class RowFilterTask:
    """A row filter over a batch of rows it reads itself; returns the dropped rows with their reasons."""

    def __init__(self, spec: FilterSpec, layout: Layout, columns: list[str]) -> None:
        self.filter = spec.build()
        self.table = SourceTable.from_layout(layout)
        self.columns = columns

    def __call__(self, batch: pa.Table) -> pa.Table:
        assert isinstance(self.filter, RowFilter)
        return row_verdicts(self.filter, self.table.read(self.columns, _ids(batch)))


class SignatureTask:
    """A global filter's per-row signatures (hash keys, MinHash signatures) over a batch of rows it reads
    itself; for a clustering filter also each row's bucket keys (`key_0`...) and signature digest
    (`high`, `low`), so rows can be grouped without their signatures."""

    def __init__(self, spec: FilterSpec, layout: Layout, columns: list[str]) -> None:
        self.filter = spec.build()
        self.table = SourceTable.from_layout(layout)
        self.columns = columns

    def __call__(self, batch: pa.Table) -> pa.Table:
        f = self.filter
        assert isinstance(f, GlobalFilter)
        frame = self.table.read(self.columns, _ids(batch))
        signatures = f.signatures(frame)
        out: dict[str, Any] = {"row_id": frame["row_id"].to_numpy(), "signature": signatures}
        if f.clusters:
            out["high"], out["low"] = identity(signatures)
            keys = f.bucket_keys(signatures)
            out.update({f"key_{j}": np.ascontiguousarray(keys[:, j]) for j in range(keys.shape[1])})
        return pa.table(out)


class ChainTask:
    """The trace chain over a batch of row ids: reads those rows' generations from the source files itself,
    so only row ids and results cross process (or machine) boundaries."""

    def __init__(self, layout: Layout, specs: list[FilterSpec], strategy: str, batch_rows: int) -> None:
        self.table = SourceTable.from_layout(layout)
        # One process per chain worker: nested pools inside it (e.g. the answer verifier) get one worker.
        self.filters: list[TraceFilter] = []
        for spec in specs:
            built = replace(spec, context=replace(spec.context, workers=1)).build()
            assert isinstance(built, TraceFilter)
            self.filters.append(built)
        self.strategy = strategy
        self.batch_rows = batch_rows
        self.extra = sorted({c for f in self.filters for c in f.required_columns()})
        self.reported: dict[str, Counter] = {f.name: Counter() for f in self.filters}

    def __call__(self, batch: pa.Table) -> pa.Table:
        for f in self.filters:
            f.stats = type(f.stats)()
        result = traces.run_chain(
            self.filters,
            self.table,
            _ids(batch),
            strategy=self.strategy,
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

    def close(self) -> None:
        for f in self.filters:
            f.close()


class DeriveTask:
    """A source's derived columns (`curate.derived`) over a batch of rows it reads itself: each row's content
    digest (its problem, answer and generations, as its mapping reads them) and the small columns the mapping
    takes from a conversation."""

    def __init__(self, layout: Layout, columns: list[str], hashed: bool) -> None:
        self.table = SourceTable.from_layout(layout)
        self.columns = columns
        self.hashed = hashed

    def __call__(self, batch: pa.Table) -> pa.Table:
        hash_inputs = ["problem", "answer", "generations"] if self.hashed else []
        wanted = list(dict.fromkeys([*self.columns, *hash_inputs]))
        frame = self.table.read(wanted, _ids(batch))
        out: dict[str, Any] = {"row_id": frame["row_id"].to_numpy()}
        if self.hashed:
            digests = content_ids(
                frame["problem"].to_list(), frame["answer"].to_list(), frame["generations"].to_list()
            )
            out["digest"] = pa.array(digests, pa.binary(16))
        for column in self.columns:
            out[column] = frame[column].to_arrow()
        return pa.table(out)


class WriteTask:
    """Output rows of the drawn rows (verl's schema), built where the rows are: the chosen generation as the
    assistant turn, and its token count when the chain did not take one (with the recipe's tokenizer). In a
    mixed recipe each row also says which source it came from (`dataset`)."""

    def __init__(
        self,
        layout: Layout,
        format_kwargs: dict[str, Any],
        labels: dict[str, Any],
        tokenizer: str,
        mixed: bool = False,
    ):
        self.table = SourceTable.from_layout(layout)
        self.kwargs = format_kwargs
        self.labels = labels  # data_source, category
        self.tokenizer = tokenizer
        self.mixed = mixed
        self._counter: TokenCounter | None = None

    def __call__(self, batch: pa.Table) -> pa.Table:
        frame = self.table.read([*OUTPUT_COLUMNS, *(["dataset"] if self.mixed else [])], _ids(batch))
        rows = []
        for row, selected, fields in zip(
            frame.iter_rows(named=True),
            batch.column("selected").to_pylist(),
            batch.column("fields").to_pylist(),
        ):
            rows.append(
                {
                    "messages": build_messages(row["problem"], row["generations"][selected], **self.kwargs),
                    "uuid": row["uuid"],
                    **({"dataset": row["dataset"]} if self.mixed else {}),
                    "source": row["source"],
                    "problem_type": row["problem_type"],
                    "question_type": row["question_type"],
                    "answer": row["answer"],
                    **self.labels,
                    "num_tokens": (json.loads(fields) if fields else {}).get("num_tokens"),
                    "generation_index": selected,
                }
            )
        # token_length records the counts it took; the rows it kept on a byte bound alone (and every row,
        # without that filter) are counted here, with its tokenizer or Qwen3's.
        missing = [r for r in rows if r["num_tokens"] is None]
        if missing:
            if self._counter is None:
                self._counter = load_counter(self.tokenizer)
            for r, n in zip(missing, self._counter.count_batch([r["messages"] for r in missing])):
                r["num_tokens"] = n
        table = pa.Table.from_pylist(rows, schema=split_schema(self.mixed))
        return table.append_column("_test", batch.column("test"))


def merge_chain_stats(instances: Sequence[Filter], table: pa.Table) -> None:
    """Add a batch's per-filter counts into the driver's filter instances."""
    by_name = {f.name: f for f in instances}
    cell = table.column("_stats")[0].as_py() if table.num_rows else None
    if not cell:
        return
    for name, stats in json.loads(cell).items():
        f = by_name[name]
        f.stats.seen += stats["seen"]
        f.stats.kept += stats["kept"]
        f.stats.seconds += stats["seconds"]
        f.stats.dropped.update(Counter(stats["dropped"]))
        f.merge_counters(stats["counters"])
