"""`pass_rate`: keep rows whose measured solve rate lies in a range: difficulty selection from evaluations.

s1, Skywork-OR1 and open-r1's pass-rate filtering all select training problems by how often a model solves
them: drop what it always solves (nothing to learn) and what it never solves (likely unsolvable or
mislabelled). The rate comes from one of:

- `files`: `curate eval` results, a run folder (its `scored.jsonl`) or a `scored.jsonl` itself, where the
  rate is the share of a problem's completions judged correct; or any jsonl/parquet of `{uuid, pass_rate}`
  (keys set by `id_key` and `rate_key`). Paths are relative to the recipe and their bytes key the cache. The
  same id in several scored files pools their completions (two runs of 8 make one of 16); in several rate
  files it must carry the same rate.
- `column`: a column of the source, e.g. OpenMathReasoning's `pass_rate_72b_tir` (a string: a number, or
  "n/a" where it was not measured). Numbers, numeric strings and `k/n` strings are read; `missing_values`
  ("n/a", "", "nan", ...) and nulls mean not measured; anything else, or a rate outside [0, 1], stops the run
  with the row named.

The pool's ids are the rows' `uuid`: evaluate a pool with `curate eval suite SOURCE --out pool.jsonl` then
`curate eval run --suite pool.jsonl`. A row kept has `min <= rate <= max` (`exclusive: true`: strictly
inside, as open-r1's `pass_rate_min < rate < pass_rate_max`). A row without a rate is dropped as
`pass_rate_missing` (`missing: keep` keeps it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from curate.cache import file_hash
from curate.errors import CurateError
from curate.filters import KEEP, Drop, FilterParams, Row, RowFilter, Verdict, register
from curate.jsonl import iter_jsonl

SCORED = "scored.jsonl"
ROLLOUTS = "rollouts.jsonl"


class PassRateParams(FilterParams):
    min: float = Field(0.0, ge=0.0, le=1.0, description="lowest solve rate kept")
    max: float = Field(1.0, ge=0.0, le=1.0, description="highest solve rate kept")
    exclusive: bool = Field(False, description="keep only rates strictly between min and max (open-r1)")
    files: list[str] = Field(
        default_factory=list,
        description="curate eval run folders or scored.jsonl files, or jsonl/parquet of {uuid, pass_rate}; "
        "relative to the recipe",
    )
    column: str | None = Field(None, description="a source column holding the rate, e.g. pass_rate_72b_tir")
    id_key: str = Field("uuid", description="id field of {uuid, pass_rate} files (scored files use `id`)")
    rate_key: str = Field("pass_rate", description="rate field of {uuid, pass_rate} files")
    dataset: str | None = Field(None, description="in scored files, read only this eval dataset's records")
    missing: Literal["drop", "keep"] = Field("drop", description="what to do with rows that have no rate")
    missing_values: list[str] = Field(
        default_factory=lambda: ["n/a", "na", "none", "null", "nan", ""],
        description="strings meaning 'not measured' (compared lower-case, stripped)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> PassRateParams:
        if bool(self.files) == bool(self.column):
            raise ValueError("give exactly one of `files` (eval results or rate files) and `column`")
        if self.min > self.max or (self.exclusive and self.min >= self.max):
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


def resolve(name: str, base: str | Path | None) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() or base is None else Path(base) / path


@dataclass
class Measured:
    """A row's measurement: a rate, and the completions behind it when known."""

    rate: float
    correct: int | None = None
    total: int | None = None
    where: str = ""


