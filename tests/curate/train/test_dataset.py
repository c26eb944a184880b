"""Pre-launch checks of a curated output: verl's message format, roles, token counts and the token bound."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.errors import CurateError
from curate.filters import TokenBound
from curate.outputs import SPLIT_SCHEMA
from curate.tokenizers import load_counter
from curate.train.dataset import check_split, inspect_output


def split_rows(curated: Path) -> list[dict[str, Any]]:
    return pl.read_parquet(curated / "train.parquet").to_dicts()


def write(path: Path, rows: list[dict[str, Any]], schema: pa.Schema = SPLIT_SCHEMA) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_inspects_a_curate_run_output(curated: Path) -> None:
    found = inspect_output(curated)
    train = pl.read_parquet(curated / "train.parquet")
    test = pl.read_parquet(curated / "test.parquet")
    assert (found.train.rows, found.test.rows if found.test else 0) == (19, 4)
    assert found.longest == max(train["num_tokens"].max(), test["num_tokens"].max())  # type: ignore[type-var]
    assert found.bound is None and found.recipe == "train-handoff"
    longest = train.row(int(train["num_tokens"].arg_max() or 0), named=True)
    assert found.train.longest_row.endswith(f"(uuid {longest['uuid']})")


def test_token_bound_comes_from_the_lock(curated: Path, tmp_path: Path) -> None:
    lock = tmp_path / "recipe.lock.yaml"
    lock.write_text(
        "name: r\nfilters:\n- source: {exclude: [cn_k12]}\n- token_length: {max_tokens: 16384, min_tokens: 0}\n"
        "- token_length: {max_tokens: 12000, tokenizer: qwen3}\n"
    )
    out = tmp_path / "out"
    shutil.copytree(curated, out)
    shutil.copy(lock, out / "recipe.lock.yaml")
    found = inspect_output(out)
    assert found.recipe == "r" and found.bound == TokenBound(12000, "qwen3")


def test_missing_counts_are_counted_and_stale_ones_refused(curated: Path, tmp_path: Path) -> None:
    rows = split_rows(curated)
    counter = load_counter("qwen3")
    nulls = [{**r, "num_tokens": None} for r in rows]
    assert check_split(write(tmp_path / "nulls.parquet", nulls)).longest == max(
        counter.count_messages(r["messages"]) for r in rows
    )
    bare = pa.schema([SPLIT_SCHEMA.field("messages")])
    found = check_split(write(tmp_path / "bare.parquet", [{"messages": r["messages"]} for r in rows], bare))
    assert found.rows == len(rows) and found.longest == max(r["num_tokens"] for r in rows)
    assert found.longest_row.startswith("row ") and "uuid" not in found.longest_row
    stale = [{**r, "num_tokens": r["num_tokens"] - 1} if i == 2 else r for i, r in enumerate(rows)]
    with pytest.raises(CurateError, match=rf"row 2 \(uuid {rows[2]['uuid']}\) stores num_tokens"):
        check_split(write(tmp_path / "stale.parquet", stale))


def turns(*pairs: tuple[str | None, str | None]) -> list[dict[str, str | None]]:
    return [{"role": role, "content": content} for role, content in pairs]


GOOD = turns(("user", "What is 1+1?"), ("assistant", "<think>\nEasy.\n</think>\n\n$\\boxed{2}$"))


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "has no messages"),
        (turns(("user", "q"), ("assistant", "a"), ("user", "again?")), "does not end with an assistant turn"),
        (
            turns(("user", "q"), ("tool", "x"), ("assistant", "a")),
            "has a role other than system, user, assistant",
        ),
        (turns(("user", "q"), ("system", "s"), ("assistant", "a")), "has a system turn after the first turn"),
        (turns(("system", "s"), ("assistant", "a")), "has no user turn"),
        (turns(("user", None), ("assistant", "a")), "has a message without content"),
        (turns((None, "q"), ("assistant", "a")), "has a role other than"),
    ],
)
def test_malformed_rows_are_named(tmp_path: Path, messages: list[dict[str, Any]], message: str) -> None:
    count = load_counter("qwen3").count_messages(GOOD)
    rows = [{"messages": GOOD, "uuid": f"u{i}", "num_tokens": count} for i in range(3000)]
    rows[2500] = {"messages": messages, "uuid": "bad-one", "num_tokens": 30}
    schema = pa.schema([SPLIT_SCHEMA.field(n) for n in ("messages", "uuid", "num_tokens")])
    path = write(tmp_path / "train.parquet", rows, schema)
    with pytest.raises(CurateError, match=rf"train.parquet: row 2500 \(uuid bad-one\) {message}") as caught:
        check_split(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            pa.schema([("conversation", pa.list_(SPLIT_SCHEMA.field("messages").type.value_type))]),
            "no `messages` column",
        ),
        (pa.schema([("messages", pa.list_(pa.string()))]), "`messages` has type list<element: string>"),
        (
            pa.schema([("messages", pa.list_(pa.struct([("role", pa.string()), ("text", pa.string())])))]),
            "`messages` has type",
        ),
        (
            pa.schema([("messages", pa.list_(pa.struct([("role", pa.int64()), ("content", pa.string())])))]),
            r"`messages.role` has type int64, not string",
        ),
    ],
)
def test_wrong_schema(tmp_path: Path, schema: pa.Schema, message: str) -> None:
    path = tmp_path / "train.parquet"
    pq.write_table(schema.empty_table(), path)
    with pytest.raises(CurateError, match=message):
        check_split(path)


def test_missing_or_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CurateError, match="no such folder"):
        inspect_output(tmp_path / "nowhere")
    with pytest.raises(CurateError, match=r"no train.parquet here \(run `curate run RECIPE`"):
        inspect_output(tmp_path)
    (tmp_path / "train.parquet").write_text("not parquet")
    with pytest.raises(CurateError, match="not a readable parquet file"):
        inspect_output(tmp_path)
    write(tmp_path / "train.parquet", [])
    with pytest.raises(CurateError, match=r"train\.parquet has no rows"):
        inspect_output(tmp_path)
