"""`curate eval suite`: a pool's problems as an eval suite whose ids are the rows' uuids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.engine import run_recipe
from curate.errors import CurateError
from curate.evaluate.pool import write_pool_suite
from curate.evaluate.suites import load_jsonl_suite
from curate.recipe import load_recipe
from tests import openr1_rows as rows


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_from_a_curate_output_the_template_is_taken_off(tmp_path: Path) -> None:
    src = rows.write(tmp_path / "src.parquet", rows.many(6))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: r\nsource: {{path: {src}}}\nfilters: []\n"
        'format: {user_template: "Solve: {problem}\\nAnswer in a box.", system_prompt: "Be brief."}\n'
        f"sample: {{test_size: 2}}\noutput: {{dir: {tmp_path / 'out'}}}\n",
        encoding="utf-8",
    )
    run_recipe(load_recipe(recipe))
    problems = {r["uuid"]: r["problem"] for r in rows.many(6)}
    every = write_pool_suite(str(tmp_path / "out"), tmp_path / "all.jsonl")
    assert every.written == 6
    assert {x["id"]: x["problem"] for x in lines(tmp_path / "all.jsonl")} == problems
    test = write_pool_suite(str(tmp_path / "out"), tmp_path / "test.jsonl", split="test", dataset="held")
    assert test.written == 2 and {x["dataset"] for x in lines(tmp_path / "test.jsonl")} == {"held"}
    suite = load_jsonl_suite(tmp_path / "all.jsonl")  # what `curate eval run --suite` reads
    assert [p.id for p in suite] == [x["id"] for x in lines(tmp_path / "all.jsonl")]


def test_from_a_recipe_every_source_row_and_rows_without_answer_left_out(tmp_path: Path) -> None:
    table = [*rows.many(4), rows.row("no-answer", "What is it?", "", ["<think>\nx\n</think>\n\\boxed{1}"])]
    src = rows.write(tmp_path / "src.parquet", table)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\nsource: {{path: {src}}}\noutput: {{dir: out}}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "suite", str(recipe), "--out", str(tmp_path / "pool.jsonl")])
    assert result.exit_code == 0, result.output
    assert "4 problems (1 without an answer left out)" in result.output
    assert [x["id"] for x in lines(tmp_path / "pool.jsonl")] == [f"uuid-{i:05d}" for i in range(4)]


def test_duplicate_uuids_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    table = [*rows.many(2), rows.many(1)[0]]
    src = rows.write(tmp_path / "src.parquet", table)
    out = tmp_path / "pool.jsonl"
    with pytest.raises(CurateError, match=r"uuid 'uuid-00000' (appears twice|also belongs to)"):
        write_pool_suite(str(src), out)
    assert not out.exists() and list(tmp_path.iterdir()) == [src]
