"""Runs a recipe: source -> row filters -> trace chain -> sample -> outputs.

Each step's result is cached under a key chained from the previous step's key, its parameters and its
code version, so editing the last filter of a recipe re-runs only that filter. Parallel work runs on the
recipe's executor (local worker processes, or Ray); the output does not depend on which.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

import curate
from curate.cache import cache_root, caching, caching_enabled, digest
from curate.card import write_card
from curate.draw import Split, draw
from curate.executors import Executor, make_executor
from curate.filters import Filter, FilterContext, TraceFilter
from curate.formatting import format_kwargs
from curate.mix import Sources, merge_chain_funnels, needed_columns, open_sources
from curate.outputs import RunOutput, run_files, split_schema, versions
from curate.ownership import OutputFolder, claim, protected_paths
from curate.recipe import FilterStep, Recipe, dump_yaml
from curate.source import ResolvedSource
from curate.spill import spill_folder
from curate.steps import EVERY_ROW, RunState, Scope, run_filter_step, run_trace_chain
from curate.table import SourceTable
from curate.tasks import FilterSpec
from curate.writer import Drops, write_rejections, write_splits

if TYPE_CHECKING:
    import datasets

log = logging.getLogger("curate")


@dataclass
class RunResult:
    """A finished run: its output folder and stats, with the folder's data for Python callers (`curate.api`):
    `train` and `test` as `datasets.Dataset`, `rejections` as a polars frame, each read when first asked."""

    out_dir: Path
    stats: dict[str, Any]

    @property
    def output(self) -> RunOutput:
        return RunOutput(self.out_dir)

    @cached_property
    def train(self) -> datasets.Dataset:
        return self._split("train")

    @cached_property
    def test(self) -> datasets.Dataset:
        return self._split("test")

    @cached_property
    def rejections(self) -> pl.DataFrame:
        return pl.read_parquet(self.output.rejections)

    def _split(self, name: str) -> datasets.Dataset:
        """A split in memory, whatever the output's format, with the schema verl reads."""
        import datasets

        batches = list(self.output.split_batches(name))
        empty = split_schema("dataset" in self.stats.get("columns", [])).empty_table()  # a mix's rows carry `dataset`
        return datasets.Dataset(pa.concat_tables(batches) if batches else empty)


def filter_context(recipe: Recipe, workers: int) -> FilterContext:
    """What every filter of a run is built with, on the driver and on the workers."""
    spec = recipe.model
    return FilterContext(
        seed=spec.seed,
        cache_dir=str(cache_root()) if caching_enabled() else None,
        workers=workers,
        recipe_dir=str(recipe.path.parent) if recipe.path else None,
        format_kwargs=format_kwargs(spec.format),
    )


def initial_state(table: SourceTable, source: ResolvedSource | Sources, folder: Path) -> RunState:
    """Every row alive; the cache-key chain starts from the source's fingerprint (and its column mapping)
    and curate's version."""
    return RunState(
        np.ones(table.num_rows, dtype=bool), digest("source", source.fingerprint, curate.__version__), folder
    )


def trace_chain(
    recipe: Recipe,
    steps: list[tuple[FilterStep, TraceFilter, FilterSpec]],
    table: SourceTable,
    state: RunState,
    executor: Executor,
    use_cache: bool,
    scope: Scope = EVERY_ROW,
) -> list[dict[str, Any]]:
    """The recipe's trace filters as one chain over each row's generations, selected as the recipe says."""
    entries = run_trace_chain(
        steps,
        table,
        state,
        strategy=recipe.model.select.strategy,
        format_spec=recipe.model.format.model_dump(),
        executor=executor,
        use_cache=use_cache,
        scope=scope,
    )
    if not scope.name:
        state.funnel.extend(entries)
    return entries


def run_recipe(recipe: Recipe, *, use_cache: bool = True, force: bool = False) -> RunResult:
    """Run `recipe` into its output folder, held (checked and locked) from the first step to the swap."""
    keep_clear_of, inside_forbidden = protected_paths(recipe)
    names = run_files(
        (report_name(source, step.name) for source, step in recipe.all_steps()), recipe.model.output.format
    )
    with (
        caching(use_cache),
        claim(
            recipe.model.output.dir,
            command="run",
            force=force,
            keep_clear_of=keep_clear_of,
            inside_forbidden=inside_forbidden,
            writes=names,
        ) as output,
    ):
        return _run(recipe, use_cache, output)


def report_name(source: str | None, step: str) -> str:
    """A filter's report file stem: `decontaminate`, or `SOURCE.correctness_count` for a source's own filter."""
    return step if source is None else f"{source}.{step}"


