"""curate from Python: the same recipes, runs and filters as the command line, for notebooks and scripts.

`load_recipe` takes a recipe file or the same recipe as a dict, validated exactly as `curate validate` does;
`run` writes the same output folder as `curate run` and hands back its splits as `datasets.Dataset`, its
rejections as a polars frame and its stats. `apply_filter` runs one filter, curate's own or a plugin's, over
a `datasets.Dataset` or a polars frame already in memory: the verdicts a recipe would get, without a recipe,
an output folder or worker processes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import numpy as np
import polars as pl
from pydantic import ValidationError

from curate import filters, traces
from curate.engine import RunResult, run_recipe
from curate.errors import CurateError
from curate.filters import (
    Drop,
    Filter,
    FilterContext,
    GlobalFilter,
    Keep,
    Row,
    RowFilter,
    TraceFilter,
    Verdict,
)
from curate.recipe import Recipe, SourceSpec, parse_source_override, recipe_from_mapping
from curate.recipe import load_recipe as load_recipe_file

if TYPE_CHECKING:
    import datasets

__all__ = ["FilterResult", "LoadedRecipe", "RunResult", "apply_filter", "load_recipe"]

Data = TypeVar("Data", "datasets.Dataset", pl.DataFrame)
Select = Literal["first", "shortest", "longest"]


@dataclass(frozen=True)
class LoadedRecipe:
    """A validated recipe, ready to run. `recipe` is what the command line runs (steps, lock, hashes)."""

    recipe: Recipe

    @property
    def name(self) -> str:
        return self.recipe.name

    @property
    def filters(self) -> list[str]:
        return [step.name for step in self.recipe.steps]

    def run(
        self,
        *,
        source: str | Mapping[str, Any] | SourceSpec | None = None,
        out: str | Path | None = None,
        workers: int | None = None,
        use_cache: bool = True,
        force: bool = False,
    ) -> RunResult:
        """Run the recipe as `curate run` does. `source` takes what `--source` takes (`sample:300`, a path or
        glob, `OWNER/NAME[:CONFIG][@REVISION]`), a `source:` mapping or a `SourceSpec`; `out` replaces
        `output.dir`; `force` lets the run replace a folder curate did not write."""
        recipe = self.recipe.with_overrides(
            source=_source(source) if source is not None else None,
            out=str(out) if out is not None else None,
            workers=workers,
        )
        return run_recipe(recipe, use_cache=use_cache, force=force)


def load_recipe(recipe: str | Path | Mapping[str, Any], *, base_dir: str | Path | None = None) -> LoadedRecipe:
    """A recipe from a YAML file, or from a dict with the YAML's keys. A dict's `extends` and the files its
    filters name are taken relative to `base_dir` (the current folder by default)."""
    if isinstance(recipe, str | Path):
        return LoadedRecipe(load_recipe_file(recipe))
    if not isinstance(recipe, Mapping):
        raise CurateError(f"a recipe is a path or a mapping, not {type(recipe).__name__}")
    return LoadedRecipe(recipe_from_mapping(recipe, Path(base_dir) if base_dir is not None else Path.cwd()))


def _source(source: str | Mapping[str, Any] | SourceSpec) -> SourceSpec:
    if isinstance(source, SourceSpec):
        return source
    if isinstance(source, str | Path):
        return parse_source_override(str(source))
    try:
        return SourceSpec.model_validate(dict(source))
    except ValidationError as exc:
        err = exc.errors()[0]
        place = ".".join(str(p) for p in ("source", *err["loc"]))
        raise CurateError(f"{place}: {err['msg']}") from None


# --- one filter over data in memory -------------------------------------------------------------------------


@dataclass
class FilterResult(Generic[Data]):
    """One filter's verdicts over a dataset. `kept` and `dropped` are of the type given (a `datasets.Dataset`
    keeps its features); `dropped` adds each drop's `drop_reason` and `drop_detail`; `verdicts` has one row per
    input row (`row`, `kept`, `reason`, `detail`, `info` as JSON, and for a trace filter the `generation`
    chosen); `stats` are the filter's counts as a run's stats.json records them; `report` is the filter's
    report over its drops, as a run writes it beside the outputs."""

    kept: Data
    dropped: Data
    verdicts: pl.DataFrame
    stats: dict[str, Any]
    report: dict[str, Any] | None


def apply_filter(
    filter: str | Filter,
    data: Data,
    params: Mapping[str, Any] | None = None,
    *,
    select: Select = "first",
    recipe_dir: str | Path | None = None,
) -> FilterResult[Data]:
    """Run one filter over `data`, named as a recipe names it (`think_format`, a plugin's name,
    `my_pkg.quality:LoopFilter`) with `params` as the recipe's mapping, or given as an instance. A trace
    filter keeps a row when one of its generations passes, tried in `select` order as a run tries them;
    files the parameters name are relative to `recipe_dir` (the current folder by default)."""
    frame = _frame(data)
    instance = filter if isinstance(filter, Filter) else _build(filter, params, recipe_dir)
    if isinstance(filter, Filter) and params:
        raise CurateError("give `params` with a filter's name, not with a filter instance")
    needed = _needed(instance, frame)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise CurateError(
            f"filter {instance.name!r} reads column(s) {', '.join(missing)}, which the data does not have",
            hint=f"the data has: {', '.join(frame.columns)}",
        )
    rows = frame.select(needed).with_row_index("row_id").with_columns(pl.col("row_id").cast(pl.Int64))
    instance.setup()
    try:
        verdicts, chosen = _verdicts(instance, rows, select)
    finally:
        instance.close()
    keep = np.array([isinstance(v, Keep) for v in verdicts], dtype=bool)
    table = pl.DataFrame(
        {
            "row": np.arange(len(verdicts), dtype=np.int64),
            "kept": keep,
            "reason": [v.reason if isinstance(v, Drop) else None for v in verdicts],
            "detail": [v.detail if isinstance(v, Drop) else None for v in verdicts],
            "info": [json.dumps(v.info, sort_keys=True) if isinstance(v, Drop) and v.info else None for v in verdicts],
        },
        schema={"row": pl.Int64, "kept": pl.Boolean, "reason": pl.String, "detail": pl.String, "info": pl.String},
    )
    if chosen is not None:
        table = table.with_columns(pl.Series("generation", chosen, dtype=pl.Int64))
    uuids = frame["uuid"].cast(pl.String).to_list() if "uuid" in frame.columns else [str(i) for i in range(len(verdicts))]
    # The report sees the drops and the notes on kept rows (`Keep(note=...)`), as a run's report does.
    drops = [(uuids[i], v if isinstance(v, Drop) else v.note) for i, v in enumerate(verdicts) if _reported(v)]
    report = instance.report([(uuid, drop) for uuid, drop in drops if drop is not None])
    kept, dropped = _split(data, keep, table.filter(~pl.col("kept")))
    return FilterResult(kept, dropped, table, instance.stats.as_dict(), report)


def _reported(verdict: Verdict) -> bool:
    return isinstance(verdict, Drop) or verdict.note is not None


def _build(name: str, params: Mapping[str, Any] | None, recipe_dir: str | Path | None) -> Filter:
    info = filters.resolve(name)
    try:
        parsed = info.cls.Params.model_validate(dict(params or {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        place = ".".join(str(p) for p in (name, *err["loc"]))
        raise CurateError(f"{place}: {err['msg']}") from None
    instance = info.cls(parsed, FilterContext(recipe_dir=str(recipe_dir or Path.cwd())))
    instance.name = name
    instance.check()
    return instance


def _needed(f: Filter, frame: pl.DataFrame) -> list[str]:
    """The columns the filter reads, as a run reads them: a trace filter sees the generations with their
    labels, a row or global filter its own columns and the row's uuid."""
    if isinstance(f, TraceFilter):
        return ["uuid", "problem", "answer", "generations", *[c for c in traces.LABELS if c in frame.columns]]
    uuid = ["uuid"] if "uuid" in frame.columns else []
    return list(dict.fromkeys([*uuid, *f.required_columns()]))


