"""Column-projected, row-selective reads over a list of parquet files.

Steps ask for the columns they need and the rows still alive; nothing else is decoded. Generations (the
bulk of the bytes) are only ever streamed, one row group at a time, and only by the process that works on
those rows: the driver plans work from the files' footers (`Layout`, `SourceTable.batches`) and a worker,
local or on another machine, opens the files of its own batch (`SourceTable.from_layout`).

Each file is read through its source's column mapping (`curate.mapping.ColumnMap`): a step asks for
row-model columns (`problem`, `generations`...), the table decodes only the source columns behind them and
builds the row-model columns from those, row group by row group, wherever the read happens. Columns kept in
the source's derived store (content-hash ids, a conversation's problem) are read from the store's row group
that matches the file's. A table over the sources of a mixed recipe is one table over all their files; each
file knows its source, so every row can also be read with its source's name (`dataset`) and place
(`dataset_rank`).

`CURATE_READ_LOG=FOLDER` makes every process append one JSON line per row group it decodes (time, process,
host, Ray node, file, group, columns) to `FOLDER/reads-<pid>.jsonl`: an audit of where data was read.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate import schema
from curate.errors import CurateError
from curate.mapping import MIX_COLUMNS, OPENR1_MAP, ROW_MODEL, ColumnMap
from curate.source import open_parquet

# Canonical types, so shards that disagree (e.g. an all-null `correctness_llama`) concatenate cleanly.
CANONICAL: dict[str, pl.DataType] = {
    "problem": pl.String(),
    "solution": pl.String(),
    "answer": pl.String(),
    "problem_type": pl.String(),
    "question_type": pl.String(),
    "source": pl.String(),
    "uuid": pl.String(),
    "generations": pl.List(pl.String()),
    "is_reasoning_complete": pl.List(pl.Boolean()),
    "correctness_math_verify": pl.List(pl.Boolean()),
    "correctness_llama": pl.List(pl.Boolean()),
    "finish_reasons": pl.List(pl.String()),
    "correctness_count": pl.Int64(),
    "dataset": pl.String(),
    "dataset_rank": pl.Int64(),
}
HubFile = tuple[str, str, str]  # (dataset, commit, path of the file in the repo)
Store = tuple[str, int]  # (derived store file, its row group holding the file's first row group)


@dataclass(frozen=True)
class Layout:
    """What a worker needs to read any row of the source: the files, the first row id of each, the row
    groups' first row ids, and the columns every file has. Plain data, shipped to workers instead of rows."""

    files: tuple[str, ...]
    offsets: tuple[int, ...]  # len(files) + 1
    group_starts: tuple[tuple[int, ...], ...]  # per file, the first local row of each row group
    columns: tuple[tuple[str, ...], ...]  # per file, the columns it can be read with
    hub: tuple[HubFile | None, ...] = ()  # per file, where a worker without the driver's copy finds it
    maps: tuple[ColumnMap, ...] = ()  # per file, its source's column mapping (empty: OpenR1's)
    stores: tuple[Store | None, ...] = ()  # per file, its derived store
    origins: tuple[tuple[str, int] | None, ...] = ()  # per file, its source's name and rank in a mixed recipe


