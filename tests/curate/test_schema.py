"""Source columns checked at the boundary: types from the schema, then the values every step relies on."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from curate.errors import CurateError
from curate.schema import check_lengths, check_rows, check_types
from curate.synthetic import OPENR1_SCHEMA

FILE = Path("shard.parquet")


def locate(row_id: int) -> tuple[Path, int]:
    return FILE, row_id


def test_the_openr1_schema_and_its_variants_pass() -> None:
    large = pa.schema(
        [pa.field("generations", pa.large_list(pa.large_string())), pa.field("uuid", pa.large_string())]
    )
    nulls = pa.schema([pa.field("correctness_llama", pa.null())])  # an all-null shard
    check_types([FILE, FILE, FILE], [OPENR1_SCHEMA, large, nulls])


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (pa.field("generations", pa.string()), "list of strings"),
        (pa.field("is_reasoning_complete", pa.list_(pa.string())), "list of booleans"),
        (pa.field("correctness_count", pa.float64()), "an integer"),
        (pa.field("problem", pa.list_(pa.string())), "a string"),
        (pa.field("messages", pa.list_(pa.string())), "messages"),
    ],
)
def test_wrong_types_are_named(field: pa.Field, message: str) -> None:
    with pytest.raises(CurateError, match=f"shard.parquet: column '{field.name}' .*{message}"):
        check_types([FILE], [pa.schema([field])])


def frame(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"row_id": list(range(n)), "uuid": [f"u{i}" for i in range(n)], "problem": ["p"] * n}
    return pl.DataFrame({**base, **columns})


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"uuid": ["a", None, "c"]}, "row index 1: uuid is null"),
        ({"uuid": ["a", "b", ""]}, "row index 2: the uuid is empty"),
        ({"uuid": ["a", "b", "a"]}, "row index 2: uuid 'a' also belongs to shard.parquet row index 0"),
        ({"problem": ["x", None, "z"]}, "row index 1: problem is null"),
        (
            {
                "finish_reasons": [["stop"], ["stop", "stop"], None],
                "is_reasoning_complete": [[True], [True], [True]],
            },
            "row index 1: finish_reasons has 2 entries but is_reasoning_complete has 1",
        ),
    ],
)
def test_row_values(columns: dict, message: str) -> None:
    with pytest.raises(CurateError, match=message):
        check_rows([frame(**columns)], locate)


def test_duplicates_are_found_across_batches() -> None:
    first, second = frame(uuid=["a", "b"]), frame(uuid=["c", "a"]).with_columns(pl.col("row_id") + 2)
    with pytest.raises(CurateError, match=r"row index 3: uuid .a. also belongs to shard.parquet row index 0"):
        check_rows([first, second], locate)


def test_null_lists_are_not_a_length_mismatch() -> None:
    check_rows([frame(finish_reasons=[None, ["stop"]], is_reasoning_complete=[[True, True], [True]])], locate)
    check_lengths(frame(generations=[["a", "b"], None], finish_reasons=[["stop", "stop"], ["stop"]]), locate)
    with pytest.raises(CurateError, match="finish_reasons has 1 entries but generations has 2"):
        check_lengths(frame(generations=[["a", "b"]], finish_reasons=[["stop"]]), locate)
