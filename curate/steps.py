"""The three kinds of step a run is made of, each cached under a key chained from the previous step's:
row filters, global filters (dedup), and the trace chain. Parallel work goes through an executor.

What a step keeps about every row is compact: the alive mask, and after the chain the chosen generation of
each row (two bytes). What it produces row by row (drops with their detail, the chain's per-row results) is
streamed into a `Spill` (memory while small, the run's spill folder beyond that) or read from the cache, and
read back batch by batch for the funnel, the rejections, the reports and the writer.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from curate import traces
from curate.cache import digest, load_entry, store_entry
from curate.clusters import Components
from curate.codeversion import code_version as closure_version
from curate.drops import CHAIN_SCHEMA, VERDICT_SCHEMA
from curate.executors import Executor, Signatures
from curate.filters import Filter, GlobalFilter, RowFilter, TraceFilter
from curate.filters.base import FilterStats
from curate.recipe import FilterStep
from curate.spill import ParquetRows, Spill, write_parquet
from curate.table import SourceTable
from curate.tasks import (
    ChainTask,
    FilterSpec,
    RowFilterTask,
    SignatureTask,
    merge_chain_stats,
    row_verdicts,
    verdicts_to_table,
)

log = logging.getLogger("curate")

ROW_BATCH = 4096  # rows per task for parallel row filters and signatures
CHAIN_BATCH = 1024  # rows per trace-chain task: enough to batch verification and tokenisation
DRIVER_SLICE = 20_000  # rows per progress update for filters run on the driver
STEP_CACHE = "steps-v2"  # entries carry their key and a hash of their bytes
PAIR_CHUNK = 1 << 14  # candidate pairs verified per step
# Candidate rows whose signatures are held at once (512 MB of 128-permutation MinHash); beyond it they are
# fetched chunk by chunk, slower but bounded.
CANDIDATE_ROWS = 1 << 20

Rows = Spill | ParquetRows


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
class StepOutput:
    """A step's per-row results: drops (`VERDICT_SCHEMA`) of a row or global filter, or, for the trace
    chain, every row's result (`CHAIN_SCHEMA`). `name` is the filter's (`SOURCE/filter` for a
    source's own filter in a mixed recipe); `rows_range` the rows it ran on (None: every row)."""

    name: str
    rows: Rows
    chain: bool = False
    rows_range: tuple[int, int] | None = None


@dataclass(frozen=True)
class Scope:
    """Where a step runs: on the rows of one source of a mixed recipe (`name`, its rows [lo, hi)), or on
    every row (`name` None); `sources` splits the funnel of a step over every row by source."""

    name: str | None = None
    rows: tuple[int, int] | None = None
    sources: tuple[tuple[str, int, int], ...] = ()
    columns: tuple[str, ...] = ()  # read besides the filter's own (a mix's `dataset_rank` for dedup)

    def ids(self, alive: np.ndarray) -> np.ndarray:
        if self.rows is None:
            return np.flatnonzero(alive)
        lo, hi = self.rows
        return np.flatnonzero(alive[lo:hi]) + lo

    def output_name(self, step: str) -> str:
        return step if self.name is None else f"{self.name}/{step}"

    def by_source(self, ids: np.ndarray, dropped: dict[str, np.ndarray]) -> dict[str, dict[str, Any]] | None:
        """Rows in and out per source, and drops per reason, for a step over every row of a mix."""
        if not self.sources:
            return None
        out = {}
        for name, lo, hi in self.sources:
            rows_in = int(np.count_nonzero((ids >= lo) & (ids < hi)))
            reasons = {r: int(np.count_nonzero((d >= lo) & (d < hi))) for r, d in dropped.items()}
            reasons = {r: n for r, n in sorted(reasons.items()) if n}
            out[name] = {"rows_in": rows_in, "rows_out": rows_in - sum(reasons.values()), "dropped": reasons}
        return out


EVERY_ROW = Scope()


@dataclass
class RunState:
    alive: np.ndarray  # bool per source row
    key: str  # fingerprint of everything that decided `alive`
    folder: Path  # the run's spill folder
    outputs: list[StepOutput] = field(default_factory=list)
    funnel: list[dict[str, Any]] = field(default_factory=list)
    selected: np.ndarray | None = None  # after the chain: the chosen generation per source row, -1 for none
    phases: list[dict[str, Any]] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a part of the run: wall seconds, and the driver's own CPU seconds (the part more workers do
        not shorten), for stats.json and the benchmark's projection to larger machines."""
        at, wall, cpu = time.time(), time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.phases.append(
                {
                    "phase": name,
                    "started": round(at, 3),
                    "wall_s": round(time.perf_counter() - wall, 3),
                    "driver_cpu_s": round(time.process_time() - cpu, 3),
                }
            )


