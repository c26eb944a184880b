"""The filter interface.

A filter's only job is to say, for each row (or each generation of a row), keep or drop-with-reason.
Counting, timing, parallel dispatch and the funnel live here and in the engine, never in a filter.

Three kinds, by what a decision needs to see:
- `RowFilter`: one row's columns (source, question_type, the problem text for decontamination...).
- `GlobalFilter`: all surviving rows at once (deduplication needs to see every cluster member).
- `TraceFilter`: one generation of a row. The engine runs the trace filters as one chain, generation by
  generation in the `select` preference order, and stops at the first generation that passes them all,
  so expensive checks (answer verification, tokenisation) run only where they can change the result.
"""

from __future__ import annotations

import time
import types
import typing
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


@dataclass(frozen=True)
class Keep:
    """Keep the row; `fields` are values the filter adds to the output row (e.g. `num_tokens`). `note`: a row
    or global filter's remark on a row it keeps (e.g. a template copy of a benchmark problem under
    `template_copies: report`): recorded with the step's result and passed to `report()` with the drops, never
    counted as a drop."""

    fields: dict[str, Any] = field(default_factory=dict)
    note: Drop | None = None


@dataclass(frozen=True)
class Drop:
    """Drop the row. `reason` is a short stable code, `detail` a sentence for humans, `info` structured data
    that a filter's report is built from (e.g. the matched benchmark item)."""

    reason: str
    detail: str = ""
    info: dict[str, Any] | None = None


KEEP = Keep()
Verdict = Keep | Drop


def no_bool_for_number(model: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """A YAML `true` where a number belongs is a mistake, not 1 (pydantic's lax mode would take it).
    Used as a `field_validator("*", mode="before")`."""
    slots = _numeric_slots(model.model_fields[info.field_name].annotation) if info.field_name else set()
    if "value" in slots and isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if "items" in slots and isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, bool):
                raise ValueError(f"{key}: expected a number, got {str(item).lower()}")
    return value


def _numeric_slots(annotation: Any) -> set[str]:
    """Where an annotation wants numbers: the value itself ("value") and/or a mapping's values ("items")."""
    if annotation in (int, float):
        return {"value"}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_numeric_slots(a) for a in args)) if bool not in args else set()
    if origin is dict and len(args) == 2 and args[1] in (int, float):
        return {"items"}
    return set()


class FilterParams(BaseModel):
    """Base of every filter's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    _no_bool = field_validator("*", mode="before")(classmethod(no_bool_for_number))


@dataclass
class FilterContext:
    """What the engine lends a filter: the recipe seed, a cache folder, the worker count, and the
    `build_messages` keywords of the recipe's `format` (so token counts see the rows as written)."""

    seed: int = 0
    cache_dir: str | None = None
    workers: int = 1
    recipe_dir: str | None = None
    format_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    """One source row: `row_id` is the engine's index, `data` holds only the columns the filter asked for."""

    row_id: int
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@dataclass
class Trace:
    """One generation of one row, with its per-generation labels from the source."""

    row_id: int
    uuid: str
    problem: str
    answer: str
    index: int
    text: str
    is_reasoning_complete: bool | None = None
    finish_reason: str | None = None
    correctness_math_verify: bool | None = None
    correctness_llama: bool | None = None


@dataclass
class FilterStats:
    seen: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterStats:
        return cls(data["seen"], data["kept"], Counter(data["dropped"]), data["seconds"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "kept": self.kept,
            "dropped": dict(sorted(self.dropped.items())),
            "seconds": round(self.seconds, 3),
        }


class Filter:
    """Common base. Subclasses set `name` (by registering), `Params`, and `columns`."""

    name: ClassVar[str] = ""
    level: ClassVar[Literal["row", "global", "trace"]]
    Params: ClassVar[type[FilterParams]] = FilterParams
    columns: ClassVar[tuple[str, ...]] = ()
    # Row filters whose per-row work is CPU-bound set this to run in the executor's workers; cheap column
    # filters stay on the driver, where shipping rows would cost more than deciding them.
    parallel: ClassVar[bool] = False

    def __init__(self, params: FilterParams | None = None, context: FilterContext | None = None) -> None:
        self.params = params if params is not None else self.Params()
        self.context = context or FilterContext()
        self.stats = FilterStats()
        self.merged_counters: Counter = Counter()

    def setup(self) -> None:
        """Heavy one-time preparation (indexes, tokenizers), run once before any data is seen."""

    def check(self) -> None:
        """Raise a CurateError for a file or name the parameters refer to that cannot be used (a missing
        file, an unknown tokenizer), without reading data. `curate validate` and `curate run` both call it
        while the recipe is loaded, so a recipe that validates is one that runs."""

    def required_columns(self) -> tuple[str, ...]:
        """Source columns this filter reads; may depend on parameters."""
        return self.columns

    def fingerprint_extra(self) -> str:
        """Anything besides parameters and code that changes results (e.g. hashes of user files)."""
        return ""

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any] | None:
        """A JSON report built from this filter's drops as (uuid, drop) pairs, written beside the outputs."""
        return None

    def close(self) -> None:
        """Release worker processes or other resources."""

    def counters(self) -> dict[str, int]:
        """Counts a filter keeps beyond its verdicts (e.g. verifier cache hits), gathered from the workers
        that ran it and summed into `merged_counters` on the driver for `report()`."""
        return {}

    def merge_counters(self, counters: dict[str, int]) -> None:
        self.merged_counters.update(counters)

    def count(self, seen: int, dropped: Counter, seconds: float) -> None:
        """Add a batch's outcome to this filter's stats (the only place stats change)."""
        self.stats.seen += seen
        self.stats.kept += seen - sum(dropped.values())
        self.stats.dropped.update(dropped)
        self.stats.seconds += seconds

    def _timed(self, items: Sequence[Any], decide: Callable[[Sequence[Any]], list[Verdict]]) -> list[Verdict]:
        start = time.perf_counter()
        verdicts = decide(items)
        if len(verdicts) != len(items):
            raise RuntimeError(
                f"filter {self.name!r} returned {len(verdicts)} verdicts for {len(items)} items"
            )
        for verdict in verdicts:
            if not isinstance(verdict, Keep | Drop):
                raise TypeError(f"filter {self.name!r} returned {verdict!r}, not Keep or Drop")
        dropped = Counter(v.reason for v in verdicts if isinstance(v, Drop))
        self.count(len(verdicts), dropped, time.perf_counter() - start)
        return verdicts


