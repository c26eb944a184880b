"""A user's own `schema:` mapping (no preset): plain columns with an inline think block, a separate reasoning
field, a ShareGPT conversation, an id column; bad references refused at load as one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from curate.engine import run_recipe
from curate.errors import CurateError
from curate.mapping import SchemaSpec, compile_map, content_ids
from curate.recipe import load_recipe

REASONING = "First, 17 + 25 = 42. Then 42 / 6 = 7. Let me double-check: 6 * 7 = 42. Yes."
ANSWER = "The quotient is $\\boxed{7}$."


def problem(i: int) -> str:
    return f"A box holds {17 + i} red and 25 blue marbles; they are shared among {6 + i} children. How many each ({i})?"


def write(tmp_path: Path, rows: list[dict[str, Any]], schema: str) -> Path:
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    path = tmp_path / "recipe.yaml"
    path.write_text(
        f"name: own\nsource:\n  path: {data}\n  schema:\n{schema}"
        "filters:\n  - think_format: {}\n  - answer_verify: {}\n"
        f"output:\n  dir: {tmp_path / 'out'}\n",
        encoding="utf-8",
    )
    return path


def outputs(tmp_path: Path) -> pl.DataFrame:
    return pl.read_parquet(tmp_path / "out" / "train.parquet")


def test_plain_columns_with_inline_think_and_content_hash_ids(tmp_path: Path) -> None:
    rows = [
        {"question": problem(i), "final": "7", "response": f"<think>\n{REASONING}\n</think>\n\n{ANSWER}"}
        for i in range(4)
    ]
    rows[3]["final"] = "8"  # answer_verify drops it: the box says 7
    recipe = write(tmp_path, rows, "    problem: question\n    answer: final\n    generation: response\n")
    stats = run_recipe(load_recipe(recipe)).stats
    assert stats["rows"]["pool"] == 3 and stats["source"]["schema"] == "custom"
    out = outputs(tmp_path)
    assert out["messages"].to_list()[0][0]["content"] == problem(0)
    digest = content_ids([problem(0)], ["7"], [[rows[0]["response"]]])[0].hex()
    assert out["uuid"].to_list()[0] == digest  # no id column: the content hash


def test_separate_reasoning_field_and_sharegpt_turns_with_an_id_column(tmp_path: Path) -> None:
    rows = [
        {
            "id": f"row-{i}",
            "gold": "7",
            "chat": [{"from": "human", "value": problem(i)}, {"from": "gpt", "value": ANSWER}],
            "thoughts": REASONING,
        }
        for i in range(3)
    ]
    schema = (
        "    id: id\n    answer: gold\n    conversation: {column: chat, format: sharegpt}\n"
        '    problem: "@user"\n    generation: "@assistant"\n    reasoning: thoughts\n'
    )
    run_recipe(load_recipe(write(tmp_path, rows, schema)))
    out = outputs(tmp_path)
    assert sorted(out["uuid"].to_list()) == ["row-0", "row-1", "row-2"]
    assistant = out["messages"].to_list()[0][1]["content"]
    assert (
        assistant == f"<think>\n{REASONING}\n</think>\n\n{ANSWER}"
    )  # the think block rebuilt around the field


@pytest.mark.parametrize("reference", ["@system", "a..b", ".x"])
def test_a_reference_that_is_not_a_column_is_refused_at_load(tmp_path: Path, reference: str) -> None:
    path = write(tmp_path, [{"q": problem(0)}], f'    problem: "{reference}"\n    generation: q\n')
    with pytest.raises(CurateError) as info:
        load_recipe(path)
    assert "recipe.yaml:" in str(info.value) and "\n" not in str(info.value)


def test_compiled_mapping_reads_only_the_columns_behind_a_request() -> None:
    cmap = compile_map(SchemaSpec(problem="q", answer="a", generation="g", source="meta.origin"), "custom")
    assert cmap.raw_columns(["problem"]) == ["q"]
    assert sorted(cmap.raw_columns(["problem", "source"])) == ["meta", "q"]
