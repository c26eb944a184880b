"""A run's sources as one table: a recipe's one `source`, or the `sources:` of a mixed recipe.

The files of every source form one `SourceTable`, source after source, each file read through its own
source's column mapping; a source is a contiguous range of row ids. A source's own filters run on its range,
the recipe's filters on every row, so deduplication and decontamination see every source at once. Rows of
a mixed recipe carry their source's name (`dataset`) and its place in `sources:` (`dataset_rank`), which the
deduplication filters read to pick a cluster's survivor from the earliest source.

Everything that reports per source is here: the boundary checks of each source, the per-source funnel and
shares of the output in stats.json, and the sources in the lock file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from curate.cache import digest
from curate.derived import build_stores
from curate.draw import MixSpec, Split
from curate.errors import CurateError
from curate.executors import Executor
from curate.filters import GlobalFilter
from curate.mapping import MIX_COLUMNS, ColumnMap
from curate.presets import column_map
from curate.recipe import FilterStep, Recipe, SourceSpec
from curate.source import ResolvedSource, resolve_source
from curate.steps import EVERY_ROW, RunState, Scope
from curate.table import SourceTable, hub_locator

log = logging.getLogger("curate")

ROW_COLUMNS = ("uuid", "problem", "answer", "source", "problem_type", "question_type")
OPTIONAL_OUTPUT = ("answer", "source", "problem_type", "question_type")


@dataclass(frozen=True)
class Part:
    """One source of the run and where its rows are in the table."""

    name: str
    rank: int
    spec: SourceSpec
    resolved: ResolvedSource
    cmap: ColumnMap
    files: range
    rows: tuple[int, int]
    weight: float | None = None
    size: int | None = None


class Sources:
    def __init__(self, parts: list[Part], table: SourceTable, mixed: bool) -> None:
        self.parts = parts
        self.table = table
        self.mixed = mixed

    @property
    def fingerprint(self) -> str:
        if not self.mixed:
            part = self.parts[0]
            return (
                part.resolved.fingerprint
                if part.cmap.identity
                else digest(part.resolved.fingerprint, part.cmap.fingerprint)
            )
        return digest([(p.name, p.resolved.fingerprint, p.cmap.fingerprint) for p in self.parts])

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def rows_of(self, owner: str | None) -> tuple[int, int] | None:
        return None if owner is None else self.part(owner).rows

    def scope(self, owner: str | None, step: FilterStep) -> Scope:
        """Where a filter step runs: its source's rows, or every row (split by source in a mix)."""
        if owner is not None:
            return Scope(owner, self.part(owner).rows)
        if not self.mixed:
            return EVERY_ROW
        ranked = ("dataset_rank",) if issubclass(step.cls, GlobalFilter) else ()
        return Scope(None, None, tuple((p.name, *p.rows) for p in self.parts), ranked)

    def chain_scope(self, part: Part) -> Scope:
        return Scope(part.name, part.rows) if self.mixed else EVERY_ROW

    def check(self, needed: dict[str | None, dict[str, str]], executor: Executor, folder: Path) -> None:
        """The sources at their boundary, before any filter: the columns each needs (every step's, and its
        own filters'), the types of their columns, their derived stores, then the row values. An error names
        the source (in a mix) and the user's own file (not its cached parquet copy)."""
        for part in self.parts:
            try:
                self.table.check_columns(_own_needs(needed, part.name, self.mixed, part.cmap), part.rows)
                self.table.check_types(part.rows)
            except CurateError as exc:
                raise _about(exc, part.name if self.mixed else None, _inputs(part)) from None
        build_stores(
            self.table,
            [
                (f"source {p.name}" if self.mixed else "source", p.files, p.resolved.fingerprint)
                for p in self.parts
            ],
            executor,
            folder,
        )
        self.table.check_rows()

    def summary(self) -> dict[str, Any]:
        """stats.json's `source`: the one source's provenance, or the names of a mix's sources."""
        if not self.mixed:
            part = self.parts[0]
            out = {k: v for k, v in part.resolved.provenance.items() if k != "files"}
            if not part.cmap.identity or part.spec.schema_ is not None:
                out["schema"] = part.cmap.name
            return out
        return {"kind": "mix", "sources": [p.name for p in self.parts]}

    def lock(self) -> dict[str, Any]:
        if not self.mixed:
            return {"source": self.parts[0].resolved.provenance}
        return {"sources": [{"name": p.name, **p.resolved.provenance} for p in self.parts]}

    def mix_spec(self) -> MixSpec | None:
        if not self.mixed:
            return None
        return MixSpec(
            names=tuple(p.name for p in self.parts),
            weights=tuple(p.weight for p in self.parts) if self.parts[0].weight is not None else None,
            sizes=tuple(p.size for p in self.parts) if self.parts[0].size is not None else None,
        )

    def stats(self, state: RunState, split: Split) -> list[dict[str, Any]]:
        """Per source: where it came from, its funnel (every step that saw its rows), its pool, and its rows
        and share of each output split."""
        out = []
        train_total, test_total = max(split.train.size, 1), max(split.test.size, 1)
        for part in self.parts:
            lo, hi = part.rows
            funnel = []
            for entry in state.funnel:
                if entry.get("source") == part.name:
                    funnel.append(_step(entry, entry))
                elif part.name in (entry.get("sources") or {}):
                    funnel.append(_step(entry, entry["sources"][part.name]))
            pool = int(np.count_nonzero(state.selected[lo:hi] >= 0)) if state.selected is not None else 0
            train = int(np.count_nonzero((split.train >= lo) & (split.train < hi)))
            test = int(np.count_nonzero((split.test >= lo) & (split.test < hi)))
            out.append(
                {
                    "name": part.name,
                    "schema": part.cmap.name,
                    "source": {k: v for k, v in part.resolved.provenance.items() if k != "files"},
                    "weight": part.weight,
                    "size": part.size,
                    "rows": hi - lo,
                    "funnel": funnel,
                    "pool": pool,
                    "train": train,
                    "test": test,
                    "share": {
                        "train": round(train / train_total, 6),
                        "test": round(test / test_total, 6),
                    },
                }
            )
        return out