class RowFilter(Filter):
    level = "row"

    def filter(self, row: Row) -> Verdict:
        raise NotImplementedError

    def filter_batch(self, rows: Sequence[Row]) -> list[Verdict]:
        return [self.filter(row) for row in rows]

    def apply(self, rows: Sequence[Row]) -> list[Verdict]:
        return self._timed(rows, self.filter_batch)


class TraceFilter(Filter):
    level = "trace"

    def filter(self, trace: Trace) -> Verdict:
        raise NotImplementedError

    def filter_batch(self, traces: Sequence[Trace]) -> list[Verdict]:
        return [self.filter(trace) for trace in traces]

    def apply(self, traces: Sequence[Trace]) -> list[Verdict]:
        return self._timed(traces, self.filter_batch)


class GlobalFilter(Filter):
    """Decides from all surviving rows at once. The engine computes `signatures` chunk by chunk on its workers.

    A filter that only implements `signatures` and `decide` gets every surviving row's signature and columns
    in one process. A *clustering* filter (deduplication) also implements `bucket_keys`, `linked` and
    `decide_clusters`, and is then decided at any scale: no process holds every row (see `curate.clusters`).
    Its contract: `decide(rows, signatures)` keeps every row outside a cluster and equals `decide_clusters` on
    the members of the clusters, where clusters are the connected components (of two rows or more) of the
    candidate pairs that are `linked`. Candidate pairs are the pairs of rows that share a value in some column
    of `bucket_keys` (`pairing` "all"), or each row with the first row (smallest row id) of every bucket it
    is in (`pairing` "first").
    """

    level = "global"

    def signatures(self, rows: pl.DataFrame) -> pa.Array:
        """One value per row, computed from that row alone (a hash key, a MinHash signature): the part the
        engine spreads over workers, chunk by chunk."""
        raise NotImplementedError

    def decide(self, rows: pl.DataFrame, signatures: pa.Array) -> list[Verdict]:
        """Verdicts from every surviving row's signature at once, on the driver (clustering, survivors)."""
        raise NotImplementedError

    def filter_all(self, rows: pl.DataFrame) -> list[Verdict]:
        """`rows` holds `row_id` and the requested columns of every surviving row, in source order."""
        return self.decide(rows, self.signatures(rows))

    @property
    def clusters(self) -> bool:
        """Whether this filter implements the clustering methods below."""
        return type(self).bucket_keys is not GlobalFilter.bucket_keys

    @property
    def pairing(self) -> Literal["all", "first"]:
        """Which rows of a bucket are candidate pairs: all of them, or each with the bucket's first row only
        (linear in a bucket's size, for a filter whose `decide` pairs that way)."""
        return "all"

    def bucket_keys(self, signatures: pa.Array) -> np.ndarray:
        """Candidate keys, a (rows, k) uint64 array from each row's signature alone (LSH band hashes, a hash
        prefix): rows sharing a value in the same column are compared with `linked`."""
        raise NotImplementedError

    def linked(self, left: pa.Array, right: pa.Array) -> np.ndarray:
        """For candidate pairs (left[i], right[i]), whether the two rows belong to one cluster (bool array).
        Rows with equal signatures must be linked."""
        raise NotImplementedError

    def decide_clusters(self, rows: pl.DataFrame, labels: np.ndarray, signatures: pa.Array) -> list[Verdict]:
        """Verdicts for the members of every cluster: `rows` (source order) holds `row_id`, `uuid` and the
        requested columns, `labels[i]` is the smallest row id of row i's cluster, `signatures` align to rows."""
        raise NotImplementedError