def code_version(*steps: FilterStep) -> str:
    """The code behind steps' results: the import closure of their filters' modules, of the filter base and of
    the trace chain (`curate.codeversion`), and the versions of the distributions plugin filters come from."""
    modules = {"curate.filters.base", "curate.traces", *(step.cls.__module__ for step in steps)}
    plugins = sorted({(s.info.distribution, s.info.version) for s in steps if s.info.origin != "curate"}, key=str)
    return digest(closure_version(*sorted(modules)), plugins)


def load_cached(key: str) -> tuple[ParquetRows, dict[str, Any]] | None:
    """A step's cached result, checked (`curate.cache.load_entry`): never a damaged or another step's."""
    hit = load_entry(STEP_CACHE, key)
    return (ParquetRows(hit[0]), hit[1]) if hit is not None else None


def store_cached(key: str, rows: Rows, schema: pa.Schema, meta: dict[str, Any]) -> None:
    store_entry(STEP_CACHE, key, lambda path: write_parquet(path, rows, schema), meta)


def id_batches(table: SourceTable, ids: np.ndarray, rows: int) -> Iterator[pa.Table]:
    """The row-id tables tasks get: `ids` cut along row groups (see `SourceTable.batches`)."""
    for part in table.batches(ids, rows):
        yield pa.table({"row_id": part})


def _counted(batches: Iterable[pa.Table], bar: tqdm) -> Iterator[pa.Table]:
    for batch in batches:
        yield batch
        bar.update(batch.num_rows)


def run_filter_step(
    step: FilterStep,
    f: Filter,
    spec: FilterSpec,
    table: SourceTable,
    state: RunState,
    executor: Executor,
    use_cache: bool,
    scope: Scope = EVERY_ROW,
) -> None:
    """A row or global filter over the surviving rows (of its scope); updates `state` (alive rows, drops,
    funnel, key)."""
    key = digest(
        state.key, step.name, step.params_dict(), code_version(step), f.fingerprint_extra(), scope.name, scope.rows
    )
    ids = scope.ids(state.alive)
    hit = load_cached(key) if use_cache else None
    started = time.perf_counter()
    rows: Rows
    if hit is not None:
        rows = hit[0]
        f.stats = FilterStats.from_dict(hit[1]["filter_stats"])
    else:
        rows = Spill(state.folder, f"step-{len(state.outputs)}", VERDICT_SCHEMA)
        columns = ["uuid", *[c for c in (*f.required_columns(), *scope.columns) if c != "uuid"]]
        if isinstance(f, GlobalFilter):
            _global(f, spec, table, ids, columns, executor, key, state.folder, rows)
        elif executor.remote or (f.parallel and executor.parallel):
            kwargs = {"spec": spec, "layout": table.layout(), "columns": columns}
            with progress(ids.size, f.name) as bar:
                for result in executor.map(
                    RowFilterTask, kwargs, _counted(id_batches(table, ids, ROW_BATCH), bar), key
                ):
                    rows.append(result)
        else:
            assert isinstance(f, RowFilter)
            with progress(ids.size, f.name) as bar:
                for frame in table.iter_rows(columns, ids, batch_rows=DRIVER_SLICE):
                    rows.append(row_verdicts(f, frame))
                    bar.update(frame.height)
    reasons: Counter[str] = Counter()
    dropped_ids: dict[str, list[np.ndarray]] = {}
    for batch in rows.batches(["row_id", "reason"]):
        dropped = pc.is_valid(batch.column("reason"))  # a null reason is a note on a kept row
        row_ids = batch.column("row_id").filter(dropped).to_numpy()
        state.alive[row_ids] = False
        batch_reasons = batch.column("reason").filter(dropped).to_pylist()
        reasons.update(batch_reasons)
        if scope.sources:
            labels = np.asarray(batch_reasons, dtype=object)
            for reason in set(batch_reasons):
                dropped_ids.setdefault(reason, []).append(row_ids[labels == reason])
    rows_out = int(ids.size - sum(reasons.values()))
    if hit is not None:
        log.info("%s: cached result (%d of %d rows dropped)", step.name, ids.size - rows_out, ids.size)
    else:
        f.count(ids.size, reasons, time.perf_counter() - started)
        if use_cache:
            store_cached(key, rows, VERDICT_SCHEMA, {"filter_stats": f.stats.as_dict()})
    entry = {
        "filter": step.name,
        **({"source": scope.name} if scope.name else {}),
        "level": step.level,
        "rows_in": int(ids.size),
        "rows_out": rows_out,
        "dropped": dict(sorted(reasons.items())),
        "seconds": round(time.perf_counter() - started, 3),
        "cached": hit is not None,
    }
    split = scope.by_source(ids, {r: np.concatenate(parts) for r, parts in dropped_ids.items()})
    if split is not None:
        entry["sources"] = split
    state.funnel.append(entry)
    state.outputs.append(StepOutput(scope.output_name(step.name), rows, rows_range=scope.rows))
    state.key = key
    log.info("%s%s: kept %d of %d rows", f"{scope.name}: " if scope.name else "", step.name, rows_out, ids.size)


