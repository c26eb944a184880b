"""The shipped source schemas: each preset's recipe on its fixture (rows in the dataset's exact published
shape, built from real text) drops exactly the planted rows, each by the filter meant for it, and a filter
that needs a column the preset lacks is refused when the recipe is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from curate.derived import build_stores
from curate.engine import run_recipe
from curate.errors import CurateError
from curate.executors import make_executor
from curate.mix import open_sources
from curate.presets import presets
from curate.recipe import Recipe, SourceSpec, load_recipe

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "sources"
RECIPES = {
    "openmathreasoning": "openmathreasoning-cot.yaml",
    "openthoughts3": "openthoughts3-math.yaml",
    "am-deepseek-r1-distilled": "am-deepseek-r1-math.yaml",
    "numinamath-1.5": "numinamath-1.5-solutions.yaml",
}


def test_every_shipped_preset_has_a_fixture_and_a_recipe() -> None:
    shipped = set(presets()) - {"openr1"}
    assert shipped == set(RECIPES)
    for name, recipe in RECIPES.items():
        assert (FIXTURES / f"{name}.jsonl").is_file() and (ROOT / "recipes" / recipe).is_file()


def _uuids(recipe: Recipe, folder: Path) -> list[str]:
    """Each fixture line's uuid as the run reads it (a content hash where the dataset has no id column)."""
    sources = open_sources(recipe)
    part = sources.parts[0]
    executor = make_executor("local", 1, None)
    try:
        build_stores(sources.table, [("source", part.files, part.resolved.fingerprint)], executor, folder)
    finally:
        executor.close()
    return sources.table.read(["uuid"])["uuid"].to_list()


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_preset_recipe_on_its_fixture_drops_exactly_the_planted_rows(name: str, tmp_path: Path) -> None:
    recipe = load_recipe(ROOT / "recipes" / RECIPES[name]).with_overrides(
        source=SourceSpec(path=str(FIXTURES / f"{name}.jsonl")), out=str(tmp_path / "out"), allow_smaller=True
    )
    assert recipe.model.sample is not None
    recipe.model.sample = recipe.model.sample.model_copy(update={"size": None, "test_size": 0})
    uuids = _uuids(recipe, tmp_path)
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    result = run_recipe(recipe)
    rejected = pl.read_parquet(tmp_path / "out" / "rejections.parquet")
    by_uuid = dict(zip(rejected["uuid"].to_list(), rejected["filter"].to_list()))
    kept = set(pl.read_parquet(tmp_path / "out" / "train.parquet")["uuid"].to_list())
    for line in expected["kept"]:
        assert uuids[line] in kept, f"line {line} kept"
    for line, filter_name in expected["dropped"].items():
        assert by_uuid.get(uuids[int(line)]) == filter_name, f"line {line} dropped by {filter_name}"
    for pair in expected["one_of"]:
        fates = [by_uuid.get(uuids[line]) for line in pair["rows"]]
        assert sorted(fates, key=str) == sorted([None, pair["filter"]], key=str), pair
    assert len(kept) + len(by_uuid) == len(uuids)
    assert result.stats["source"]["schema"] == name


@pytest.mark.parametrize(
    ("name", "step", "column"),
    [
        ("openthoughts3", "answer_verify: {}", "answer"),
        ("numinamath-1.5", "think_format: {}", None),
        ("openmathreasoning", "correctness_count: {min: 1}", "correctness_count"),
    ],
)
def test_filter_needing_a_column_the_preset_lacks_is_refused_at_load(
    name: str, step: str, column: str | None, tmp_path: Path
) -> None:
    path = tmp_path / "recipe.yaml"
    path.write_text(
        f"name: t\nsource:\n  path: {FIXTURES / (name + '.jsonl')}\n  schema: {name}\n"
        f"filters:\n  - {step}\noutput:\n  dir: {tmp_path / 'out'}\n",
        encoding="utf-8",
    )
    with pytest.raises(CurateError) as info:
        load_recipe(path)
    message = str(info.value)
    assert "recipe.yaml:6" in message and repr(name) in message
    assert (f"column {column!r}" if column else "reasoning traces") in message