def parse_rate(value: Any, missing_values: frozenset[str], where: str) -> float | None:
    """A rate in [0, 1] from a number, a numeric string or `k/n`; None when not measured."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CurateError(f"pass rate is a boolean ({value!r}), not a number", where=where)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in missing_values:
            return None
        try:
            if "/" in text:
                num, den = text.split("/", 1)
                number = float(num) / float(den)
            else:
                number = float(text)
        except (ValueError, ZeroDivisionError):
            raise CurateError(
                f"pass rate {value!r} is not a number",
                where=where,
                hint="add it to `missing_values` if it means 'not measured'",
            ) from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise CurateError(f"pass rate {value!r} is not a number", where=where)
    if math.isnan(number):
        return None
    if not 0.0 <= number <= 1.0:
        raise CurateError(f"pass rate {value!r} is outside [0, 1]", where=where)
    return number


def _scored(record: dict[str, Any], where: str) -> tuple[int, int]:
    correct = record.get("correct")
    if not isinstance(correct, list) or not correct or not all(isinstance(c, bool) for c in correct):
        raise CurateError("`correct` must be a non-empty list of true/false", where=where)
    return sum(correct), len(correct)


def read_rates(paths: Sequence[tuple[str, Path]], params: PassRateParams) -> dict[str, Measured]:
    """Every id's measurement from the given (name, path) files, merged as the module docstring says."""
    missing = frozenset(v.strip().lower() for v in params.missing_values)
    rates: dict[str, Measured] = {}
    for name, path in paths:
        if path.is_dir():
            if not (path / SCORED).is_file():
                hint = "score it with `curate eval score`" if (path / ROLLOUTS).exists() else None
                raise CurateError(f"no {SCORED} in this folder", where=str(path), hint=hint)
            path = path / SCORED
        if not path.is_file():
            raise CurateError(f"pass_rate: {name}: no such file", where=str(path))
        for ident, measured in _read_file(path, params, missing):
            _merge(rates, ident, measured)
    return rates


def _read_file(path: Path, params: PassRateParams, missing: frozenset[str]):
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path, columns=[params.id_key, params.rate_key])
        except Exception as exc:  # a missing column or a corrupt file: one line either way
            raise CurateError(
                f"cannot read columns {params.id_key!r}, {params.rate_key!r} ({str(exc).splitlines()[0]})",
                where=str(path),
            ) from None
        ids = table.column(params.id_key).to_pylist()
        values = table.column(params.rate_key).to_pylist()
        for row, (ident, value) in enumerate(zip(ids, values)):
            where = f"{path} row {row}"
            if ident is None:
                raise CurateError(f"{params.id_key} is null", where=where)
            rate = parse_rate(value, missing, where)
            if rate is not None:
                yield str(ident), Measured(rate, where=where)
        return
    if path.suffix != ".jsonl":
        raise CurateError("pass_rate reads .jsonl and .parquet files", where=str(path))
    seen_in: dict[str, Any] = {}
    for where, _, record in iter_jsonl(path):
        if not isinstance(record, dict):
            raise CurateError("each line must be a JSON object", where=where)
        if "correct" in record and "id" in record:  # a curate eval scored.jsonl record
            if params.dataset is not None and record.get("dataset") != params.dataset:
                continue
            ident = str(record["id"])
            other = seen_in.get(ident)
            if other is not None and other != record.get("dataset"):
                raise CurateError(
                    f"id {ident!r} is in eval datasets {other!r} and {record.get('dataset')!r}",
                    where=where,
                    hint="set `dataset` to the one to read",
                )
            seen_in[ident] = record.get("dataset")
            correct, total = _scored(record, where)
            yield ident, Measured(correct / total, correct, total, where)
        elif params.id_key in record and params.rate_key in record:
            ident = record[params.id_key]
            if not isinstance(ident, str | int) or isinstance(ident, bool):
                raise CurateError(f"{params.id_key} must be a string or an integer", where=where)
            rate = parse_rate(record[params.rate_key], missing, where)
            if rate is not None:
                yield str(ident), Measured(rate, where=where)
        else:
            raise CurateError(
                f"neither a scored record (id, correct) nor a rate ({params.id_key}, {params.rate_key})",
                where=where,
            )