def _global(
    f: GlobalFilter,
    spec: FilterSpec,
    table: SourceTable,
    ids: np.ndarray,
    columns: list[str],
    executor: Executor,
    key: str,
    folder: Path,
    out: Spill,
) -> None:
    """A global filter. A clustering filter (dedup) is decided at any scale: signatures and bucket keys on
    the workers, candidate pairs by grouping keys, verification of candidate pairs only, and the filter's
    decision over the members of the clusters found. Any other global filter sees every row at once."""
    log.info("%s: %d rows", f.name, ids.size)
    kwargs = {"spec": spec, "layout": table.layout(), "columns": columns}
    if not f.clusters:
        frame = table.read(columns, ids)
        if type(f).signatures is GlobalFilter.signatures:  # a filter that only implements filter_all
            verdicts = f.filter_all(frame)
        else:
            if (executor.parallel or executor.remote) and ids.size > 2 * ROW_BATCH:
                batches = id_batches(table, ids, ROW_BATCH)
                parts = [t.column("signature") for t in executor.map(SignatureTask, kwargs, batches, key)]
                signatures = pa.chunked_array(parts).combine_chunks()
            else:
                signatures = f.signatures(frame)
            verdicts = f.decide(frame, signatures)
        out.append(verdicts_to_table(frame["row_id"].to_list(), verdicts))
        return
    with progress(ids.size, f"{f.name} signatures") as bar:
        batches = _counted(id_batches(table, ids, ROW_BATCH), bar)
        found = executor.signatures(SignatureTask, kwargs, batches, key, folder)
    try:
        members, labels = cluster(f, found, ids, folder)
        log.info("%s: %d rows in clusters of two or more", f.name, members.size)
        if members.size:
            frame = table.read(columns, members)
            verdicts = f.decide_clusters(frame, labels, found.take(np.searchsorted(ids, members)))
            out.append(verdicts_to_table(members.tolist(), verdicts))
    finally:
        found.close()


def cluster(
    f: GlobalFilter, found: Signatures, ids: np.ndarray, folder: Path
) -> tuple[np.ndarray, np.ndarray]:
    """The rows (of `ids`, in the order the signatures were computed) in clusters of two or more, and each
    one's cluster label (its smallest row id).

    Candidate pairs from shared bucket keys are spilled while their rows are marked; the signatures of the
    candidate rows (usually a small share of all rows) are then fetched in one pass, or chunk by chunk when
    there are more than `CANDIDATE_ROWS`; pairs not yet joined are verified with `f.linked` and joined by
    union-find."""
    joined = Components(ids.size)
    pairs = Spill(folder, "pairs")
    candidate = np.zeros(ids.size, dtype=bool)
    for chunk in found.candidate_pairs(first_only=f.pairing == "first"):
        pairs.append(pa.table({"a": chunk[:, 0], "b": chunk[:, 1]}))
        candidate[chunk[:, 0]] = candidate[chunk[:, 1]] = True
    rows = np.flatnonzero(candidate)
    held = found.take(rows) if 0 < rows.size <= CANDIDATE_ROWS else None
    slot = np.full(ids.size, -1, dtype=np.int64)  # position -> index into the signatures at hand
    slot[rows] = np.arange(rows.size)
    for batch in pairs.batches():
        a_all, b_all = batch.column("a").to_numpy(), batch.column("b").to_numpy()
        for lo in range(0, a_all.size, PAIR_CHUNK):
            a, b = a_all[lo : lo + PAIR_CHUNK], b_all[lo : lo + PAIR_CHUNK]
            part = np.flatnonzero(~joined.same(a, b))  # pairs already in one cluster need no verifying
            if part.size == 0:
                continue
            if held is not None:
                signatures = held
            else:
                index = np.unique(np.concatenate([a[part], b[part]]))
                signatures = found.take(index)
                slot[index] = np.arange(index.size)
            left = signatures.take(pa.array(slot[a[part]]))
            right = signatures.take(pa.array(slot[b[part]]))
            linked = part[np.asarray(f.linked(left, right), dtype=bool)]
            joined.join(a[linked], b[linked])
    pairs.close()
    members, labels = joined.clusters()
    return ids[members], ids[labels]


