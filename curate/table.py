"""Column-projected, row-selective reads over a list of parquet files.

Steps ask for the columns they need and the rows still alive; nothing else is decoded. Generations (the
bulk of the bytes) are only ever streamed, one row group at a time, and only by the process that works on
those rows: the driver plans work from the files' footers (`Layout`, `SourceTable.batches`) and a worker,
local or on another machine, opens the files of its own batch (`SourceTable.from_layout`).

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
}


@dataclass(frozen=True)
class Layout:
    """What a worker needs to read any row of the source: the files, the first row id of each, the row
    groups' first row ids, and the columns every file has. Plain data, shipped to workers instead of rows."""

    files: tuple[str, ...]
    offsets: tuple[int, ...]  # len(files) + 1
    group_starts: tuple[tuple[int, ...], ...]  # per file, the first local row of each row group
    columns: tuple[str, ...]
    hub: tuple[str, str, tuple[str, ...]] | None = None  # (dataset, commit, path of each file in the repo)


class SourceTable:
    def __init__(self, files: list[Path], hub: tuple[str, str, tuple[str, ...]] | None = None) -> None:
        """`hub` = (dataset, commit, repo path of each file): a worker whose copy of a file is not at the
        driver's path finds it in its own Hugging Face cache (or downloads it) at that commit."""
        self.files = files
        opened = [open_parquet(f) for f in files]
        # Files are opened lazily where a table is rebuilt from its layout (`from_layout`, on the workers).
        self._parquet: list[pq.ParquetFile | None] = list(opened)
        counts = [pf.metadata.num_rows for pf in opened]
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.num_rows = int(self.offsets[-1])
        self._columns = [set(pf.schema_arrow.names) for pf in opened]
        self._group_starts = [_group_starts(pf) for pf in opened]
        self._hub = hub

    @classmethod
    def from_layout(cls, layout: Layout) -> SourceTable:
        """A table on a worker: files are opened when first read, so a worker opens only its batches' files."""
        table = cls.__new__(cls)
        table.files = [Path(f) for f in layout.files]
        table._parquet = [None] * len(layout.files)
        table.offsets = np.asarray(layout.offsets, dtype=np.int64)
        table.num_rows = int(table.offsets[-1])
        table._columns = [set(layout.columns)] * len(layout.files)
        table._group_starts = [np.asarray(g, dtype=np.int64) for g in layout.group_starts]
        table._hub = layout.hub
        return table

    def layout(self) -> Layout:
        return Layout(
            tuple(str(f) for f in self.files),
            tuple(int(o) for o in self.offsets),
            tuple(tuple(int(s) for s in g) for g in self._group_starts),
            tuple(sorted(self.common_columns())),
            self._hub,
        )

    def common_columns(self) -> set[str]:
        """Columns present in every file."""
        return set.intersection(*self._columns) if self._columns else set()

    def check_columns(self, needed: Mapping[str, str]) -> None:
        """`needed` maps column -> who needs it; a missing one is a one-line error naming file and user.
        Then the types of every known column and the row values every step relies on (`curate.schema`)."""
        for path, names in zip(self.files, self._columns):
            for column, who in needed.items():
                if column not in names:
                    raise CurateError(
                        f"column {column!r} (needed by {who}) is missing; present: {', '.join(sorted(names))}",
                        where=str(path),
                        hint="point the source at OpenR1-shaped data or remove the step that needs it",
                    )
        schema.check_types(self.files, [self._file(i).schema_arrow for i in range(len(self.files))])
        labels = [c for c in schema.LABELS if c in self.common_columns()]
        schema.check_rows(self.iter_rows(["uuid", "problem", *labels], batch_rows=65536), self.locate)

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
        if not path.exists() and self._hub is not None:
            from huggingface_hub import hf_hub_download

            dataset, commit, names = self._hub
            path = Path(hf_hub_download(dataset, names[index], repo_type="dataset", revision=commit))
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
        try:
            table = self._file(index).read_row_group(group, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CurateError(
                f"row group {group} cannot be read ({str(exc).splitlines()[0]})",
                where=str(self.files[index]),
                hint="the file is corrupt: re-download it or remove it from the source",
            ) from None
        _log_read(self.files[index], group, columns)
        ids = np.arange(first_id, first_id + table.num_rows, dtype=np.int64)
        if local is not None:
            table = table.take(pa.array(local))
            ids = ids[local]
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        casts = {c: CANONICAL[c] for c in frame.columns if c in CANONICAL and frame.schema[c] != CANONICAL[c]}
        if casts:
            frame = frame.cast(casts)  # type: ignore[arg-type]
        return frame.insert_column(0, pl.Series("row_id", ids))


def hub_locator(files: list[Path], provenance: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...]] | None:
    """For files of a Hub source (in a Hugging Face cache, `.../snapshots/<commit>/<path>`): the dataset, the
    commit and each file's path in the repo, so a worker on another machine finds its own copy."""
    if provenance.get("kind") != "hub":
        return None
    names = []
    for path in files:
        parts = path.parts
        if "snapshots" not in parts:
            return None
        names.append("/".join(parts[parts.index("snapshots") + 2 :]))
    return provenance["dataset"], provenance["commit"], tuple(names)


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
