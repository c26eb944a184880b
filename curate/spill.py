"""Per-row state of a run that grows with the source, kept in memory while small and on disk beyond a bound.

A run's global state is compact (a mask, a generation index per row), but some of it is not: MinHash
signatures (512 bytes a row), bucket keys, the drops of every step with their detail strings, the trace
chain's per-row results. Each of these is an append-only `Spill`: Arrow record batches held in memory up to
`BOUND` bytes, then written, with everything after them, to an Arrow IPC file in the run's spill folder. It
is read back in order (optionally only some columns, which an IPC file reads without touching the others),
or by row position. A run that fits the bound never writes; a run ten times larger writes and stays flat.

The spill folder is `$CURATE_SPILL` when set, else `spill/` in the curate cache; each run makes its own
folder there and removes it when it ends, whatever way it ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.cache import cache_root

BOUND = 64 << 20  # bytes of Arrow data a spill keeps in memory before it moves to disk


@contextmanager
def spill_folder() -> Iterator[Path]:
    """A folder of this run's own for spilled state, removed when the run ends."""
    root = Path(os.environ.get("CURATE_SPILL") or cache_root() / "spill")
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Spill:
    """Append-only Arrow table: in memory up to `BOUND` bytes, then in an IPC file under `folder`."""

    def __init__(self, folder: Path, name: str, schema: pa.Schema | None = None) -> None:
        self.path = folder / f"{name}.arrow"
        self.schema = schema
        self._memory: list[pa.RecordBatch] = []
        self._bytes = 0
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._sink: pa.OSFile | None = None
        self._reader: pa.ipc.RecordBatchFileReader | None = None
        self.starts: list[int] = [0]  # first row of each batch, and the row count last

    @property
    def rows(self) -> int:
        return self.starts[-1]

    @property
    def on_disk(self) -> bool:
        return self._sink is not None

    def append(self, table: pa.Table | pa.RecordBatch) -> None:
        if self.schema is None:
            self.schema = table.schema
        batches = table.to_batches() if isinstance(table, pa.Table) else [table]
        for batch in batches:
            if batch.num_rows == 0:
                continue
            batch = batch.cast(self.schema) if batch.schema != self.schema else batch
            self.starts.append(self.starts[-1] + batch.num_rows)
            if self._writer is not None:
                self._writer.write_batch(batch)
                continue
            self._memory.append(batch)
            self._bytes += batch.nbytes
            if self._bytes > BOUND:
                self._move_to_disk()

    def _move_to_disk(self) -> None:
        assert self.schema is not None
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = pa.ipc.new_file(self._sink, self.schema)
        for batch in self._memory:
            self._writer.write_batch(batch)
        self._memory, self._bytes = [], 0

    def _file(self) -> pa.ipc.RecordBatchFileReader:
        if self._reader is None:
            assert self._writer is not None and self._sink is not None
            self._writer.close()
            self._sink.close()
            self._writer = None
            self._reader = pa.ipc.open_file(pa.OSFile(str(self.path), "rb"))
        return self._reader

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Every batch in order (the spill takes no more appends once read from disk)."""
        if not self.on_disk:
            for batch in self._memory:
                yield batch.select(list(columns)) if columns is not None else batch
            return
        reader = self._file()
        if columns is not None:
            assert self.schema is not None
            options = pa.ipc.IpcReadOptions(included_fields=[self.schema.get_field_index(c) for c in columns])
            reader = pa.ipc.open_file(pa.OSFile(str(self.path), "rb"), options=options)
        for index in range(reader.num_record_batches):
            yield reader.get_batch(index)

    def column(self, name: str) -> pa.ChunkedArray:
        assert self.schema is not None
        chunks = [batch.column(0) for batch in self.batches([name])]
        return pa.chunked_array(chunks, type=self.schema.field(name).type)

    def take(self, positions: np.ndarray, columns: Sequence[str] | None = None) -> pa.Table:
        """Rows at `positions` (sorted, ascending), reading only the batches that hold them."""
        starts = np.asarray(self.starts, dtype=np.int64)
        which = np.searchsorted(starts, positions, side="right") - 1
        parts = []
        reader = self._file() if self.on_disk else None
        for index in np.unique(which).tolist():
            batch = reader.get_batch(index) if reader is not None else self._memory[index]
            if columns is not None:
                batch = batch.select(list(columns))
            local = positions[which == index] - starts[index]
            parts.append(pa.Table.from_batches([batch]).take(pa.array(local)))
        if not parts:
            assert self.schema is not None
            schema = self.schema if columns is None else pa.schema([self.schema.field(c) for c in columns])
            return schema.empty_table()
        return pa.concat_tables(parts)

    def close(self) -> None:
        """Free the memory and the file (the spill folder goes with the run in any case)."""
        if self._writer is not None:
            self._writer.close()
        if self._sink is not None:
            self._sink.close()
        self._memory, self._writer, self._sink, self._reader = [], None, None, None
        self.path.unlink(missing_ok=True)


class ParquetRows:
    """A step result stored as parquet (a cache entry), read like a spill: in order, a few columns at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = pq.ParquetFile(path)
        self.rows = self._file.metadata.num_rows

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        for group in range(self._file.num_row_groups):
            yield from self._file.read_row_group(
                group, columns=list(columns) if columns is not None else None
            ).to_batches()


def write_parquet(path: Path, rows: Spill | ParquetRows, schema: pa.Schema) -> None:
    """Stream a spill into one parquet file (a cache entry), in row groups of the spill's batches."""
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in rows.batches():
            writer.write_batch(batch.cast(schema) if batch.schema != schema else batch)
