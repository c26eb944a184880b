"""The corpus a benchmark runs on: the offline generator's OpenR1-shaped rows (`curate.synthetic`) at any size,
generated once per (rows, seed, generator version) and kept in the curate cache, with the bytes of text of
each column measured once and stored beside it (`<stem>.bench.json`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.cache import atomic_write_text, cache_root, temp_path_for
from curate.synthetic import GENERATOR_VERSION, write_sample

# The string columns of an OpenR1 row (lists counted element by element, `messages` by its `content`
# strings): what "MB of text" means in every rate the benchmark reports.
TEXT_COLUMNS = (
    "problem",
    "solution",
    "answer",
    "problem_type",
    "question_type",
    "source",
    "uuid",
    "generations",
    "finish_reasons",
    "messages",
)


@dataclass(frozen=True)
class Corpus:
    path: Path
    rows: int
    seed: int
    text_bytes: dict[str, int]  # UTF-8 bytes per text column
    file_bytes: int
    generated_s: float | None = None  # seconds spent generating it now; None when it came from the cache

    @property
    def total_text_bytes(self) -> int:
        return sum(self.text_bytes.values())

    def bytes_of(self, columns: tuple[str, ...] | list[str]) -> int:
        return sum(self.text_bytes.get(c, 0) for c in columns)

    def describe(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "rows": self.rows,
            "seed": self.seed,
            "generator_version": GENERATOR_VERSION,
            "text_mb": round(self.total_text_bytes / 1e6, 1),
            "text_mb_per_column": {k: round(v / 1e6, 1) for k, v in self.text_bytes.items()},
            "file_mb": round(self.file_bytes / 1e6, 1),
            "generated_s": None if self.generated_s is None else round(self.generated_s, 1),
        }


def corpus_path(rows: int, seed: int) -> Path:
    return cache_root() / "bench" / f"openr1-{rows}-{seed}-v{GENERATOR_VERSION}.parquet"


def _meta_path(path: Path) -> Path:
    return path.with_name(path.stem + ".bench.json")


def ensure_corpus(rows: int, seed: int = 0, workers: int | None = None) -> Corpus:
    """The corpus of `rows` rows for `seed`, from the cache or generated now (streamed to disk)."""
    path = corpus_path(rows, seed)
    meta = _meta_path(path)
    if path.exists():  # written through a temp file: an existing file is complete
        data = json.loads(meta.read_text()) if meta.exists() else {}
        if data.get("file_bytes") == path.stat().st_size and set(data.get("text_bytes", ())) == set(
            TEXT_COLUMNS
        ):
            return Corpus(path, rows, seed, data["text_bytes"], data["file_bytes"])
        corpus = Corpus(path, rows, seed, column_text_bytes(path), path.stat().st_size)
        _write_meta(corpus)
        return corpus
    started = time.perf_counter()
    write_sample(path, rows=rows, seed=seed, workers=workers)
    generated = time.perf_counter() - started
    corpus = Corpus(path, rows, seed, column_text_bytes(path), path.stat().st_size, generated)
    _write_meta(corpus)
    return corpus


def _write_meta(corpus: Corpus) -> None:
    data = {
        "rows": corpus.rows,
        "seed": corpus.seed,
        "generator_version": GENERATOR_VERSION,
        "text_bytes": corpus.text_bytes,
        "file_bytes": corpus.file_bytes,
    }
    atomic_write_text(_meta_path(corpus.path), json.dumps(data, indent=1))


def _text_bytes(column: pa.ChunkedArray | pa.Array) -> int:
    if pa.types.is_list(column.type):
        column = pc.list_flatten(column)
    if pa.types.is_struct(column.type):
        column = pc.struct_field(column, "content")
    return int(pc.sum(pc.binary_length(column)).as_py() or 0)


def column_text_bytes(path: Path) -> dict[str, int]:
    """UTF-8 bytes of each text column of a parquet file, one row group at a time."""
    parquet = pq.ParquetFile(path)
    columns = [c for c in TEXT_COLUMNS if c in parquet.schema_arrow.names]
    totals = dict.fromkeys(columns, 0)
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group, columns=columns)
        for name in columns:
            totals[name] += _text_bytes(table.column(name))
    return totals


def head(corpus: Corpus, rows: int, path: Path) -> Corpus:
    """The first `rows` rows of `corpus` as a corpus of their own (the baseline's subset), written to `path`."""
    parquet = pq.ParquetFile(corpus.path)
    tmp = temp_path_for(path)
    written = 0
    try:
        with pq.ParquetWriter(tmp, parquet.schema_arrow, compression="zstd", compression_level=1) as writer:
            for group in range(parquet.num_row_groups):
                if written >= rows:
                    break
                table = parquet.read_row_group(group).slice(0, rows - written)
                writer.write_table(table)
                written += table.num_rows
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Corpus(path, written, corpus.seed, column_text_bytes(path), path.stat().st_size)
