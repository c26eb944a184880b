"""Writing the embedded offline sample: chunks generated in order (in worker processes when asked),
streamed into one parquet file a row group at a time, and the planted-defect manifest beside it.

Same rows and seed give byte-identical files, with or without workers.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from curate.synthetic import planting
from curate.synthetic.rows import CHUNK_ROWS, generate_chunk
from curate.synthetic.schema import OPENR1_SCHEMA

GENERATOR_VERSION = 2  # bump whenever the bytes written for a (rows, seed) change


def _chunks(rows: int) -> list[tuple[int, int]]:
    return [(c, min(CHUNK_ROWS, rows - c * CHUNK_ROWS)) for c in range(math.ceil(rows / CHUNK_ROWS))]


def _work(args: tuple[int, int, int]) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """A chunk generated in a worker, shipped back as LZ4-compressed Arrow IPC: the text compresses about
    tenfold, so the parent spends little time receiving it."""
    table, manifest = generate_chunk(*args)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes(), manifest


def iter_chunks(
    rows: int, seed: int, workers: int = 1
) -> Iterator[tuple[pa.Table, dict[str, dict[str, Any]]]]:
    """Chunks in order; with workers > 1 they are generated in a process pool, at most a few ahead."""
    jobs = [(seed, c, n) for c, n in _chunks(rows)]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield generate_chunk(*job)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_fork_context()) as pool:
        pending = [pool.submit(_work, job) for job in jobs[: workers + 1]]
        next_job = len(pending)
        while pending:
            payload, manifest = pending.pop(0).result()
            if next_job < len(jobs):
                pending.append(pool.submit(_work, jobs[next_job]))
                next_job += 1
            yield pa.ipc.open_stream(payload).read_all(), manifest


def _fork_context() -> Any:
    """Fork where the platform has it (workers start warm, with the data files already loaded)."""
    import multiprocessing

    return multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )


def generate(rows: int, seed: int) -> pa.Table:
    """The whole sample as one table (for small sizes)."""
    tables = [table for table, _ in iter_chunks(rows, seed)]
    return pa.concat_tables(tables) if tables else OPENR1_SCHEMA.empty_table()


@dataclass
class SampleSummary:
    rows: int
    text_bytes: int
    file_bytes: int
    planted: dict[str, int]
    accidental_duplicates: int = 0


def manifest_path(path: Path) -> Path:
    return path.with_name(path.stem + ".planted.json")


def write_sample(path: Path, rows: int, seed: int, workers: int | None = None) -> SampleSummary:
    """Write `rows` sample rows to `path` (parquet, one row group per chunk) and the planted-defect manifest
    beside it, both through temp files renamed at the end."""
    from curate.cache import atomic_write_text, temp_path_for

    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    path = Path(path)
    tmp = temp_path_for(path)
    planted: dict[str, dict[str, Any]] = {}
    accidental = AccidentalDuplicates()
    text_bytes = 0
    try:
        with pq.ParquetWriter(
            tmp,
            OPENR1_SCHEMA,
            compression="zstd",
            compression_level=1,
            use_dictionary=False,
            write_statistics=False,
            data_page_size=8 << 20,
        ) as writer:
            for table, entries in iter_chunks(rows, seed, workers):
                writer.write_table(table, row_group_size=CHUNK_ROWS)
                planted.update(entries)
                accidental.scan(table, planted)
                text_bytes += text_size(table)
        counts = dict(sorted(_count(planted).items()))
        manifest = {
            "generator_version": GENERATOR_VERSION,
            "rows": rows,
            "seed": seed,
            "kinds": {k: {"filters": list(f), "description": d} for k, (f, d) in planting.KINDS.items()},
            "counts": counts,
            "planted": planted,
            "accidental_duplicates": accidental.found,
        }
        atomic_write_text(manifest_path(path), json.dumps(manifest, indent=1, sort_keys=True))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return SampleSummary(rows, text_bytes, path.stat().st_size, counts, len(accidental.found))


class AccidentalDuplicates:
    """Rows that, by chance, repeat an earlier row's problem (two draws of one family with the same
    parameters: rare, but a 225K-row corpus has a few). Listed in the manifest beside the planted rows, so
    a check of `exact_dedup` can tell them from false positives. Found by hashing the normalised problems
    of the whole file as it streams past (16 bytes a row)."""

    def __init__(self) -> None:
        self.first: dict[int, str] = {}
        self.found: dict[str, dict[str, Any]] = {}
        self.row = 0

    def scan(self, table: pa.Table, planted: dict[str, dict[str, Any]]) -> None:
        for uuid, problem in zip(table.column("uuid").to_pylist(), table.column("problem").to_pylist()):
            key = xxhash.xxh3_64_intdigest(planting.normalize(problem).encode())
            first = self.first.setdefault(key, uuid)
            if first != uuid and uuid not in planted:
                self.found[uuid] = {"row": self.row, "duplicate_of": first, "filters": ["exact_dedup"]}
            self.row += 1


def text_size(table: pa.Table) -> int:
    """Bytes of text in a sample table: every string column, lists and message contents included."""
    total = 0
    for name in ("problem", "solution", "answer", "generations"):
        column = table.column(name)
        values = pc.list_flatten(column) if pa.types.is_list(column.type) else column
        total += pc.sum(pc.binary_length(values)).as_py() or 0
    contents = pc.struct_field(pc.list_flatten(table.column("messages")), "content")
    return total + (pc.sum(pc.binary_length(contents)).as_py() or 0)


def _count(planted: dict[str, dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in planted.values():
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    return counts