def run_trace_chain(
    steps: list[tuple[FilterStep, TraceFilter, FilterSpec]],
    table: SourceTable,
    state: RunState,
    *,
    strategy: str,
    format_spec: dict[str, Any],
    executor: Executor,
    use_cache: bool,
    scope: Scope = EVERY_ROW,
) -> list[dict[str, Any]]:
    """Every trace filter as one chain over the surviving rows (of its scope), in batches on the executor's
    workers; sets `state.selected` for those rows, adds the chain's per-row results to `state.outputs`, and
    returns the chain's funnel entries (the caller adds them to the run's funnel)."""
    names = [s.name for s, _, _ in steps]
    key = digest(
        state.key,
        "traces",
        strategy,
        format_spec,
        [(s.name, s.params_dict(), f.fingerprint_extra()) for s, f, _ in steps],
        code_version(*[s for s, _, _ in steps]) if steps else "",
        scope.name,
        scope.rows,
    )
    ids = scope.ids(state.alive)
    started = time.perf_counter()
    hit = load_cached(key) if use_cache else None
    instances = [f for _, f, _ in steps]
    # This chain's counts apart from what the instances gathered in earlier chains (a mixed recipe runs one
    # chain per source with the recipe's trace filters in each); added back at the end.
    earlier = [(f.stats, f.merged_counters) for f in instances]
    for f in instances:
        f.stats, f.merged_counters = FilterStats(), Counter()
    rows: Rows
    if hit is not None:
        rows = hit[0]
        per_filter = hit[1]["filter_stats"]
        for f in instances:
            f.merge_counters(per_filter.get(f.name, {}).get("counters", {}))
        log.info("trace filters: cached result for %d rows", ids.size)
    else:
        rows = Spill(state.folder, "traces", CHAIN_SCHEMA)
        kwargs = {
            "layout": table.layout(),
            "specs": [spec for _, _, spec in steps],
            "strategy": strategy,
            "batch_rows": CHAIN_BATCH,
        }
        with progress(ids.size, "trace filters") as bar:
            batches = _counted(id_batches(table, ids, CHAIN_BATCH), bar)
            for result in executor.map(ChainTask, kwargs, batches, key):
                merge_chain_stats(instances, result)
                rows.append(result.drop(["_stats"]))
        per_filter = {f.name: {**f.stats.as_dict(), "counters": dict(f.merged_counters)} for f in instances}
        if use_cache:
            store_cached(key, rows, CHAIN_SCHEMA, {"filter_stats": per_filter})
    for f, (stats, counters) in zip(instances, earlier):
        counters.update(f.merged_counters)
        stats.seen, stats.kept = stats.seen + f.stats.seen, stats.kept + f.stats.kept
        stats.dropped.update(f.stats.dropped)
        stats.seconds += f.stats.seconds
        f.stats, f.merged_counters = stats, counters
    tally = traces.ChainTally(names)
    if state.selected is None:
        state.selected = np.full(table.num_rows, -1, dtype=np.int16)
    for batch in rows.batches(["row_id", "selected", "depth", "reason"]):
        tally.add(batch)
        state.selected[batch.column("row_id").to_numpy()] = batch.column("selected").to_numpy()
    seconds = round(time.perf_counter() - started, 3)
    entries = []
    for entry in tally.funnel():
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
        entries.append(entry)
        log.info(
            "%s%s: kept %d of %d rows",
            f"{scope.name}: " if scope.name else "",
            entry["filter"],
            entry["rows_out"],
            entry["rows_in"],
        )
    state.outputs.append(StepOutput("traces", rows, chain=True, rows_range=scope.rows))
    return entries
