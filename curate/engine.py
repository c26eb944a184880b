"""Runs a recipe: source -> row filters -> trace chain -> sample -> outputs.

Each step's result is cached under a key chained from the previous step's key, its parameters and its
code version, so editing the last filter of a recipe re-runs only that filter.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from tqdm import tqdm

import curate
import filters.base
from curate import sampling, traces
from curate.cache import cache_root, digest, source_code_hash
from curate.card import write_card
from curate.formatting import build_messages, format_kwargs
from curate.outputs import (
    REJECTION_SCHEMA,
    SPLIT_SCHEMA,
    SplitWriter,
    staged_dir,
    versions,
    write_json,
    write_table,
)
from curate.recipe import FilterStep, Recipe, dump_yaml
from curate.source import ResolvedSource, resolve_source
from curate.table import SourceTable
from filters import Drop, Filter, FilterContext, GlobalFilter, Row, RowFilter, TraceFilter

log = logging.getLogger("curate")

ROW_COLUMNS = ("uuid", "problem", "answer", "source", "problem_type", "question_type")
DROP_SCHEMA = {"row_id": pl.Int64, "reason": pl.String, "detail": pl.String, "info": pl.String}


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
class RunResult:
    out_dir: Path
    stats: dict[str, Any]


@dataclass
class _State:
    alive: np.ndarray  # bool per source row
    key: str  # fingerprint of everything that decided `alive`
    drops: list[pl.DataFrame] = field(default_factory=list)  # row_id, filter, reason, detail, info
    funnel: list[dict[str, Any]] = field(default_factory=list)


def run_recipe(recipe: Recipe, *, use_cache: bool = True) -> RunResult:
    started = time.perf_counter()
    spec = recipe.model
    out_dir = Path(spec.output.dir)
    log.info("recipe %s: %d filters, output %s", recipe.name, len(recipe.steps), out_dir)
    source = resolve_source(spec.source)
    if spec.source.kind == "sample":
        log.info("source: the embedded offline sample (%d synthetic OpenR1-shaped rows)", spec.source.rows)
    table = SourceTable(source.files)
    log.info("source: %d rows in %d file(s)", table.num_rows, len(source.files))
    table.check_columns(_needed_columns(recipe))

    workers = spec.executor.workers or os.cpu_count() or 1
    context = FilterContext(
        seed=spec.seed,
        cache_dir=str(cache_root()),
        workers=workers,
        recipe_dir=str(recipe.path.parent) if recipe.path else None,
        format_kwargs=format_kwargs(spec.format),
    )
    instances = [step.cls(step.params, context) for step in recipe.steps]
    for f in instances:
        f.setup()

    state = _State(
        np.ones(table.num_rows, dtype=bool), digest("source", source.fingerprint, curate.__version__)
    )
    reports: dict[str, Any] = {}
    with _worker_pool(instances, workers) as pool:
        for step, f in zip(recipe.steps, instances):
            if isinstance(f, TraceFilter):
                continue
            _run_row_step(step, f, table, state, pool, use_cache)
        trace_steps = [(s, f) for s, f in zip(recipe.steps, instances) if isinstance(f, TraceFilter)]
        chain = _run_trace_chain(trace_steps, table, state, recipe, pool, use_cache)
    for f in instances:
        f.close()

    survivors = chain.survivors()
    frame = table.read(
        ["uuid", *{spec.sample.weight_by, spec.sample.stratify} - {None, "uuid"}]
        if spec.sample
        else ["uuid"],
        survivors["row_id"].to_numpy(),
    )
    split = _split(frame, recipe)
    state.funnel.append(
        {
            "filter": "sample",
            "level": "sample",
            "rows_in": split.pool,
            "rows_out": int(split.train.size + split.test.size),
            "dropped": {"not_sampled": int(split.pool - split.train.size - split.test.size)},
        }
    )
    all_drops = _collect_drops(state, table, split, frame)
    for step, f in zip(recipe.steps, instances):
        report = f.report(_drops_of(all_drops, step.name))
        if report is not None:
            reports[step.name] = report

    stats = {
        "recipe": recipe.name,
        "recipe_sha256": digest(recipe.resolved()),
        "source": {k: v for k, v in source.provenance.items() if k != "files"},
        "rows": {
            "source": table.num_rows,
            "pool": split.pool,
            "train": int(split.train.size),
            "test": int(split.test.size),
        },
        "funnel": state.funnel,
        "versions": versions(),
    }
    with staged_dir(out_dir) as staging:
        written = _write_splits(staging, table, survivors, split, recipe)
        stats["columns"] = written
        write_table(staging / "rejections.parquet", _rejections_table(all_drops))
        for name, report in reports.items():
            write_json(staging / f"{name}_report.json", report)
        (staging / "recipe.lock.yaml").write_text(_lock(recipe, source), encoding="utf-8")
        stats["seconds_total"] = round(time.perf_counter() - started, 3)
        write_json(staging / "stats.json", stats)
        write_card(staging)
    log.info(
        "wrote %s: train %d, test %d, rejected %d (%.1fs)",
        out_dir,
        split.train.size,
        split.test.size,
        table.num_rows - split.train.size - split.test.size,
        time.perf_counter() - started,
    )
    return RunResult(out_dir, stats)


def _needed_columns(recipe: Recipe) -> dict[str, str]:
    needed = {c: "the output" for c in (*ROW_COLUMNS, "generations")}
    if recipe.model.select.strategy == "dataset":
        needed["messages"] = "select: dataset"
    for step in recipe.steps:
        for column in step.cls(step.params).required_columns():
            needed.setdefault(column, f"filter {step.name!r}")
    return needed


@contextmanager
def _worker_pool(instances: list[Filter], workers: int) -> Iterator[Executor | None]:
    """One process pool for every parallel filter, forked after setup so workers inherit built indexes."""
    parallel = [f for f in instances if f.parallel]
    if workers < 2 or not parallel:
        yield None
        return
    for f in parallel:
        filters.base.register_for_workers(f)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _code_version(*filter_classes: type) -> str:
    modules = {sys.modules[c.__module__] for c in filter_classes}
    return source_code_hash(filters.base, traces, *sorted(modules, key=lambda m: m.__name__))


def _step_key(state: _State, step: FilterStep, f: Filter) -> str:
    return digest(state.key, step.name, step.params_dict(), _code_version(step.cls), f.fingerprint_extra())


def _cached(key: str) -> tuple[pl.DataFrame, dict[str, Any]] | None:
    path = cache_root() / "steps" / f"{key}.parquet"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return pl.read_parquet(path), json.loads(meta.read_text())
    return None


def _store(key: str, frame: pl.DataFrame, meta: dict[str, Any]) -> None:
    from curate.cache import atomic_write_text, temp_path_for

    path = cache_root() / "steps" / f"{key}.parquet"
    tmp = temp_path_for(path)
    frame.write_parquet(tmp)
    tmp.replace(path)
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta))


def _run_row_step(
    step: FilterStep, f: Filter, table: SourceTable, state: _State, pool: Executor | None, use_cache: bool
) -> None:
    key = _step_key(state, step, f)
    ids = np.flatnonzero(state.alive)
    hit = _cached(key) if use_cache else None
    started = time.perf_counter()
    if hit is not None:
        drops, meta = hit
        log.info("%s: cached result (%d of %d rows dropped)", step.name, drops.height, ids.size)
    else:
        columns = ["uuid", *[c for c in f.required_columns() if c != "uuid"]]
        frame = table.read(columns, ids)
        if isinstance(f, GlobalFilter):
            log.info("%s: %d rows", step.name, frame.height)
            verdicts = f.apply(frame)
        else:
            assert isinstance(f, RowFilter)
            verdicts = []
            with progress(frame.height, step.name) as bar:
                for start in range(0, frame.height, 20_000):
                    part = frame.slice(start, 20_000)
                    rows = [Row(r["row_id"], r) for r in part.iter_rows(named=True)]
                    verdicts.extend(f.apply(rows, pool))
                    bar.update(part.height)
        drops = _drops_frame(frame["row_id"].to_list(), verdicts)
        meta = {"generations": None, "filter_stats": f.stats.as_dict()}
        if use_cache:
            _store(key, drops, meta)
    state.alive[drops["row_id"].to_numpy()] = False
    reasons = drops.group_by("reason").len().sort("reason")
    state.funnel.append(
        {
            "filter": step.name,
            "level": step.level,
            "rows_in": int(ids.size),
            "rows_out": int(ids.size - drops.height),
            "dropped": dict(zip(reasons["reason"].to_list(), reasons["len"].to_list())),
            "seconds": round(time.perf_counter() - started, 3),
            "cached": hit is not None,
        }
    )
    state.drops.append(drops.with_columns(pl.lit(step.name).alias("filter")))
    state.key = key
    log.info("%s: kept %d of %d rows", step.name, ids.size - drops.height, ids.size)


def _drops_frame(row_ids: list[int], verdicts: list[Any]) -> pl.DataFrame:
    rows = [
        (rid, v.reason, v.detail, json.dumps(v.info, sort_keys=True) if v.info else None)
        for rid, v in zip(row_ids, verdicts)
        if isinstance(v, Drop)
    ]
    return pl.DataFrame(rows, schema=DROP_SCHEMA, orient="row")


def _run_trace_chain(
    trace_steps: list[tuple[FilterStep, Filter]],
    table: SourceTable,
    state: _State,
    recipe: Recipe,
    pool: Executor | None,
    use_cache: bool,
) -> traces.ChainResult:
    names = [s.name for s, _ in trace_steps]
    key = digest(
        state.key,
        "traces",
        recipe.model.select.strategy,
        recipe.model.format.model_dump(),
        [(s.name, s.params_dict(), f.fingerprint_extra()) for s, f in trace_steps],
        _code_version(*[s.cls for s, _ in trace_steps]) if trace_steps else "",
    )
    ids = np.flatnonzero(state.alive)
    started = time.perf_counter()
    hit = _cached(key) if use_cache else None
    if hit is not None:
        chain = traces.ChainResult(hit[0], names)
        per_filter = hit[1]["filter_stats"]
        log.info("trace filters: cached result for %d rows", ids.size)
    else:
        extra = sorted({c for _, f in trace_steps for c in f.required_columns()})
        with progress(ids.size, "trace filters") as bar:
            chain = traces.run_chain(
                [f for _, f in trace_steps],
                table,
                ids,  # type: ignore[misc]
                strategy=recipe.model.select.strategy,
                extra_columns=extra,
                pool=pool,
                on_rows=bar.update,
            )
        per_filter = {s.name: f.stats.as_dict() for s, f in trace_steps}
        if use_cache:
            _store(key, chain.frame, {"filter_stats": per_filter})
    seconds = round(time.perf_counter() - started, 3)
    for entry in chain.funnel():
        entry.update(
            {
                "level": "trace",
                "generations": per_filter.get(entry["filter"]),
                "cached": hit is not None,
                "seconds": per_filter.get(entry["filter"], {}).get("seconds", seconds),
            }
        )
        state.funnel.append(entry)
        log.info("%s: kept %d of %d rows", entry["filter"], entry["rows_out"], entry["rows_in"])
    no_gen = chain.drops().filter(pl.col("filter") == "select")
    if no_gen.height:
        log.info("select: %d rows have no generations", no_gen.height)
    state.drops.append(chain.drops().select("row_id", "filter", "reason", "detail", "info"))
    return chain


def _split(frame: pl.DataFrame, recipe: Recipe) -> sampling.Split:
    spec = recipe.model.sample
    ids = frame["row_id"].to_numpy()
    if spec is None:
        return sampling.Split(np.sort(ids), np.empty(0, dtype=np.int64), frame.height, (None, 0))
    split = sampling.draw(
        frame,
        seed=recipe.model.seed,
        size=spec.size,
        test_size=spec.test_size,
        weights=spec.weights,
        weight_by=spec.weight_by,
        stratify=spec.stratify,
        allow_smaller=spec.allow_smaller,
    )
    log.info(
        "sample: %d train + %d test from a pool of %d (seed %d)",
        split.train.size,
        split.test.size,
        split.pool,
        recipe.model.seed,
    )
    return split


def _collect_drops(
    state: _State, table: SourceTable, split: sampling.Split, frame: pl.DataFrame
) -> pl.DataFrame:
    chosen = np.union1d(split.train, split.test)
    unsampled = np.setdiff1d(frame["row_id"].to_numpy(), chosen)
    extra = pl.DataFrame(
        {
            "row_id": unsampled,
            "filter": "sample",
            "reason": "not_sampled",
            "detail": "survived every filter but was not drawn by the seeded sample",
            "info": None,
        },
        schema={**DROP_SCHEMA, "filter": pl.String},
    )
    parts = [d.select("row_id", "filter", "reason", "detail", "info") for d in state.drops] + [
        extra.select("row_id", "filter", "reason", "detail", "info")
    ]
    drops = pl.concat(parts, how="vertical_relaxed").sort("row_id")
    uuids = table.read(["uuid"], drops["row_id"].unique().sort().to_numpy())
    return drops.join(uuids, on="row_id", how="left").sort("row_id")


def _drops_of(all_drops: pl.DataFrame, name: str) -> list[tuple[str, Drop]]:
    mine = all_drops.filter(pl.col("filter") == name)
    return [
        (
            row["uuid"],
            Drop(row["reason"], row["detail"] or "", json.loads(row["info"]) if row["info"] else None),
        )
        for row in mine.iter_rows(named=True)
    ]


def _rejections_table(all_drops: pl.DataFrame) -> pa.Table:
    return all_drops.select("uuid", "filter", "reason", "detail").to_arrow().cast(REJECTION_SCHEMA)


def _write_splits(
    staging: Path, table: SourceTable, survivors: pl.DataFrame, split: sampling.Split, recipe: Recipe
) -> list[str]:
    spec = recipe.model.format
    chosen = np.union1d(split.train, split.test)
    picked = survivors.filter(pl.col("row_id").is_in(chosen))
    selected = dict(zip(picked["row_id"].to_list(), picked["selected"].to_list()))
    fields = {
        rid: json.loads(f) if f else {}
        for rid, f in zip(picked["row_id"].to_list(), picked["fields"].to_list())
    }
    counter = None
    if any("num_tokens" not in f for f in fields.values()):
        from curate.tokenizer import load_counter

        counter = load_counter("qwen3")
    test_ids = set(split.test.tolist())
    writers = {"train": SplitWriter(staging / "train.parquet"), "test": SplitWriter(staging / "test.parquet")}
    columns = ["uuid", "problem", "answer", "source", "problem_type", "question_type", "generations"]
    kwargs = format_kwargs(spec)
    with progress(chosen.size, "write") as bar:
        for chunk in table.iter_rows(columns, chosen, batch_rows=1024):
            rows = []
            for row in chunk.iter_rows(named=True):
                rid = row["row_id"]
                index = selected[rid]
                messages = build_messages(row["problem"], row["generations"][index], **kwargs)
                rows.append(
                    (
                        rid,
                        {
                            "messages": messages,
                            "uuid": row["uuid"],
                            "source": row["source"],
                            "problem_type": row["problem_type"],
                            "question_type": row["question_type"],
                            "answer": row["answer"],
                            "data_source": spec.data_source,
                            "category": spec.category,
                            "num_tokens": fields[rid].get("num_tokens"),
                            "generation_index": index,
                        },
                    )
                )
            if counter is not None:
                missing = [r for _, r in rows if r["num_tokens"] is None]
                for r, n in zip(missing, counter.count_batch([r["messages"] for r in missing])):
                    r["num_tokens"] = n
            for rid, r in rows:
                writers["test" if rid in test_ids else "train"].write(r)
            bar.update(chunk.height)
    for writer in writers.values():
        writer.close()
    return SPLIT_SCHEMA.names


def _lock(recipe: Recipe, source: ResolvedSource) -> str:
    data = recipe.resolved()
    data["source_resolved"] = source.provenance
    data["code"] = {"curate": curate.__version__, "versions": versions()}
    return dump_yaml(data)
