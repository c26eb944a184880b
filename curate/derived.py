"""A source's derived store: the small row-model columns its mapping cannot read cheaply in place, computed
once at the source's boundary and read like a column from then on.

Two kinds of column go there (`ColumnMap.stored`): a content-hash `uuid` (it needs the generations, the bulk
of the bytes, which most steps never read), and the small columns a conversation holds (`problem` from the
user turn: reading it in place decodes every turn's text). The store is one parquet file per source whose
row groups match the source files' row groups one for one, so a worker reading a row group of a file reads
the same row group of the store and nothing else.

Built by the executor's workers (`curate.tasks.DeriveTask`: each reads its rows' source columns and returns
the digests and small columns), written by the driver. Rows with equal content get equal digests; their
ids are made unique in source order (`<hex>`, `<hex>#2`, ...): identical rows stay separate rows, as they are
in the source, and exact deduplication is a filter's decision. Kept in the curate cache under a key of the
source files' hashes and the mapping (sealed and checked like every cache file); with `--no-cache`, in the
run's spill folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.cache import cache_root, caching_enabled, digest, is_sealed, seal, temp_path_for
from curate.executors import Executor
from curate.formats import PARQUET_OPTIONS
from curate.mapping import ColumnMap
from curate.spill import Spill
from curate.table import SourceTable
from curate.tasks import DeriveTask

log = logging.getLogger("curate")

VERSION = "derived-v1"
BATCH = 4096  # rows per derive task


def build_stores(
    table: SourceTable,
    sources: list[tuple[str, range, str]],
    executor: Executor,
    folder: Path,
) -> None:
    """Build (or find) the derived store of every source that needs one and attach it to `table`.
    `sources`: (name for the log, its file indices, its fingerprint) in order."""
    for name, files, fingerprint in sources:
        cmap = table.maps[files[0]]
        stored = cmap.stored()
        if not stored or not files:
            continue
        key = digest(VERSION, fingerprint, cmap.fingerprint, cmap.prefix, stored)
        path = (cache_root() / "derived" if caching_enabled() else folder) / f"{key}.parquet"
        if not is_sealed(path):
            log.info("%s: computing %s for %d rows", name, ", ".join(stored), _rows(table, files))
            path.parent.mkdir(parents=True, exist_ok=True)
            _build(table, files, cmap, stored, executor, folder, path)
            seal(path)
        first = 0
        for index in files:
            table.stores[index] = (str(path), first)
            first += len(table.group_sizes(index))


def _rows(table: SourceTable, files: range) -> int:
    return int(table.offsets[files[-1] + 1] - table.offsets[files[0]])


def _build(
    table: SourceTable,
    files: range,
    cmap: ColumnMap,
    stored: tuple[str, ...],
    executor: Executor,
    folder: Path,
    path: Path,
) -> None:
    ids = np.arange(table.offsets[files[0]], table.offsets[files[-1] + 1], dtype=np.int64)
    kwargs = {
        "layout": table.layout(),
        "columns": [c for c in stored if c != "uuid"],
        "hashed": cmap.hashed_id,
    }
    parts = Spill(folder, f"derived-{path.stem}")
    batches = (pa.table({"row_id": part}) for part in table.batches(ids, BATCH))
    try:
        for result in executor.map(DeriveTask, kwargs, batches, f"derive-{path.stem}"):
            parts.append(result)
        suffixes = _suffixes(parts) if cmap.hashed_id else {}
        schema = pa.schema([(c, pa.int64() if c == "correctness_count" else pa.string()) for c in stored])
        tmp = temp_path_for(path)
        try:
            with pq.ParquetWriter(tmp, schema, **PARQUET_OPTIONS) as writer:
                rows = _Rows(_rows_in_order(parts, stored, suffixes, cmap.prefix))
                for index in files:
                    for size in table.group_sizes(index):
                        writer.write_table(rows.take(size).cast(schema), row_group_size=max(size, 1))
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        parts.close()


def _suffixes(parts: Spill) -> dict[int, str]:
    """`#k` for the k-th row (k >= 2, in row order) of each set of rows with equal content digests."""
    chunks = [(_digest_bytes(b.column("digest")), b.column("row_id").to_numpy()) for b in parts.batches()]
    if sum(c[1].size for c in chunks) < 2:
        return {}
    digests = np.concatenate([c[0] for c in chunks])
    row_ids = np.concatenate([c[1] for c in chunks])
    if digests.shape[0] < 2:
        return {}
    words = digests.view(np.uint64).reshape(-1, 2)
    order = np.lexsort((row_ids, words[:, 1], words[:, 0]))
    same = np.all(words[order][1:] == words[order][:-1], axis=1)
    suffixes: dict[int, str] = {}
    run = 1
    for position, equal in enumerate(same.tolist(), start=1):
        run = run + 1 if equal else 1
        if equal:
            suffixes[int(row_ids[order[position]])] = f"#{run}"
    return suffixes


def _digest_bytes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    data = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    return data[array.offset * 16 : (array.offset + len(array)) * 16].reshape(-1, 16)


def _rows_in_order(
    parts: Spill, stored: tuple[str, ...], suffixes: dict[int, str], prefix: str
) -> Iterator[pa.Table]:
    """The store's columns, batch by batch in row order, with ids made from the digests (after `prefix`: a
    mixed recipe's source name, so equal rows of two sources keep distinct ids)."""
    for batch in parts.batches():
        columns = {}
        for name in stored:
            if name == "uuid":
                hexes = [prefix + d.tobytes().hex() for d in _digest_bytes(batch.column("digest"))]
                if suffixes:
                    rows = batch.column("row_id").to_pylist()
                    hexes = [h + suffixes.get(r, "") for h, r in zip(hexes, rows)]
                columns[name] = pa.array(hexes, pa.string())
            else:
                columns[name] = batch.column(name)
        yield pa.table(columns)


class _Rows:
    """A stream of tables read `size` rows at a time, whatever the tables' own sizes."""

    def __init__(self, tables: Iterator[pa.Table]) -> None:
        self.tables = tables
        self.pending: list[pa.Table] = []
        self.rows = 0

    def take(self, size: int) -> pa.Table:
        while self.rows < size:
            table = next(self.tables)
            self.pending.append(table)
            self.rows += table.num_rows
        merged = pa.concat_tables(self.pending)
        head, rest = merged.slice(0, size), merged.slice(size)
        self.pending, self.rows = ([rest] if rest.num_rows else []), rest.num_rows
        return head.combine_chunks()
