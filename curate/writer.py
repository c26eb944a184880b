"""Writing a run's outputs, each in one streaming pass with bounded memory.

- the splits: verl-ready train/test parquet, in source order. The rows are built where the data is (`WriteTask`
  on the executor's workers: the chosen generation, its token count) and written here in order;
- the rejections: every dropped row with the step that dropped it, merged in row order from the steps' spilled
  or cached results;
- the drops each filter's report is built from, with the notes it made on rows it kept, streamed the same way
  (`DropLog`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.draw import Split
from curate.drops import DROP_SCHEMA, REJECTION_SCHEMA
from curate.executors import Executor
from curate.filters import Drop
from curate.formats import TableWriter
from curate.formatting import format_kwargs
from curate.outputs import SPLITS, RunOutput, split_schema
from curate.recipe import FormatSpec
from curate.steps import RunState, StepOutput, progress
from curate.table import SourceTable
from curate.tasks import WRITE_SCHEMA, WriteTask

WRITE_BATCH = 1024  # rows per output task
MERGE_WINDOW = 1 << 16  # source row ids per step of the row-ordered merge of drops
NOT_SAMPLED = "survived every filter but was not drawn by the seeded sample"


class _Cursor:
    """Reads a stream of tables sorted by `row_id` up to a row id at a time."""

    def __init__(self, tables: Iterator[pa.Table], schema: pa.Schema) -> None:
        self.tables = tables
        self.buffer = schema.empty_table()
        self.done = False

    def until(self, stop: int) -> pa.Table:
        """The rows with row_id < stop not yet returned."""
        while not self.done and (
            self.buffer.num_rows == 0 or self.buffer.column("row_id")[-1].as_py() < stop
        ):
            table = next(self.tables, None)
            if table is None:
                self.done = True
            elif table.num_rows:
                self.buffer = pa.concat_tables([self.buffer, table])
        cut = int(np.searchsorted(self.buffer.column("row_id").to_numpy(), stop))
        head, self.buffer = self.buffer.slice(0, cut), self.buffer.slice(cut)
        return head


def merged(sources: list[Iterator[pa.Table]], num_rows: int, schema: pa.Schema) -> Iterator[pa.Table]:
    """Streams sorted by row_id, with no row id in two of them, as one sorted stream, a window at a time."""
    cursors = [_Cursor(source, schema) for source in sources]
    for stop in range(MERGE_WINDOW, num_rows + MERGE_WINDOW, MERGE_WINDOW):
        parts = [part for part in (cursor.until(stop) for cursor in cursors) if part.num_rows]
        if parts:
            yield pa.concat_tables(parts).sort_by("row_id")


def write_splits(
    output: RunOutput,
    table: SourceTable,
    state: RunState,
    split: Split,
    spec: FormatSpec,
    executor: Executor,
    tokenizer: str,
    mixed: bool = False,
) -> None:
    """Stream the drawn rows, in source order, into the train and test splits, in the output's format."""
    assert state.selected is not None
    chosen = np.union1d(split.train, split.test)
    chains = [output for output in state.outputs if output.chain]
    kwargs = {
        "layout": table.layout(),
        "format_kwargs": format_kwargs(spec),
        "labels": {"data_source": spec.data_source, "category": spec.category},
        "tokenizer": tokenizer,
        "mixed": mixed,
    }
    batches = _write_batches(table, chosen, split.test, state.selected, chains)
    schema = split_schema(mixed)
    writers = {name: output.format.writer(output.split_path(name), schema) for name in SPLITS}
    with progress(chosen.size, "write") as bar:
        for result in executor.map(WriteTask, kwargs, batches, f"{state.key}-write"):
            test = result.column("_test")
            rows = result.drop(["_test"])
            writers["test"].write(rows.filter(test))
            writers["train"].write(rows.filter(pc.invert(test)))
            bar.update(result.num_rows)
    for writer in writers.values():
        writer.close()


def _write_batches(
    table: SourceTable, chosen: np.ndarray, test: np.ndarray, selected: np.ndarray, chains: list[StepOutput]
) -> Iterator[pa.Table]:
    """What each output task gets: the rows, their chosen generation, the chain's fields, their split. The
    chains (one per source of a mixed recipe) cover consecutive row ranges, so read one after the other they
    are in row order."""
    fields = _Cursor(
        (pa.Table.from_batches([b]) for chain in chains for b in chain.rows.batches(["row_id", "fields"])),
        pa.schema([("row_id", pa.int64()), ("fields", pa.string())]),
    )
    for ids in table.batches(chosen, WRITE_BATCH):
        known = fields.until(int(ids[-1]) + 1)
        positions = np.searchsorted(known.column("row_id").to_numpy(), ids)
        yield pa.table(
            {
                "row_id": ids,
                "selected": selected[ids].astype(np.int64),
                "fields": known.column("fields").take(pa.array(positions)),
                "test": np.isin(ids, test),
            },
            schema=WRITE_SCHEMA,
        )


