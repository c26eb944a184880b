"""The source checked at its boundary, before any filter runs: column types from each file's schema, then
the row values every step relies on (a non-empty, unique `uuid`; a `problem`; per-generation label lists
of one length). Each problem is one line naming the file and the row, so a broken shard is found before
minutes of filtering, never halfway through it, and never turned into a silently wrong output.

`generations` is the bulk of the bytes, so its list lengths are checked where the trace chain reads it
anyway (`check_lengths`), before any trace filter sees the row.

A source read through a column mapping (`curate.mapping`) is checked the same way, on the row-model columns
its mapping builds, after its source columns are checked against the types the mapping reads them as (and,
for a shipped preset, against the types its dataset card publishes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from curate.errors import CurateError
from curate.mapping import STRINGS as MAPPED_STRINGS
from curate.mapping import TURN_FIELDS, ColumnMap, arrow_type, compatible, value_type

LABELS = ("is_reasoning_complete", "finish_reasons", "correctness_math_verify", "correctness_llama")
STRINGS = ("problem", "solution", "answer", "problem_type", "question_type", "source", "uuid")
HINT = "fix or remove the row; the column meanings are those of open-r1/OpenR1-Math-220k"

Locate = Callable[[int], tuple[Path, int]]


def _string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)


def _list_of(inner: Callable[[pa.DataType], bool]) -> Callable[[pa.DataType], bool]:
    def check(t: pa.DataType) -> bool:
        if pa.types.is_null(t):
            return True
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            return inner(t.value_type)
        return False

    return check


def _bool(t: pa.DataType) -> bool:
    return pa.types.is_boolean(t) or pa.types.is_null(t)


def _integer(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_null(t)


def _message(t: pa.DataType) -> bool:
    return pa.types.is_struct(t) and {"role", "content"} <= {t.field(i).name for i in range(t.num_fields)}


EXPECTED: dict[str, tuple[Callable[[pa.DataType], bool], str]] = {
    **{name: (_string, "a string") for name in STRINGS},
    "generations": (_list_of(_string), "a list of strings, one per generation"),
    "finish_reasons": (_list_of(_string), "a list of strings, one per generation"),
    "is_reasoning_complete": (_list_of(_bool), "a list of booleans, one per generation"),
    "correctness_math_verify": (_list_of(_bool), "a list of booleans, one per generation"),
    "correctness_llama": (_list_of(_bool), "a list of booleans, one per generation"),
    "correctness_count": (_integer, "an integer"),
    "messages": (_list_of(_message), "a list of {role, content} messages"),
}


def check_types(
    files: Sequence[Path], schemas: Sequence[pa.Schema], maps: Sequence[ColumnMap] | None = None
) -> None:
    """Every known column of every file has the type the steps read it as."""
    for index, (path, schema) in enumerate(zip(files, schemas)):
        cmap = maps[index] if maps else None
        if cmap is not None and not cmap.identity:
            _check_mapped(path, schema, cmap)
            continue
        if cmap is not None:
            _check_published(path, schema, cmap)
        for name in schema.names:
            expected = EXPECTED.get(name)
            if expected is not None and not expected[0](schema.field(name).type):
                raise CurateError(
                    f"column {name!r} is {schema.field(name).type}, but it must be {expected[1]}",
                    where=str(path),
                    hint="convert the column, or point the source at OpenR1-shaped data",
                )


def _check_published(path: Path, schema: pa.Schema, cmap: ColumnMap) -> None:
    """A preset's columns, where the file has them, have the types its dataset card publishes."""
    for name, text in cmap.raw_types:
        if name in schema.names and not compatible(schema.field(name).type, arrow_type(text)):
            raise CurateError(
                f"column {name!r} is {schema.field(name).type}, but schema {cmap.name!r} publishes it as {text}",
                where=str(path),
                hint="is this the dataset the schema names? Map the columns with `schema:` fields",
            )


