"""Runs a recipe: source -> row filters -> trace chain -> sample -> outputs.

Each step's result is cached under a key chained from the previous step's key, its parameters and its
code version, so editing the last filter of a recipe re-runs only that filter. Parallel work runs on the
recipe's executor (local worker processes, or Ray); the output does not depend on which.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

import curate
from curate import sampling, traces
from curate.cache import cache_root, digest
from curate.card import write_card
from curate.executors import Executor, make_executor
from curate.formatting import format_kwargs
from curate.outputs import REJECTION_SCHEMA, SPLIT_SCHEMA, staged_dir, versions, write_json, write_table
from curate.recipe import FilterStep, Recipe, dump_yaml
from curate.source import ResolvedSource, resolve_source
from curate.steps import DROP_SCHEMA, RunState, run_filter_step, run_trace_chain
from curate.table import SourceTable
from curate.tasks import FilterSpec
from curate.tokenizer import TokenCounter
from curate.writer import write_splits
from filters import Drop, Filter, FilterContext, TraceFilter
from filters.length import TokenLength

log = logging.getLogger("curate")

ROW_COLUMNS = ("uuid", "problem", "answer", "source", "problem_type", "question_type")


@dataclass
class RunResult:
    out_dir: Path
    stats: dict[str, Any]


def filter_context(recipe: Recipe, workers: int) -> FilterContext:
    """What every filter of a run is built with, on the driver and on the workers."""
    spec = recipe.model
    return FilterContext(
        seed=spec.seed,
        cache_dir=str(cache_root()),
        workers=workers,
        recipe_dir=str(recipe.path.parent) if recipe.path else None,
        format_kwargs=format_kwargs(spec.format),
    )


def initial_state(table: SourceTable, source: ResolvedSource) -> RunState:
    """Every row alive; the cache-key chain starts from the source's fingerprint and curate's version."""
    return RunState(
        np.ones(table.num_rows, dtype=bool), digest("source", source.fingerprint, curate.__version__)
    )


def trace_chain(
    recipe: Recipe,
    steps: list[tuple[FilterStep, Filter, FilterSpec]],
    table: SourceTable,
    state: RunState,
    executor: Executor,
    use_cache: bool,
) -> traces.ChainResult:
    """The recipe's trace filters as one chain over each row's generations, selected as the recipe says."""
    return run_trace_chain(
        steps,
        table,
        state,
        strategy=recipe.model.select.strategy,
        format_spec=recipe.model.format.model_dump(),
        executor=executor,
        use_cache=use_cache,
    )


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

    executor = make_executor(spec.executor.type, spec.executor.workers, spec.executor.address)
    context = filter_context(recipe, executor.workers)
    specs = [FilterSpec(step.name, step.params_dict(), context) for step in recipe.steps]
    instances = [step.cls(step.params, context) for step in recipe.steps]
    state = initial_state(table, source)
    try:
        for step, f, filter_spec in zip(recipe.steps, instances, specs):
            if not isinstance(f, TraceFilter):
                f.setup()  # the driver decides global filters and cheap row filters, and writes every report
                run_filter_step(step, f, filter_spec, table, state, executor, use_cache)
        chain = trace_chain(
            recipe,
            [(s, f, fs) for s, f, fs in zip(recipe.steps, instances, specs) if isinstance(f, TraceFilter)],
            table,
            state,
            executor,
            use_cache,
        )
    finally:
        executor.close()
        for f in instances:
            f.close()

    survivors = chain.survivors()
    columns = {"uuid", *(({spec.sample.weight_by, spec.sample.stratify} - {None}) if spec.sample else ())}
    frame = table.read(sorted(columns), survivors["row_id"].to_numpy())
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
    reports = {}
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
        "executor": {"type": spec.executor.type, "workers": executor.workers},
        "versions": versions(),
        "columns": SPLIT_SCHEMA.names,
    }
    with staged_dir(out_dir) as staging:
        write_splits(staging, table, survivors, split, spec.format, _output_counter(instances))
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


def _output_counter(instances: list[Filter]) -> TokenCounter | None:
    """The tokenizer `num_tokens` is counted with: token_length's, when the recipe has that filter."""
    return next((f.counter() for f in instances if isinstance(f, TokenLength)), None)


def _needed_columns(recipe: Recipe) -> dict[str, str]:
    needed = {c: "the output" for c in (*ROW_COLUMNS, "generations")}
    if recipe.model.select.strategy == "dataset":
        needed["messages"] = "select: dataset"
    for step in recipe.steps:
        for column in step.cls(step.params).required_columns():
            needed.setdefault(column, f"filter {step.name!r}")
    return needed


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
    state: RunState, table: SourceTable, split: sampling.Split, frame: pl.DataFrame
) -> pl.DataFrame:
    """Every row not written, with the step that dropped it; rows the draw left out count as `sample`."""
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
    parts = [d.select("row_id", "filter", "reason", "detail", "info") for d in [*state.drops, extra]]
    drops = pl.concat(parts, how="vertical_relaxed").sort("row_id")
    uuids = table.read(["uuid"], drops["row_id"].unique().sort().to_numpy())
    return drops.join(uuids, on="row_id", how="left").sort("row_id")


def _drops_of(all_drops: pl.DataFrame, name: str) -> list[tuple[str, Drop]]:
    """A filter's drops and its notes on kept rows (a note's reason is in its info), for its report."""
    mine = all_drops.filter(pl.col("filter") == name)
    out = []
    for row in mine.iter_rows(named=True):
        info = json.loads(row["info"]) if row["info"] else None
        out.append((row["uuid"], Drop(row["reason"] or (info or {}).get("note", ""), row["detail"] or "", info)))
    return out


def _rejections_table(all_drops: pl.DataFrame) -> pa.Table:
    dropped = all_drops.filter(pl.col("reason").is_not_null())  # notes on kept rows are not rejections
    return dropped.select("uuid", "filter", "reason", "detail").to_arrow().cast(REJECTION_SCHEMA)


def _lock(recipe: Recipe, source: ResolvedSource) -> str:
    """The resolved recipe plus a `lock` section (source commit and file hashes, versions). `curate run` accepts
    the lock file itself and then reads the Hub source at the recorded commit."""
    data = recipe.resolved()
    data["lock"] = {"source": source.provenance, "curate": curate.__version__, "versions": versions()}
    return dump_yaml(data)