def _verdicts(f: Filter, rows: pl.DataFrame, select: Select) -> tuple[list[Verdict], list[int] | None]:
    """Verdicts in row order, counted in the filter's stats as a run counts them; for a trace filter also the
    generation each kept row would get (-1 for a dropped row)."""
    if isinstance(f, RowFilter):
        return f.apply([Row(r["row_id"], r) for r in rows.iter_rows(named=True)]), None
    if isinstance(f, GlobalFilter):
        started = time.perf_counter()
        found = f.filter_all(rows)
        f.count(len(found), Counter(v.reason for v in found if isinstance(v, Drop)), time.perf_counter() - started)
        return found, None
    assert isinstance(f, TraceFilter)
    states = [traces.candidates(row, select) for row in rows.iter_rows(named=True)]
    traces.decide([f], states)
    verdicts: list[Verdict] = []
    for state in states:
        if state.selected is not None:
            verdicts.append(Keep(state.fields))
        elif state.drop is not None:
            verdicts.append(state.drop[1])
        else:
            verdicts.append(Drop(traces.NO_GENERATIONS, "no generation to choose from"))
    return verdicts, [s.selected.index if s.selected is not None else -1 for s in states]


def _frame(data: Any) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    try:
        import datasets
    except ImportError:  # pragma: no cover - a core dependency
        datasets = None
    if datasets is not None and isinstance(data, datasets.Dataset):
        frame = data.to_polars()
        assert isinstance(frame, pl.DataFrame)
        return frame
    raise CurateError(f"apply_filter takes a datasets.Dataset or a polars DataFrame, not {type(data).__name__}")


def _split(data: Data, keep: np.ndarray, drops: pl.DataFrame) -> tuple[Data, Data]:
    """The kept and the dropped rows of `data`, in order; the dropped ones with `drop_reason` and
    `drop_detail`."""
    if isinstance(data, pl.DataFrame):
        dropped = data.filter(pl.Series(~keep)).with_columns(
            drops["reason"].alias("drop_reason"), drops["detail"].alias("drop_detail")
        )
        return data.filter(pl.Series(keep)), dropped
    dropped_set = data.select(np.flatnonzero(~keep).tolist())
    dropped_set = dropped_set.add_column("drop_reason", drops["reason"].to_list())
    dropped_set = dropped_set.add_column("drop_detail", drops["detail"].to_list())
    return data.select(np.flatnonzero(keep).tolist()), dropped_set
