"""The three kinds of step a run is made of, each cached under a key chained from the previous step's:
row filters, global filters (dedup), and the trace chain. Parallel work goes through an executor."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from tqdm import tqdm

import filters.base
from curate import traces
from curate.cache import atomic_write_text, cache_root, digest, source_code_hash, temp_path_for
from curate.executors import Executor
from curate.recipe import FilterStep
from curate.table import SourceTable
from curate.tasks import (
    ChainTask,
    FilterSpec,
    RowFilterTask,
    SignatureTask,
    merge_chain_stats,
    verdicts_to_table,
)
from filters import Filter, GlobalFilter, Row, RowFilter

log = logging.getLogger("curate")

DROP_SCHEMA = {"row_id": pl.Int64, "reason": pl.String, "detail": pl.String, "info": pl.String}
ROW_BATCH = 4096  # rows per task for parallel row filters and signatures
CHAIN_BATCH = 1024  # rows per trace-chain task: enough to batch verification and tokenisation
DRIVER_SLICE = 20_000  # rows per progress update for filters run on the driver


def progress(total: int | None, desc: str, unit: str = "rows") -> tqdm:
    """A rows/s bar on a terminal; off in logs and CI, where the log lines carry the counts.
    CURATE_PROGRESS=1 forces it on, 0 off."""
    setting = os.environ.get("CURATE_PROGRESS")
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        dynamic_ncols=True,
        mininterval=0.5,
        file=sys.stderr,
        disable=setting == "0" or (setting != "1" and not sys.stderr.isatty()),
        leave=False,
    )


@dataclass
class RunState:
    alive: np.ndarray  # bool per source row
    key: str  # fingerprint of everything that decided `alive`
    drops: list[pl.DataFrame] = field(default_factory=list)  # row_id, filter, reason, detail, info
    funnel: list[dict[str, Any]] = field(default_factory=list)


def code_version(*filter_classes: type) -> str:
    modules = {sys.modules[c.__module__] for c in filter_classes}
    return source_code_hash(filters.base, traces, *sorted(modules, key=lambda m: m.__name__))


def load_cached(key: str) -> tuple[pl.DataFrame, dict[str, Any]] | None:
    path = cache_root() / "steps" / f"{key}.parquet"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return pl.read_parquet(path), json.loads(meta.read_text())
    return None


def store_cached(key: str, frame: pl.DataFrame, meta: dict[str, Any]) -> None:
    path = cache_root() / "steps" / f"{key}.parquet"
    tmp = temp_path_for(path)
    frame.write_parquet(tmp)
    tmp.replace(path)
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta))


def run_filter_step(
    step: FilterStep,
    f: Filter,
    spec: FilterSpec,
    table: SourceTable,
    state: RunState,
    executor: Executor,
    use_cache: bool,
) -> None:
    """A row or global filter over the surviving rows; updates `state` (alive rows, drops, funnel, key)."""
    key = digest(state.key, step.name, step.params_dict(), code_version(step.cls), f.fingerprint_extra())
    ids = np.flatnonzero(state.alive)
    hit = load_cached(key) if use_cache else None
    started = time.perf_counter()
    if hit is not None:
        drops = hit[0]
        f.stats = filters.base.FilterStats.from_dict(hit[1]["filter_stats"])
        log.info("%s: cached result (%d of %d rows dropped)", step.name, drops["reason"].count(), ids.size)
    else:
        frame = table.read(["uuid", *[c for c in f.required_columns() if c != "uuid"]], ids)
        if isinstance(f, GlobalFilter):
            table_out = _global(f, spec, frame, executor, key)
        elif f.parallel and executor.parallel:
            table_out = _parallel_rows(f, spec, frame, executor, key)
        else:
            assert isinstance(f, RowFilter)
            table_out = _driver_rows(f, frame)
        drops = pl.DataFrame(pl.from_arrow(table_out), schema=DROP_SCHEMA)
        reasons_seen = drops["reason"].drop_nulls().to_list()  # a null reason is a note on a kept row
        f.count(frame.height, Counter(reasons_seen), time.perf_counter() - started)
        if use_cache:
            store_cached(key, drops, {"filter_stats": f.stats.as_dict()})
    dropped = drops.filter(pl.col("reason").is_not_null())
    state.alive[dropped["row_id"].to_numpy()] = False
    reasons = dropped.group_by("reason").len().sort("reason")
    state.funnel.append(
        {
            "filter": step.name,
            "level": step.level,
            "rows_in": int(ids.size),
            "rows_out": int(ids.size - dropped.height),
            "dropped": dict(zip(reasons["reason"].to_list(), reasons["len"].to_list())),
            "seconds": round(time.perf_counter() - started, 3),
            "cached": hit is not None,
        }
    )
    state.drops.append(drops.with_columns(pl.lit(step.name).alias("filter")))
    state.key = key
    log.info("%s: kept %d of %d rows", step.name, ids.size - dropped.height, ids.size)


def _driver_rows(f: RowFilter, frame: pl.DataFrame) -> pa.Table:
    parts = []
    with progress(frame.height, f.name) as bar:
        for start in range(0, frame.height, DRIVER_SLICE):
            part = frame.slice(start, DRIVER_SLICE)
            rows = [Row(r["row_id"], r) for r in part.iter_rows(named=True)]
            parts.append(verdicts_to_table([r.row_id for r in rows], f.filter_batch(rows)))
            bar.update(part.height)
    return pa.concat_tables(parts) if parts else verdicts_to_table([], [])


def _batches(frame: pl.DataFrame, size: int) -> list[pa.Table]:
    return [frame.slice(start, size).to_arrow() for start in range(0, frame.height, size)]


def _parallel_rows(
    f: Filter, spec: FilterSpec, frame: pl.DataFrame, executor: Executor, key: str
) -> pa.Table:
    parts = []
    batches = _batches(frame, ROW_BATCH)
    with progress(frame.height, f.name) as bar:
        for batch, result in zip(batches, executor.map(RowFilterTask, {"spec": spec}, batches, key)):
            parts.append(result)
            bar.update(batch.num_rows)
    return pa.concat_tables(parts) if parts else verdicts_to_table([], [])


def _global(f: GlobalFilter, spec: FilterSpec, frame: pl.DataFrame, executor: Executor, key: str) -> pa.Table:
    """Signatures row by row (spread over workers when it pays), then one decision on the driver."""
    log.info("%s: %d rows", f.name, frame.height)
    if type(f).signatures is GlobalFilter.signatures:  # a filter that only implements filter_all
        verdicts = f.filter_all(frame)
    else:
        if executor.parallel and frame.height > 2 * ROW_BATCH:
            batches = _batches(frame, ROW_BATCH)
            parts = [
                t.column("signature").combine_chunks()
                for t in executor.map(SignatureTask, {"spec": spec}, batches, key)
            ]
            signatures = pa.concat_arrays(parts)
        else:
            signatures = f.signatures(frame)
        verdicts = f.decide(frame, signatures)
    return verdicts_to_table(frame["row_id"].to_list(), verdicts)


def run_trace_chain(
    steps: list[tuple[FilterStep, Filter, FilterSpec]],
    table: SourceTable,
    state: RunState,
    *,
    strategy: str,
    format_spec: dict[str, Any],
    executor: Executor,
    use_cache: bool,
) -> traces.ChainResult:
    """Every trace filter as one chain over the surviving rows, in batches on the executor's workers."""
    names = [s.name for s, _, _ in steps]
    key = digest(
        state.key,
        "traces",
        strategy,
        format_spec,
        [(s.name, s.params_dict(), f.fingerprint_extra()) for s, f, _ in steps],
        code_version(*[s.cls for s, _, _ in steps]) if steps else "",
    )
    ids = np.flatnonzero(state.alive)
    started = time.perf_counter()
    hit = load_cached(key) if use_cache else None
    instances = [f for _, f, _ in steps]
    if hit is not None:
        chain = traces.ChainResult(hit[0], names)
        per_filter = hit[1]["filter_stats"]
        for f in instances:
            f.merge_counters(per_filter.get(f.name, {}).get("counters", {}))
        log.info("trace filters: cached result for %d rows", ids.size)
    else:
        batches = [pa.table({"row_id": ids[i : i + CHAIN_BATCH]}) for i in range(0, ids.size, CHAIN_BATCH)]
        kwargs = {
            "files": [str(p) for p in table.files],
            "specs": [spec for _, _, spec in steps],
            "strategy": strategy,
            "batch_rows": CHAIN_BATCH,
        }
        results = []
        with progress(ids.size, "trace filters") as bar:
            for batch, result in zip(batches, executor.map(ChainTask, kwargs, batches, key)):
                results.append(result)
                bar.update(batch.num_rows)
        merge_chain_stats(instances, results)
        frames = [pl.from_arrow(r.drop(["_stats"])) for r in results]
        chain = traces.ChainResult(
            pl.concat(frames, how="vertical_relaxed") if frames else traces.empty_frame(), names
        )
        per_filter = {f.name: {**f.stats.as_dict(), "counters": dict(f.merged_counters)} for f in instances}
        if use_cache:
            store_cached(key, chain.frame, {"filter_stats": per_filter})
    seconds = round(time.perf_counter() - started, 3)
    for entry in chain.funnel():
        generations = per_filter.get(entry["filter"])
        entry.update(
            {
                "level": "trace",
                "generations": {k: v for k, v in generations.items() if k != "counters"}
                if generations
                else None,
                "cached": hit is not None,
                "seconds": generations["seconds"] if generations else seconds,
            }
        )
        state.funnel.append(entry)
        log.info("%s: kept %d of %d rows", entry["filter"], entry["rows_out"], entry["rows_in"])
    state.drops.append(chain.drops().select("row_id", "filter", "reason", "detail", "info"))
    return chain