def needed_columns(recipe: Recipe) -> dict[str | None, dict[str, str]]:
    """Columns every source must have (key None), and those of each source's own filters (by name), each
    with who needs it."""
    needed = {c: "the output" for c in (*ROW_COLUMNS, "generations")}
    if recipe.model.select.strategy == "dataset":
        needed["messages"] = "select: dataset"
    sample = recipe.model.sample
    if sample is not None and sample.stratify:
        needed[sample.stratify] = "sample.stratify"
    if sample is not None and sample.weights:
        needed[sample.weight_by] = "sample.weights"
    out: dict[str | None, dict[str, str]] = {None: needed}
    for owner, step in recipe.all_steps():
        for column in step.cls(step.params).required_columns():
            out.setdefault(owner, {}).setdefault(column, f"filter {step.name!r}")
    return out


def _own_needs(
    needed: dict[str | None, dict[str, str]], name: str, mixed: bool, cmap: ColumnMap
) -> dict[str, str]:
    own = {**needed.get(None, {}), **(needed.get(name, {}) if mixed else {})}
    if not cmap.identity:  # the output holds null where a mapped source has no such column
        own = {c: who for c, who in own.items() if not (who == "the output" and c in OPTIONAL_OUTPUT)}
    return own


def _inputs(part: Part) -> dict[str, str]:
    """A local source's files by the path they are read from (a JSON-lines file is read from its cached
    parquet copy): the user's own file names, for errors."""
    inputs = part.resolved.provenance.get("inputs") or []
    return {str(f): str(i) for f, i in zip(part.resolved.files, inputs)}


def _about(exc: CurateError, source: str | None, inputs: dict[str, str]) -> CurateError:
    where = inputs.get(exc.where or "", exc.where)
    message = str(exc.args[0]) if exc.args else ""
    return CurateError(f"source {source!r}: {message}" if source else message, where=where, hint=exc.hint)


def check_headers(recipe: Recipe) -> None:
    """`curate validate`'s look at local sources: every column the recipe needs, and the type of every
    column the schema knows, from each file's header alone (a parquet footer; the first rows of a JSON-lines
    file), so a missing or mistyped column is one error naming the source, the file and the column before
    any data is read. Hub sources are checked when `curate run` has downloaded them."""
    import pyarrow.parquet as pq

    from curate import schema
    from curate.source import local_files

    needed = needed_columns(recipe)
    for source in recipe.sources:
        if source.spec.kind != "path":
            continue
        cmap = column_map(source.spec.schema_)
        own = _own_needs(needed, source.name, recipe.mixed, cmap)
        for path in local_files(source.spec.path or ""):
            header = pq.read_schema(path) if path.suffix == ".parquet" else _jsonl_header(path)
            try:
                missing_columns(path, header.names, cmap, own)
                schema.check_types([path], [header], [cmap])
            except CurateError as exc:
                raise _about(exc, source.name if recipe.mixed else None, {}) from None


HEADER_ROWS = 100  # rows of a JSON-lines file whose fields and types `curate validate` looks at


def _jsonl_header(path: Path) -> Any:
    import io

    import polars as pl

    lines = []
    with open(path, "rb") as handle:
        for raw in handle:
            if raw.strip():
                lines.append(raw)
            if len(lines) == HEADER_ROWS:
                break
    try:
        return pl.read_ndjson(io.BytesIO(b"".join(lines)), infer_schema_length=None).to_arrow().schema
    except Exception:  # malformed lines: `curate run` names the first one when it converts the file
        import pyarrow as pa

        return pa.schema([])


