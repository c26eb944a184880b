"""Column-projected, row-selective reads over a list of parquet files.

Steps ask for the columns they need and the rows still alive; nothing else is decoded. Generations (the
bulk of the bytes) are only ever streamed, one row group at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

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


class SourceTable:
    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self._parquet = [open_parquet(f) for f in files]
        counts = [pf.metadata.num_rows for pf in self._parquet]
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.num_rows = int(self.offsets[-1])
        self._columns = [set(pf.schema_arrow.names) for pf in self._parquet]

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
        schema.check_types(self.files, [pf.schema_arrow for pf in self._parquet])
        labels = [c for c in schema.LABELS if c in self.common_columns()]
        schema.check_rows(self.iter_rows(["uuid", "problem", *labels], batch_rows=65536), self.locate)

    def locate(self, row_id: int) -> tuple[Path, int]:
        """The file a row id is in, and its index there."""
        index = int(np.searchsorted(self.offsets, row_id, side="right")) - 1
        return self.files[index], int(row_id - self.offsets[index])

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
        for index, pf in enumerate(self._parquet):
            base = int(self.offsets[index])
            wanted = None
            if row_ids is not None:
                lo, hi = np.searchsorted(row_ids, [base, self.offsets[index + 1]])
                wanted = row_ids[lo:hi] - base
                if wanted.size == 0:
                    continue
            for group, start, stop in self._groups(pf):
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

    @staticmethod
    def _groups(pf) -> Iterator[tuple[int, int, int]]:
        start = 0
        for group in range(pf.metadata.num_row_groups):
            rows = pf.metadata.row_group(group).num_rows
            yield group, start, start + rows
            start += rows

    def _read_group(
        self, index: int, group: int, columns: list[str], local: np.ndarray | None, first_id: int
    ) -> pl.DataFrame:
        try:
            table = self._parquet[index].read_row_group(group, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CurateError(
                f"row group {group} cannot be read ({str(exc).splitlines()[0]})",
                where=str(self.files[index]),
                hint="the file is corrupt: re-download it or remove it from the source",
            ) from None
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


def _empty(columns: list[str]) -> pl.DataFrame:
    schema = {"row_id": pl.Int64(), **{c: CANONICAL.get(c, pl.String()) for c in columns}}
    return pl.DataFrame(schema=schema)