class Drops:
    """Every row a run did not write, with the step that dropped it, streamed in row order from the steps'
    results: row and global filters' drops, the chain's dropped rows, and the rows the draw left out."""

    def __init__(self, table: SourceTable, state: RunState, split: Split) -> None:
        assert state.selected is not None
        self.table = table
        self.outputs = state.outputs
        self.pool = np.flatnonzero(state.selected >= 0)
        self.chosen = np.union1d(split.train, split.test)

    def _of_output(self, output: StepOutput, name: str | None) -> Iterator[pa.Table]:
        if output.chain:
            for batch in output.rows.batches(["row_id", "selected", "filter", "reason", "detail", "info"]):
                keep = pc.less(batch.column("selected"), 0)
                if name is not None:
                    keep = pc.and_(keep, pc.equal(batch.column("filter"), name))
                yield pa.Table.from_batches([batch]).filter(keep).drop(["selected"]).select(DROP_SCHEMA.names)
            return
        for batch in output.rows.batches(["row_id", "reason", "detail", "info"]):
            table = pa.Table.from_batches([batch])
            if name is None:  # a row with a null reason is a note on a kept row: in the report, not dropped
                table = table.filter(pc.is_valid(table.column("reason")))
            labels = pa.array([output.name] * table.num_rows, pa.string())
            yield table.add_column(1, "filter", labels)

    def _not_sampled(self) -> Iterator[pa.Table]:
        left = np.setdiff1d(self.pool, self.chosen)
        for lo in range(0, left.size, MERGE_WINDOW):
            ids = left[lo : lo + MERGE_WINDOW]
            yield pa.table(
                {
                    "row_id": ids,
                    "filter": pa.array(["sample"] * ids.size, pa.string()),
                    "reason": pa.array(["not_sampled"] * ids.size, pa.string()),
                    "detail": pa.array([NOT_SAMPLED] * ids.size, pa.string()),
                    "info": pa.nulls(ids.size, pa.string()),
                },
                schema=DROP_SCHEMA,
            )

    def all(self) -> Iterator[pa.Table]:
        """uuid, row_id, filter, reason, detail, info of every dropped row, in row order."""
        sources = [self._of_output(output, None) for output in self.outputs] + [self._not_sampled()]
        for table in merged(sources, self.table.num_rows, DROP_SCHEMA):
            yield with_uuids(self.table, table)

    def of(self, name: str, rows: tuple[int, int] | None = None) -> DropLog:
        """The drops of the steps named `name` (`SOURCE/filter` for a source's own filter of a mixed recipe:
        its trace-chain drops are those of its rows, `rows`), and their notes on rows they kept, as the
        (uuid, Drop) pairs a filter's report is built from."""
        filter_name = name.rpartition("/")[2]

        def tables() -> Iterator[pa.Table]:
            sources = [
                self._of_output(output, filter_name if output.chain else name)
                for output in self.outputs
                if (output.chain and _overlaps(output.rows_range, rows)) or output.name == name
            ]
            return merged(sources, self.table.num_rows, DROP_SCHEMA)

        return DropLog(self.table, tables)


def _overlaps(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    if a is None or b is None:
        return True
    return a[0] < b[1] and b[0] < a[1]


def with_uuids(source: SourceTable, table: pa.Table) -> pa.Table:
    """`table` (sorted by row_id) with each row's uuid first, read from the source's small `uuid` column."""
    uuids = source.read(["uuid"], table.column("row_id").to_numpy())
    return table.add_column(0, "uuid", uuids["uuid"].to_arrow())


class DropLog(Sequence[tuple[str, Drop]]):
    """A filter's drops read from disk each time they are iterated, so a report over a million drops never
    holds them all unless it keeps them itself."""

    def __init__(self, source: SourceTable, tables: Callable[[], Iterator[pa.Table]]) -> None:
        self._source = source
        self._tables = tables
        self._length: int | None = None
        self._items: list[tuple[str, Drop]] | None = None

    def __iter__(self) -> Iterator[tuple[str, Drop]]:
        for table in self._tables():
            table = with_uuids(self._source, table)
            columns = [table.column(c).to_pylist() for c in ("uuid", "reason", "detail", "info")]
            for uuid, reason, detail, info in zip(*columns):
                parsed = json.loads(info) if info else None
                if reason is None:  # a note on a kept row: its reason is in its info (`verdicts_to_table`)
                    reason = (parsed or {}).get("note", "")
                yield uuid, Drop(reason, detail or "", parsed)

    def __len__(self) -> int:
        if self._length is None:
            self._length = sum(table.num_rows for table in self._tables())
        return self._length

    @overload
    def __getitem__(self, index: int) -> tuple[str, Drop]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, Drop]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, Drop] | Sequence[tuple[str, Drop]]:
        if self._items is None:
            self._items = list(self)
        return self._items[index]


def write_rejections(path: Path, tables: Iterator[pa.Table]) -> None:
    writer = TableWriter(path, REJECTION_SCHEMA)
    for table in tables:
        writer.write(table.select(REJECTION_SCHEMA.names).cast(REJECTION_SCHEMA))
    writer.close()
