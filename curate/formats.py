"""The file formats of an output's splits, each one writer and one reader behind a small interface.

`parquet` is verl's layout (what `curate train` hands to `MultiTurnSFTDataset`); `jsonl` holds the same rows
as JSON lines, one object per row with the columns in schema order, for trainers that read those. The
splits' format is the recipe's `output.format`; `rejections.parquet` is parquet whatever it is. Both write
deterministically: the same rows give the same bytes.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError

PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "store_schema": True,
}
ROW_GROUP = 1000
JSONL_BATCH = 1000  # rows parsed into one table when a jsonl split is read


class RowSink(ABC):
    """Where a split's rows go, table by table, in order."""

    @abstractmethod
    def write(self, table: pa.Table) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class SplitFormat(ABC):
    """One file format for the splits: its suffix, how it is written, read back, and loaded with `datasets`."""

    name: ClassVar[str]
    suffix: ClassVar[str]
    builder: ClassVar[str]  # the `datasets` builder that loads it: load_dataset(builder, data_files=...)

    @abstractmethod
    def writer(self, path: Path, schema: pa.Schema) -> RowSink: ...

    @abstractmethod
    def batches(self, path: Path, schema: pa.Schema, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """The file's rows in order, in bounded batches, as tables of `schema` (only `columns` if given)."""

    @abstractmethod
    def schema(self, path: Path, expected: pa.Schema) -> pa.Schema:
        """The schema of the rows in the file (`expected` where the format does not store one)."""


class TableWriter(RowSink):
    """Parquet with fixed settings, in row groups of exactly `ROW_GROUP` rows (the last one smaller) whatever
    sizes of tables it is given, so the bytes depend only on the rows."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self._writer = pq.ParquetWriter(path, schema, **PARQUET_OPTIONS)
        self._pending: list[pa.Table] = []
        self._rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._rows += table.num_rows
        if self._rows >= ROW_GROUP:
            merged = pa.concat_tables(self._pending)
            start = 0
            while self._rows - start >= ROW_GROUP:
                self._group(merged.slice(start, ROW_GROUP))
                start += ROW_GROUP
            rest = merged.slice(start)
            self._pending, self._rows = ([rest] if rest.num_rows else []), rest.num_rows

    def _group(self, rows: pa.Table) -> None:
        # One contiguous chunk per column: the writer's page boundaries follow the chunks it is given.
        self._writer.write_table(rows.combine_chunks(), row_group_size=ROW_GROUP)

    def close(self) -> None:
        if self._pending:
            self._group(pa.concat_tables(self._pending))
        self._writer.close()


class Parquet(SplitFormat):
    name = "parquet"
    suffix = ".parquet"
    builder = "parquet"

    def writer(self, path: Path, schema: pa.Schema) -> RowSink:
        return TableWriter(path, schema)

    def batches(self, path: Path, schema: pa.Schema, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """Row group by row group, so a split of long traces is never held whole."""
        parquet = pq.ParquetFile(path)
        wanted = [c for c in columns if c in parquet.schema_arrow.names] if columns is not None else None
        for index in range(parquet.num_row_groups):
            yield parquet.read_row_group(index, columns=wanted)

    def schema(self, path: Path, expected: pa.Schema) -> pa.Schema:
        return pq.read_schema(path)


class JsonLinesWriter(RowSink):
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self._handle: IO[bytes] = path.open("wb")

    def write(self, table: pa.Table) -> None:
        lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in table.select(self.schema.names).to_pylist()]
        self._handle.write("".join(lines).encode("utf-8"))

    def close(self) -> None:
        self._handle.close()


class JsonLines(SplitFormat):
    name = "jsonl"
    suffix = ".jsonl"
    builder = "json"

    def writer(self, path: Path, schema: pa.Schema) -> RowSink:
        return JsonLinesWriter(path, schema)

    def batches(self, path: Path, schema: pa.Schema, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        wanted = schema if columns is None else pa.schema([f for f in schema if f.name in columns])
        rows: list[dict[str, Any]] = []
        with path.open("rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:  # a JSONDecodeError, or bytes that are not UTF-8
                    raise CurateError(f"line {number} is not a JSON row ({exc})", where=str(path)) from None
                if len(rows) >= JSONL_BATCH:
                    yield pa.Table.from_pylist(rows, schema=wanted)
                    rows = []
        if rows:
            yield pa.Table.from_pylist(rows, schema=wanted)

    def schema(self, path: Path, expected: pa.Schema) -> pa.Schema:
        """The first row's keys in order, typed as `expected` types them (a column it does not know, such as
        a mixed recipe's `dataset`, as text)."""
        with path.open("rb") as handle:
            first = next((line for line in handle if line.strip()), None)
        try:
            keys = list(json.loads(first)) if first is not None else []
        except ValueError:
            return expected
        known = {field.name: field for field in expected}
        return pa.schema([known.get(key, pa.field(key, pa.string())) for key in keys]) if keys else expected


FORMATS: dict[str, SplitFormat] = {f.name: f for f in (Parquet(), JsonLines())}
