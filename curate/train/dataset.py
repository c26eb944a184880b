"""What `curate train` needs to know about a curated output, checked before any GPU time is spent.

verl's `MultiTurnSFTDataset` fails late and obscurely on a malformed row (a KeyError inside a dataloader
worker, hours into a run), and with `data.truncation=error` one over-long row kills the whole job. So the
split files are streamed once here: the verl message format, the roles, and every row's token count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.filters import TokenBound
from curate.outputs import RunOutput

ROLES = ("system", "user", "assistant")
SPOT_CHECKS = 8  # rows whose stored num_tokens are recounted, to catch a parquet curate did not write
_BATCH = 2048


@dataclass(frozen=True)
class Split:
    path: Path
    rows: int
    longest: int  # tokens of the longest row (ChatML rendering, Qwen3 tokenizer)
    longest_row: str  # "row N (uuid U)" of that row, for error messages


@dataclass(frozen=True)
class CuratedOutput:
    dir: Path
    train: Split
    test: Split | None  # None when there is no test.parquet or it has no rows
    bound: TokenBound | None  # the tightest token bound a filter of the recipe declared (recipe.lock.yaml)
    recipe: str | None

    @property
    def longest(self) -> int:
        return max(self.train.longest, self.test.longest if self.test else 0)


def inspect_output(out_dir: Path) -> CuratedOutput:
    out_dir = out_dir.resolve()
    if not out_dir.is_dir():
        raise CurateError("no such folder", where=str(out_dir), hint="pass a `curate run` output folder")
    output = RunOutput(out_dir)
    if output.format.name != "parquet":
        raise CurateError(
            f"the splits are {output.format.name} files, and verl's MultiTurnSFTDataset reads parquet",
            where=str(out_dir),
            hint="run the recipe with `output: {format: parquet}` (the default) for `curate train`",
        )
    train_path = output.split_path("train")
    if not train_path.exists():
        raise CurateError(
            "no train.parquet here", where=str(out_dir), hint="run `curate run RECIPE` to produce one"
        )
    lock = output.lock()
    bound = output.token_bound()
    recount = bound is None or bound.tokenizer == "qwen3"
    train = check_split(train_path, recount=recount)
    if train.rows == 0:
        raise CurateError("train.parquet has no rows", where=str(train_path))
    test_path = output.split_path("test")
    test = check_split(test_path, recount=recount) if test_path.exists() else None
    name = lock.get("name") if lock else None
    return CuratedOutput(
        out_dir, train, test if test and test.rows else None, bound, name if isinstance(name, str) else None
    )


def check_split(path: Path, *, recount: bool = True) -> Split:
    """Stream a split file: verl's message format, roles, and token counts (filled in where missing)."""
    try:
        handle = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise CurateError(f"not a readable parquet file ({exc})", where=str(path)) from None
    _check_schema(handle.schema_arrow, path)
    names = handle.schema_arrow.names
    columns = ["messages", *[c for c in ("uuid", "num_tokens") if c in names]]
    rows, longest, longest_row = 0, 0, ""
    checked = 0
    for batch in handle.iter_batches(batch_size=_BATCH, columns=columns):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        if frame.height == 0:
            continue
        frame = frame.with_row_index("row", offset=rows)
        if "uuid" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("uuid"))
        _check_turns(frame, path)
        tokens, checked = _tokens(frame, path, recount and checked < SPOT_CHECKS, checked)
        top = int(tokens.arg_max() or 0)
        if tokens[top] > longest:
            longest, longest_row = int(tokens[top]), _label(frame.row(top, named=True))
        rows += frame.height
    return Split(path, rows, longest, longest_row)


def _check_schema(schema: pa.Schema, path: Path) -> None:
    hint = "verl's MultiTurnSFTDataset reads a `messages` list of {role, content} structs"
    if "messages" not in schema.names:
        raise CurateError("no `messages` column", where=str(path), hint=hint)
    kind = schema.field("messages").type
    item = kind.value_type if pa.types.is_list(kind) or pa.types.is_large_list(kind) else None
    fields = {item.field(i).name: item.field(i).type for i in range(item.num_fields)} if item else {}
    if not item or not pa.types.is_struct(item) or not {"role", "content"} <= fields.keys():
        raise CurateError(f"`messages` has type {kind}", where=str(path), hint=hint)
    for name in ("role", "content"):
        if not (pa.types.is_string(fields[name]) or pa.types.is_large_string(fields[name])):
            raise CurateError(f"`messages.{name}` has type {fields[name]}, not string", where=str(path))


def _check_turns(frame: pl.DataFrame, path: Path) -> None:
    roles = pl.col("messages").list.eval(pl.element().struct.field("role"))
    checks = frame.select(
        "row",
        "uuid",
        count=pl.col("messages").list.len().fill_null(0),
        bad_role=roles.list.eval(pl.element().is_in(ROLES).not_() | pl.element().is_null()).list.any(),
        late_system=roles.list.slice(1).list.contains("system"),
        no_user=roles.list.contains("user").not_(),
        last=roles.list.last(),
        no_content=pl.col("messages").list.eval(pl.element().struct.field("content").is_null()).list.any(),
    )
    problems = (
        (pl.col("count") == 0, "has no messages"),
        (pl.col("bad_role"), f"has a role other than {', '.join(ROLES)}"),
        (pl.col("late_system"), "has a system turn after the first turn"),
        (pl.col("no_user"), "has no user turn"),
        (
            pl.col("last") != "assistant",
            "does not end with an assistant turn (verl trains on assistant turns)",
        ),
        (pl.col("no_content"), "has a message without content"),
    )
    for condition, message in problems:
        bad = checks.filter(condition.fill_null(True))
        if bad.height:
            raise CurateError(
                f"{_label(bad.row(0, named=True))} {message}",
                where=str(path),
                hint="re-run `curate run` or fix the rows",
            )


def _tokens(frame: pl.DataFrame, path: Path, spot_check: bool, checked: int) -> tuple[pl.Series, int]:
    """Each row's `num_tokens`, counted where the column is missing or null; a few stored counts are
    recounted, since a stale count would let an over-long row through to verl."""
    from curate.tokenizers import load_counter

    stored = frame["num_tokens"] if "num_tokens" in frame.columns else pl.Series([None] * frame.height)
    missing = stored.is_null()
    if not missing.any() and not spot_check:
        return stored.cast(pl.Int64), checked
    counter = load_counter("qwen3")
    values: list[Any] = stored.to_list()
    spots = range(min(frame.height, SPOT_CHECKS - checked)) if spot_check else range(0)
    for i in sorted({*missing.arg_true().to_list(), *spots}):
        row = frame.row(i, named=True)
        actual = counter.count_messages(row["messages"])
        if values[i] is None:
            values[i] = actual
            continue
        checked += 1
        if actual != values[i]:
            raise CurateError(
                f"{_label(row)} stores num_tokens {values[i]}, but its ChatML rendering has {actual} Qwen3 tokens",
                where=str(path),
                hint="the counts are stale or from another tokenizer: re-run `curate run`",
            )
    return pl.Series(values, dtype=pl.Int64), checked


def _label(row: dict[str, Any]) -> str:
    return f"row {row['row']}" + (f" (uuid {row['uuid']})" if row.get("uuid") else "")