def missing_columns(path: Path, raw: list[str], cmap: ColumnMap, needed: dict[str, str]) -> None:
    """A needed column the file cannot give (its own, or mapped from columns it lacks): one error naming the
    column, the file's columns behind it and who needs it."""
    from curate.mapping import ROW_MODEL

    present = set(raw)
    for column, who in needed.items():
        if column in MIX_COLUMNS:
            continue
        behind = cmap.refs_of(column) if column in ROW_MODEL and not cmap.identity else []
        if cmap.identity or column not in ROW_MODEL:
            found = column in present
        else:  # a content-hash id is computed from columns that are checked on their own
            found = (column == "uuid" and cmap.hashed_id) or (
                column in cmap.provides() and all(r.column in present for r in behind)
            )
        if found:
            continue
        lacking = [r.column for r in behind if r.column not in present] or [column]
        mapped = f"schema {cmap.name!r} reads {column!r} from it for {who}" if behind else f"needed by {who}"
        raise CurateError(
            f"column {lacking[0]!r} is missing ({mapped}); the file has: "
            f"{', '.join(sorted(present)) or 'no columns'}",
            where=str(path),
            hint="point the source at data of its schema, fix `schema:`, or remove the step that needs it",
        )


def _step(entry: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "filter": entry["filter"],
        "scope": "source" if entry.get("source") else "recipe",
        "rows_in": counts["rows_in"],
        "rows_out": counts["rows_out"],
        "dropped": counts.get("dropped", {}),
    }


def open_sources(recipe: Recipe) -> Sources:
    """Resolve every source of the recipe and open their files as one table."""
    mixed = recipe.mixed
    files: list[Path] = []
    hub: list[Any] = []
    maps: list[ColumnMap] = []
    origins: list[tuple[str, int] | None] = []
    pending = []
    for rank, source in enumerate(recipe.sources):
        resolved = resolve_source(source.spec)
        cmap = column_map(source.spec.schema_)
        if mixed and cmap.hashed_id:
            cmap = replace(cmap, prefix=f"{source.name}:")
        label = f"source {source.name}" if mixed else "source"
        if source.spec.kind == "sample":
            log.info(
                "%s: the embedded offline sample (%d synthetic OpenR1-shaped rows)", label, source.spec.rows
            )
        first = len(files)
        files.extend(resolved.files)
        hub.extend(hub_locator(resolved.files, resolved.provenance))
        maps.extend([cmap] * len(resolved.files))
        origins.extend([(source.name, rank) if mixed else None] * len(resolved.files))
        pending.append((source, rank, resolved, cmap, range(first, len(files))))
    table = SourceTable(files, hub, maps, origins)
    parts = []
    for source, rank, resolved, cmap, span in pending:
        rows = (int(table.offsets[span.start]), int(table.offsets[span.stop]))
        parts.append(
            Part(source.name, rank, source.spec, resolved, cmap, span, rows, source.weight, source.size)
        )
        label = f"source {source.name}" if mixed else "source"
        log.info("%s: %d rows in %d file(s), schema %s", label, rows[1] - rows[0], len(span), cmap.name)
    return Sources(parts, table, mixed)


def merge_chain_funnels(chains: list[tuple[str, list[dict[str, Any]], int]]) -> list[dict[str, Any]]:
    """A mixed recipe's trace-filter funnel from its per-source chains ((source, entries, how many of them
    are the source's own filters)): each source's own filters as they are, then the recipe's trace filters,
    each one entry summed over the sources with the per-source counts beside it."""
    own = [{**e, "source": name} for name, entries, n in chains for e in entries[:n]]
    shared: list[dict[str, Any]] = []
    for name, entries, n in chains:
        for position, entry in enumerate(entries[n:]):
            if position == len(shared):
                shared.append(
                    {
                        **entry,
                        "dropped": {},
                        "rows_in": 0,
                        "rows_out": 0,
                        "sources": {},
                        "seconds": 0.0,
                        "generations": None,
                    }
                )
            merged = shared[position]
            merged["rows_in"] += entry["rows_in"]
            merged["rows_out"] += entry["rows_out"]
            merged["seconds"] = round(merged["seconds"] + (entry.get("seconds") or 0.0), 3)
            for reason, count in entry["dropped"].items():
                merged["dropped"][reason] = merged["dropped"].get(reason, 0) + count
            merged["dropped"] = dict(sorted(merged["dropped"].items()))
            merged["sources"][name] = {k: entry[k] for k in ("rows_in", "rows_out", "dropped")}
            generations = entry.get("generations")
            if generations:
                total = merged["generations"] or {"seen": 0, "kept": 0, "dropped": {}, "seconds": 0.0}
                total["seen"] += generations["seen"]
                total["kept"] += generations["kept"]
                total["seconds"] = round(total["seconds"] + generations["seconds"], 3)
                for reason, count in generations["dropped"].items():
                    total["dropped"][reason] = total["dropped"].get(reason, 0) + count
                merged["generations"] = total
    return own + shared