def _merge(rates: dict[str, Measured], ident: str, new: Measured) -> None:
    old = rates.get(ident)
    if old is None:
        rates[ident] = new
    elif old.correct is not None and old.total is not None and new.correct is not None and new.total is not None:
        correct, total = old.correct + new.correct, old.total + new.total
        rates[ident] = Measured(correct / total, correct, total, old.where)
    elif old.total is None and new.total is None and old.rate == new.rate:
        return
    else:
        raise CurateError(
            f"id {ident!r} has two different pass rates ({old.rate:g} at {old.where}, {new.rate:g})",
            where=new.where,
            hint="give each id one rate, or pool scored files only",
        )


@register("pass_rate")
class PassRate(RowFilter[PassRateParams]):
    """Keep rows whose measured solve rate lies in [min, max], from curate eval results, a file of
    {uuid, pass_rate}, or a dataset column."""



    def _paths(self) -> list[tuple[str, Path]]:
        return [(name, resolve(name, self.context.recipe_dir)) for name in self.params.files]

    def required_columns(self) -> tuple[str, ...]:
        return (self.params.column,) if self.params.column else ("uuid",)

    def check(self) -> None:
        for name, path in self._paths():
            if not path.exists():
                raise CurateError(f"{name}: no such file or folder (looked for {path})")
            if path.is_dir() and not (path / SCORED).is_file():
                raise CurateError(f"{name}: a folder without {SCORED} (score it with `curate eval score`)")
            if path.is_file() and path.suffix not in (".jsonl", ".parquet"):
                raise CurateError(f"{name}: not a .jsonl or .parquet file")

    def setup(self) -> None:
        self.rates = read_rates(self._paths(), self.params) if self.params.files else {}
        self._missing_values = frozenset(v.strip().lower() for v in self.params.missing_values)

    def fingerprint_extra(self) -> str:
        hashed = []
        for name, path in self._paths():
            target = path / SCORED if path.is_dir() else path
            hashed.append(f"{name}:{file_hash(target) if target.is_file() else 'missing'}")
        return "|".join(hashed)

    def _rate(self, row: Row) -> float | None:
        p = self.params
        if p.column:
            return parse_rate(row[p.column], self._missing_values, f"row {row['uuid']}, column {p.column!r}")
        measured = self.rates.get(str(row["uuid"]))
        return None if measured is None else measured.rate

    def filter(self, row: Row) -> Verdict:
        p = self.params
        rate = self._rate(row)
        if rate is None:
            if p.missing == "keep":
                return KEEP
            return Drop("pass_rate_missing", "no measured pass rate for this row", {"pass_rate": None})
        low = rate <= p.min if p.exclusive else rate < p.min
        high = rate >= p.max if p.exclusive else rate > p.max
        info = {"pass_rate": round(rate, 6)}
        sign = ("<=", ">=") if p.exclusive else ("<", ">")
        if low:
            return Drop("pass_rate_low", f"pass rate {rate:.4g} {sign[0]} min {p.min:g}", info)
        if high:
            return Drop("pass_rate_high", f"pass rate {rate:.4g} {sign[1]} max {p.max:g}", info)
        return KEEP

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any] | None:
        """Where the rates came from, how many rows each reason dropped, and the dropped rates by decile."""
        p = self.params
        reasons = Counter(d.reason for _, d in drops)
        deciles: Counter = Counter()
        for _, drop in drops:
            rate = (drop.info or {}).get("pass_rate")
            if rate is not None:
                deciles[f"{min(int(rate * 10), 9) / 10:.1f}"] += 1
        rates = getattr(self, "rates", {})
        return {
            "settings": p.model_dump(mode="json"),
            "source": {"column": p.column}
            if p.column
            else {
                "files": [name for name, _ in self._paths()],
                "ids_with_a_rate": len(rates),
                "ids_from_scored_completions": sum(1 for m in rates.values() if m.total is not None),
            },
            "dropped": dict(sorted(reasons.items())),
            "dropped_rates_by_decile": dict(sorted(deciles.items())),
        }