class SourceTable:
    def __init__(
        self,
        files: list[Path],
        hub: list[HubFile | None] | None = None,
        maps: list[ColumnMap] | None = None,
        origins: list[tuple[str, int] | None] | None = None,
    ) -> None:
        """`hub`: per file, (dataset, commit, repo path): a worker whose copy of a file is not at the
        driver's path finds it in its own Hugging Face cache (or downloads it) at that commit. `maps`: each
        file's column mapping (default OpenR1's). `origins`: each file's source (name, rank) in a mix."""
        self.files = files
        opened = [open_parquet(f) for f in files]
        # Files are opened lazily where a table is rebuilt from its layout (`from_layout`, on the workers).
        self._parquet: list[pq.ParquetFile | None] = list(opened)
        counts = [pf.metadata.num_rows for pf in opened]
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.num_rows = int(self.offsets[-1])
        self._group_starts = [_group_starts(pf) for pf in opened]
        self._hub: list[HubFile | None] = list(hub) if hub else [None] * len(files)
        self.maps: list[ColumnMap] = list(maps) if maps else [OPENR1_MAP] * len(files)
        self.stores: list[Store | None] = [None] * len(files)
        self.origins: list[tuple[str, int] | None] = list(origins) if origins else [None] * len(files)
        self._raw = [set(pf.schema_arrow.names) for pf in opened]
        self._columns = [self._readable(i) for i in range(len(files))]
        self._store_files: dict[str, pq.ParquetFile] = {}

    @classmethod
    def from_layout(cls, layout: Layout) -> SourceTable:
        """A table on a worker: files are opened when first read, so a worker opens only its batches' files."""
        table = cls.__new__(cls)
        n = len(layout.files)
        table.files = [Path(f) for f in layout.files]
        table._parquet = [None] * n
        table.offsets = np.asarray(layout.offsets, dtype=np.int64)
        table.num_rows = int(table.offsets[-1])
        table._columns = [set(c) for c in layout.columns]
        table._raw = [set() for _ in range(n)]
        table._group_starts = [np.asarray(g, dtype=np.int64) for g in layout.group_starts]
        table._hub = list(layout.hub) or [None] * n
        table.maps = list(layout.maps) or [OPENR1_MAP] * n
        table.stores = list(layout.stores) or [None] * n
        table.origins = list(layout.origins) or [None] * n
        table._store_files = {}
        return table

    def layout(self) -> Layout:
        return Layout(
            tuple(str(f) for f in self.files),
            tuple(int(o) for o in self.offsets),
            tuple(tuple(int(s) for s in g) for g in self._group_starts),
            tuple(tuple(sorted(c)) for c in self._columns),
            tuple(self._hub),
            tuple(self.maps),
            tuple(self.stores),
            tuple(self.origins),
        )

    def _readable(self, index: int) -> set[str]:
        """What file `index` can be read with: the row-model columns its mapping fills from columns the file
        has, its other columns under their own names, and the mix columns."""
        cmap, raw = self.maps[index], self._raw[index]
        if cmap.identity:
            names = set(raw)
        else:
            names = {c for c in raw if c not in ROW_MODEL}
            for column in cmap.provides():
                if column in cmap.stored() or all(r.column in raw for r in cmap.refs_of(column)):
                    names.add(column)
        return names | (set(MIX_COLUMNS) if self.origins[index] else set())

    def common_columns(self) -> set[str]:
        """Columns present in every file."""
        return set.intersection(*self._columns) if self._columns else set()

    def files_of(self, rows: tuple[int, int] | None) -> range:
        """The indices of the files holding rows [lo, hi) (every file for None)."""
        if rows is None:
            return range(len(self.files))
        lo = int(np.searchsorted(self.offsets, rows[0], side="right")) - 1
        hi = int(np.searchsorted(self.offsets, rows[1], side="left"))
        return range(max(lo, 0), hi)

    def check_columns(self, needed: Mapping[str, str], rows: tuple[int, int] | None = None) -> None:
        """`needed` maps column -> who needs it; a missing one is a one-line error naming the file, the
        source column behind it and who needs it. `rows`: check only the files of these rows."""
        for index in self.files_of(rows):
            path, names, cmap = self.files[index], self._columns[index], self.maps[index]
            for column, who in needed.items():
                if column in names:
                    continue
                raw = self._raw[index] or names
                behind = cmap.refs_of(column) if column in ROW_MODEL and not cmap.identity else []
                lacking = [r.column for r in behind if r.column not in raw] or [column]
                mapped = (
                    f"schema {cmap.name!r} reads {column!r} from it for {who}"
                    if behind
                    else f"needed by {who}"
                )
                raise CurateError(
                    f"column {lacking[0]!r} is missing ({mapped}); the file has: {', '.join(sorted(raw))}",
                    where=str(path),
                    hint="point the source at data of its schema, fix `schema:`, or remove the step that needs it",
                )

    def check_types(self, rows: tuple[int, int] | None = None) -> None:
        """The types of every known column, from the files' footers (`curate.schema`). `rows`: check only
        the files of these rows."""
        index = self.files_of(rows)
        schema.check_types(
            [self.files[i] for i in index],
            [self._file(i).schema_arrow for i in index],
            [self.maps[i] for i in index],
        )

    def check_rows(self) -> None:
        """The row values every step relies on (`curate.schema`): ids, problems, label list lengths."""
        labels = [c for c in schema.LABELS if c in self.common_columns()]
        schema.check_rows(self.iter_rows(["uuid", "problem", *labels], batch_rows=65536), self.locate)

    def group_sizes(self, index: int) -> list[int]:
        """Rows in each row group of file `index`."""
        return [self._group_size(index, g) for g in range(len(self._group_starts[index]))]

    def locate(self, row_id: int) -> tuple[Path, int]:
        """The file a row id is in, and its index there."""
        index = int(np.searchsorted(self.offsets, row_id, side="right")) - 1
        return self.files[index], int(row_id - self.offsets[index])

    def batches(self, row_ids: np.ndarray, rows: int) -> Iterator[np.ndarray]:
        """`row_ids` (sorted) cut into batches of about `rows` rows along row-group boundaries, so a worker
        decodes each row group once. A row group with more than `rows` wanted rows is split (and decoded by
        each of its batches); files never share a batch."""
        if row_ids.size == 0:
            return
        for index in range(len(self.files)):
            lo, hi = np.searchsorted(row_ids, self.offsets[index : index + 2])
            if lo == hi:
                continue
            ids = row_ids[lo:hi]
            starts = self._group_starts[index] + self.offsets[index]
            group = np.searchsorted(starts, ids, side="right") - 1
            # Wanted rows before each row group: a batch may end where a group starts.
            first = np.searchsorted(group, np.arange(starts.size + 1))
            begin = 0
            while begin < ids.size:
                target = begin + rows
                if target >= ids.size:
                    end = ids.size
                else:
                    end = int(first[np.searchsorted(first, target, side="right") - 1])  # last group end
                    if end <= begin:  # one group holds more than `rows`: take it whole unless far bigger
                        above = int(first[np.searchsorted(first, target, side="left")])
                        end = above if above - begin <= 2 * rows else target
                yield ids[begin:end]
                begin = end

    def read(self, columns: list[str], row_ids: np.ndarray | None = None) -> pl.DataFrame:
        """All requested columns for `row_ids` (sorted; None = every row), with a `row_id` column first."""
        frames = list(self.iter_rows(columns, row_ids, batch_rows=None))
        if not frames:
            return _empty(columns)
        return pl.concat(frames, how="vertical_relaxed", rechunk=True)

    def iter_rows(
        self, columns: list[str], row_ids: np.ndarray | None = None, batch_rows: int | None = 4096
    ) -> Iterator[pl.DataFrame]:
        """Stream the requested rows in source order, one row group at a time, in frames of `batch_rows`."""
        pending: list[pl.DataFrame] = []
        pending_rows = 0
        for index in range(len(self.files)):
            base = int(self.offsets[index])
            wanted = None
            if row_ids is not None:
                lo, hi = np.searchsorted(row_ids, [base, self.offsets[index + 1]])
                wanted = row_ids[lo:hi] - base
                if wanted.size == 0:
                    continue
            for group, start, stop in self._groups(index):
                if wanted is not None:
                    lo, hi = np.searchsorted(wanted, [start, stop])
                    local = wanted[lo:hi] - start
                    if local.size == 0:
                        continue
                else:
                    local = None
                frame = self._read_group(index, group, columns, local, base + start)
                pending.append(frame)
                pending_rows += frame.height
                if batch_rows is not None and pending_rows >= batch_rows:
                    yield pl.concat(pending, how="vertical_relaxed", rechunk=True)
                    pending, pending_rows = [], 0
        if pending:
            yield pl.concat(pending, how="vertical_relaxed", rechunk=True)

    def _groups(self, index: int) -> Iterator[tuple[int, int, int]]:
        starts = self._group_starts[index]
        stops = [*starts[1:].tolist(), int(self.offsets[index + 1] - self.offsets[index])]
        for group, (start, stop) in enumerate(zip(starts.tolist(), stops)):
            yield group, start, stop

    def _file(self, index: int) -> pq.ParquetFile:
        pf = self._parquet[index]
        if pf is None:
            pf = self._parquet[index] = self._open_here(index)
        return pf

    def _open_here(self, index: int) -> pq.ParquetFile:
        """A worker's own copy of file `index`: the driver's path when this machine sees it, else the file
        at the recorded commit in this machine's Hugging Face cache; it must hold the rows the driver planned."""
        path = self.files[index]
        hub = self._hub[index]
        if not path.exists() and hub is not None:
            from huggingface_hub import hf_hub_download

            dataset, commit, name = hub
            path = Path(hf_hub_download(dataset, name, repo_type="dataset", revision=commit))
        if not path.exists():
            raise CurateError(
                f"source file is not on {socket.gethostname()}",
                where=str(self.files[index]),
                hint="put the source on a filesystem every node sees, or use a Hub source",
            )
        pf = open_parquet(path)
        expected = int(self.offsets[index + 1] - self.offsets[index])
        if pf.metadata.num_rows != expected:
            raise CurateError(
                f"this copy on {socket.gethostname()} has {pf.metadata.num_rows} rows, the driver's {expected}",
                where=str(path),
                hint="every node must see the same source files",
            )
        return pf

    def _read_group(
        self, index: int, group: int, columns: list[str], local: np.ndarray | None, first_id: int
    ) -> pl.DataFrame:
        cmap, store, origin = self.maps[index], self.stores[index], self.origins[index]
        stored = [c for c in columns if store is not None and c in cmap.stored()]
        mixed = [c for c in columns if c in MIX_COLUMNS]
        direct = [c for c in columns if c not in stored and c not in mixed]
        raw = cmap.raw_columns(direct)
        size = self._group_size(index, group)
        frame = pl.DataFrame()
        if raw or not (stored or mixed):
            table = self._decode(index, group, raw)
            if local is not None:
                table = table.take(pa.array(local))
            frame = _frame(table)
            if not cmap.identity:
                frame = cmap.apply(frame, direct)
        parts = [frame]
        if stored:
            assert store is not None
            table = self._store(store[0]).read_row_group(store[1] + group, columns=stored)
            if local is not None:
                table = table.take(pa.array(local))
            found = _frame(table)
            if cmap.prefix and "uuid" in stored and cmap.hashed_id:
                found = found.with_columns(pl.lit(cmap.prefix) + pl.col("uuid"))
            parts.append(found)
        rows = size if local is None else local.size
        if mixed:
            assert origin is not None, f"{self.files[index]} belongs to no source of a mixed recipe"
            values = {"dataset": origin[0], "dataset_rank": origin[1]}
            parts.append(pl.DataFrame({c: [values[c]] * rows for c in mixed}))
        frame = (
            pl.concat([p for p in parts if p.width], how="horizontal")
            if any(p.width for p in parts)
            else frame
        )
        frame = frame.select(columns) if columns else pl.DataFrame()
        casts = {c: CANONICAL[c] for c in frame.columns if c in CANONICAL and frame.schema[c] != CANONICAL[c]}
        if casts:
            frame = frame.cast(casts)  # type: ignore[arg-type]
        ids = np.arange(first_id, first_id + size, dtype=np.int64)
        if local is not None:
            ids = ids[local]
        return frame.insert_column(0, pl.Series("row_id", ids))

    def _group_size(self, index: int, group: int) -> int:
        starts = self._group_starts[index]
        stop = (
            int(starts[group + 1])
            if group + 1 < starts.size
            else int(self.offsets[index + 1] - self.offsets[index])
        )
        return stop - int(starts[group])

    def _decode(self, index: int, group: int, columns: list[str]) -> pa.Table:
        try:
            table = self._file(index).read_row_group(group, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CurateError(
                f"row group {group} cannot be read ({str(exc).splitlines()[0]})",
                where=str(self.files[index]),
                hint="the file is corrupt: re-download it or remove it from the source",
            ) from None
        _log_read(self.files[index], group, columns)
        return table

    def _store(self, path: str) -> pq.ParquetFile:
        found = self._store_files.get(path)
        if found is None:
            if not Path(path).exists():
                raise CurateError(
                    f"the source's derived store is not on {socket.gethostname()}",
                    where=path,
                    hint="on a cluster, put CURATE_CACHE (or, with --no-cache, CURATE_SPILL) on a filesystem every node sees",
                )
            found = self._store_files[path] = open_parquet(Path(path))
        return found


def hub_locator(files: list[Path], provenance: Mapping[str, Any]) -> list[HubFile | None]:
    """For files of a Hub source (in a Hugging Face cache, `.../snapshots/<commit>/<path>`): the dataset, the
    commit and each file's path in the repo, so a worker on another machine finds its own copy."""
    if provenance.get("kind") != "hub":
        return [None] * len(files)
    located: list[HubFile | None] = []
    for path in files:
        parts = path.parts
        if "snapshots" not in parts:
            return [None] * len(files)
        located.append(
            (provenance["dataset"], provenance["commit"], "/".join(parts[parts.index("snapshots") + 2 :]))
        )
    return located


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _group_starts(pf: pq.ParquetFile) -> np.ndarray:
    counts = [pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups)]
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if counts else np.zeros(0, np.int64)


def _log_read(path: Path, group: int, columns: list[str]) -> None:
    folder = os.environ.get("CURATE_READ_LOG")
    if not folder:
        return
    ray = sys.modules.get("ray")  # in a Ray worker: which node of the cluster read it
    node = ray.get_runtime_context().get_node_id() if ray is not None and ray.is_initialized() else None
    record = {
        "time": time.time(),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "node": node,
        "file": str(path),
        "group": group,
        "columns": sorted(columns),
    }
    with open(Path(folder) / f"reads-{os.getpid()}.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def _empty(columns: list[str]) -> pl.DataFrame:
    schema = {"row_id": pl.Int64(), **{c: CANONICAL.get(c, pl.String()) for c in columns}}
    return pl.DataFrame(schema=schema)
