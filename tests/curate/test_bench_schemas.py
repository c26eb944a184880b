"""The benchmark corpus rewritten in each shipped source schema: exactly the preset's columns and types, one
row per generation (NuminaMath: per problem) with the corpus's own text, and each preset's recipe runs on it."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from curate.bench.corpus import ensure_corpus
from curate.bench.schemas import RECIPES, convert
from curate.engine import run_recipe
from curate.mix import check_headers
from curate.presets import explicit_schema, get
from curate.recipe import SourceSpec, load_recipe

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("preset", sorted(RECIPES))
def test_corpus_in_each_schema_runs_through_its_recipe(preset: str, tmp_path: Path) -> None:
    corpus = ensure_corpus(40, 0)
    original = pq.read_table(corpus.path, columns=["problem", "generations"])
    converted = convert(corpus, preset, tmp_path / f"{preset}.parquet")
    table = pq.read_table(converted.path)
    assert table.schema == explicit_schema(get(preset))
    generations = int(pc.sum(pc.list_value_length(original.column("generations"))).as_py())
    assert converted.rows == table.num_rows == (40 if preset == "numinamath-1.5" else generations)
    assert converted.total_text_bytes > 0
    recipe = load_recipe(ROOT / "recipes" / RECIPES[preset]).with_overrides(
        source=SourceSpec(path=str(converted.path)), out=str(tmp_path / "out"), allow_smaller=True
    )
    check_headers(recipe)
    stats = run_recipe(recipe).stats
    assert stats["rows"]["source"] == converted.rows and stats["rows"]["pool"] > 0
    problems = set(original.column("problem").to_pylist())
    kept = (
        pq.read_table(tmp_path / "out" / "test.parquet", columns=["messages"]).column("messages").to_pylist()
    )
    assert {m[0]["content"] for m in kept} <= problems  # the rows' own problems, through the mapping