# What a mapped reference must read as, by the row-model column it fills.
_MAPPED: dict[str, tuple[Callable[[pa.DataType], bool], str]] = {
    **{name: (_string, "a string") for name in MAPPED_STRINGS},
    "generations": (_list_of(_string), "a list of strings, one per generation"),
    "generation": (_string, "a string (one generation per row)"),
    "reasoning": (_string, "a string"),
    "finish_reasons": (lambda t: _string(t) or _list_of(_string)(t), "a string or a list of strings"),
    **{
        name: (lambda t: _bool(t) or _list_of(_bool)(t), "a boolean or a list of booleans")
        for name in ("is_reasoning_complete", "correctness_math_verify", "correctness_llama")
    },
    "correctness_count": (_integer, "an integer"),
    "uuid": (lambda t: _string(t) or pa.types.is_integer(t), "a string or an integer"),
    "messages": (_list_of(_message), "a list of {role, content} messages"),
}


def _check_mapped(path: Path, schema: pa.Schema, cmap: ColumnMap) -> None:
    _check_published(path, schema, cmap)
    if cmap.conversation is not None:
        column, form = cmap.conversation
        if column in schema.names:
            kind = schema.field(column).type
            role, text = TURN_FIELDS[form]
            turns = _list_of(lambda t: pa.types.is_struct(t) and {role, text} <= {t.field(i).name for i in range(t.num_fields)})
            if not turns(kind):
                raise CurateError(
                    f"column {column!r} is {kind}, but schema {cmap.name!r} reads it as a conversation: a list "
                    f"of {{{role}, {text}}} turns",
                    where=str(path),
                    hint="set `conversation.format` (messages or sharegpt) to the column's form",
                )
    for name, ref in cmap.refs:
        kind = value_type(schema, ref, cmap.conversation)
        expected = _MAPPED.get(name)
        if kind is None or expected is None:
            continue  # an absent column is reported by the step that needs it
        if not expected[0](kind):
            raise CurateError(
                f"{ref} (mapped to {name!r} by schema {cmap.name!r}) is {kind}, but it must be {expected[1]}",
                where=str(path),
                hint="map another column with `schema:`, or point the source at data of that schema",
            )


def check_rows(frames: Iterable[pl.DataFrame], locate: Locate) -> None:
    """Row values, over frames holding `row_id`, `uuid`, `problem` and whichever label lists exist."""
    first_seen: dict[str, int] = {}
    for frame in frames:
        _required(frame, "uuid", locate)
        _required(frame, "problem", locate)
        empty = frame.filter(pl.col("uuid").str.strip_chars() == "")
        if empty.height:
            raise _row_error("the uuid is empty", empty["row_id"][0], locate)
        for row_id, uuid in zip(frame["row_id"].to_list(), frame["uuid"].to_list()):
            earlier = first_seen.setdefault(uuid, row_id)
            if earlier != row_id:
                path, row = locate(earlier)
                raise _row_error(f"uuid {uuid!r} also belongs to {path} row index {row}", row_id, locate)
        _label_lengths(frame, [c for c in LABELS if c in frame.columns], locate)


def check_lengths(frame: pl.DataFrame, locate: Locate) -> None:
    """Each label list has as many entries as `generations` (where both are present and not null)."""
    _label_lengths(frame, ["generations", *[c for c in LABELS if c in frame.columns]], locate)


def _required(frame: pl.DataFrame, column: str, locate: Locate) -> None:
    missing = frame.filter(pl.col(column).is_null())
    if missing.height:
        raise _row_error(f"{column} is null", missing["row_id"][0], locate)


def _label_lengths(frame: pl.DataFrame, columns: list[str], locate: Locate) -> None:
    if len(columns) < 2 or columns[0] not in frame.columns:
        return
    # Nulls from the column's own mask: `list.len()` of a null list is null or 0 depending on the polars version.
    lengths = {c: frame[c].list.len().fill_null(0).to_numpy() for c in columns}
    nulls = {c: frame[c].is_null().to_numpy() for c in columns}
    base_name, base = columns[0], lengths[columns[0]]
    for name in columns[1:]:
        other = lengths[name]
        both = ~(nulls[base_name] | nulls[name])
        bad = np.flatnonzero(both & (base != other))
        if bad.size:
            i = int(bad[0])
            raise _row_error(
                f"{name} has {int(other[i])} entries but {base_name} has {int(base[i])}",
                int(frame["row_id"][i]),
                locate,
            )


def _row_error(message: str, row_id: int, locate: Locate) -> CurateError:
    path, row = locate(int(row_id))
    return CurateError(message, where=f"{path} row index {row}", hint=HINT)