def _run(recipe: Recipe, use_cache: bool, output: OutputFolder) -> RunResult:
    started = time.perf_counter()
    spec = recipe.model
    out_dir = Path(spec.output.dir)
    log.info("recipe %s: %d filters, output %s", recipe.name, len(recipe.all_steps()), out_dir)
    sources = open_sources(recipe)
    table = sources.table
    executor = make_executor(spec.executor.type, spec.executor.workers, spec.executor.address)
    context = filter_context(recipe, executor.workers)
    steps = recipe.all_steps()
    specs = [FilterSpec(step.name, step.params_dict(), context) for _, step in steps]
    instances = [step.build(context) for _, step in steps]
    try:
        with spill_folder() as folder:
            sources.check(needed_columns(recipe), executor, folder)
            state = initial_state(table, sources, folder)
            for (owner, step), f, filter_spec in zip(steps, instances, specs):
                if not isinstance(f, TraceFilter):
                    with state.phase(report_name(owner, step.name)):
                        f.setup()  # the driver decides global filters and cheap row filters, and writes reports
                        run_filter_step(
                            step,
                            f,
                            filter_spec,
                            table,
                            state,
                            executor,
                            use_cache,
                            sources.scope(owner, step),
                        )
            with state.phase("traces"):
                trace = [
                    (owner, step, f, fs)
                    for (owner, step), f, fs in zip(steps, instances, specs)
                    if isinstance(f, TraceFilter)
                ]
                if not sources.mixed:
                    trace_chain(
                        recipe, [(s, f, fs) for _, s, f, fs in trace], table, state, executor, use_cache
                    )
                else:
                    chains = []
                    for part in sources.parts:
                        mine = [t for t in trace if t[0] == part.name] + [t for t in trace if t[0] is None]
                        entries = trace_chain(
                            recipe,
                            [(s, f, fs) for _, s, f, fs in mine],
                            table,
                            state,
                            executor,
                            use_cache,
                            sources.chain_scope(part),
                        )
                        chains.append((part.name, entries, sum(1 for t in trace if t[0] == part.name)))
                    state.funnel.extend(merge_chain_funnels(chains))
            return _finish(recipe, sources, state, executor, instances, started, output)
    finally:
        executor.close()
        for f in instances:
            f.close()


def _finish(
    recipe: Recipe,
    sources: Sources,
    state: RunState,
    executor: Executor,
    instances: list[Filter],
    started: float,
    output: OutputFolder,
) -> RunResult:
    """Draw the sample, then write the splits, the rejections, the reports, the lock file and the card."""
    spec = recipe.model
    table = sources.table
    out_dir = Path(spec.output.dir)
    assert state.selected is not None
    with state.phase("sample"):
        split = _split(table, state.selected, recipe, sources)
    sampled = int(split.train.size + split.test.size)
    state.funnel.append(
        {
            "filter": "sample",
            "level": "sample",
            "rows_in": split.pool,
            "rows_out": sampled,
            "dropped": {"not_sampled": split.pool - sampled},
        }
    )
    stats: dict[str, Any] = {
        "recipe": recipe.name,
        "recipe_sha256": digest(recipe.resolved()),
        "source": sources.summary(),
        "rows": {
            "source": table.num_rows,
            "pool": split.pool,
            "train": int(split.train.size),
            "test": int(split.test.size),
        },
        "funnel": state.funnel,
        "executor": {"type": spec.executor.type, "workers": executor.workers},
        "versions": versions(),
        "columns": split_schema(sources.mixed).names,
        "phases": state.phases,
    }
    if sources.mixed:
        stats["sources"] = sources.stats(state, split)
    with output.staged() as staging:
        files = RunOutput(staging, format=spec.output.format)
        with state.phase("write"):
            write_splits(
                files, table, state, split, spec.format, executor, _output_tokenizer(instances), sources.mixed
            )
        drops = Drops(table, state, split)
        with state.phase("rejections"):
            write_rejections(files.rejections, drops.all())
        with state.phase("reports"):
            for (owner, step), f in zip(recipe.all_steps(), instances):
                name = sources.scope(owner, step).output_name(step.name)
                report = f.report(drops.of(name, sources.rows_of(owner)))
                if report is not None:
                    files.write_report(report_name(owner, step.name), report)
        files.write_lock(_lock(recipe, sources))
        stats["seconds_total"] = round(time.perf_counter() - started, 3)
        files.write_stats(stats)
        write_card(staging)
    log.info(
        "wrote %s: train %d, test %d, rejected %d (%.1fs)",
        out_dir,
        split.train.size,
        split.test.size,
        table.num_rows - sampled,
        time.perf_counter() - started,
    )
    return RunResult(out_dir, stats)


def _output_tokenizer(instances: list[Filter]) -> str:
    """The tokenizer `num_tokens` is counted with: that of the first filter bounding the token count, else
    Qwen3's."""
    return next((bound.tokenizer for f in instances if (bound := f.token_bound()) is not None), "qwen3")


def _split(table: SourceTable, selected: np.ndarray, recipe: Recipe, sources: Sources) -> Split:
    """The seeded draw from the pool (rows with a chosen generation), from their small columns only."""
    spec = recipe.model.sample
    ids = np.flatnonzero(selected >= 0)
    if spec is None:
        return Split(ids, np.empty(0, dtype=np.int64), ids.size, (None, 0))
    columns = {"uuid", *({spec.weight_by, spec.stratify} - {None})}
    if sources.mixed:
        columns.add("dataset")
    frame = table.read(sorted(columns), ids)  # type: ignore[arg-type]
    split = draw(
        frame,
        seed=recipe.model.seed,
        size=spec.size,
        test_size=spec.test_size,
        weights=spec.weights,
        weight_by=spec.weight_by,
        stratify=spec.stratify,
        allow_smaller=spec.allow_smaller,
        mix=sources.mix_spec(),
    )
    log.info(
        "sample: %d train + %d test from a pool of %d (seed %d)",
        split.train.size,
        split.test.size,
        split.pool,
        recipe.model.seed,
    )
    return split


def _lock(recipe: Recipe, sources: Sources) -> str:
    """The resolved recipe plus a `lock` section (source commits and file hashes, versions). `curate run`
    accepts the lock file itself and then reads each Hub source at the recorded commit."""
    data = recipe.resolved()
    data["lock"] = {**sources.lock(), "curate": curate.__version__, "versions": versions()}
    return dump_yaml(data)
