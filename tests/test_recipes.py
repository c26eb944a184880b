"""The shipped recipes, run on the embedded sample: every planted defect is caught by the filter meant for it,
nothing else is dropped, and the 45K draw nests inside the 90K draw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from curate.cache import cache_root
from curate.engine import run_recipe
from curate.recipe import Recipe, SourceSpec, load_recipe

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def on_sample(name: str, out: Path, size: int | None = None) -> Recipe:
    recipe = load_recipe(RECIPES / name).with_overrides(
        source=SourceSpec(sample=True, rows=3000), out=str(out), allow_smaller=size is None
    )
    if size is not None:
        assert recipe.model.sample is not None
        recipe.model.sample = recipe.model.sample.model_copy(update={"size": size})
    return recipe


def _planted_check(recipe: Recipe, out: Path) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """Run `recipe` on the sample: every planted row that one of its filters is meant for is rejected, by
    such a filter, and no other row is. Returns (stats, filter by rejected uuid, the planted rows)."""
    result = run_recipe(recipe)
    manifest = json.loads(next((cache_root() / "sample").glob("*.planted.json")).read_text())
    names = {step.name for step in recipe.steps}
    planted = {u: e for u, e in manifest["planted"].items() if names & set(e["filters"])}
    rejected = pl.read_parquet(out / "rejections.parquet").filter(pl.col("filter") != "sample")
    by_uuid = dict(zip(rejected["uuid"].to_list(), rejected["filter"].to_list()))
    unplanted = rejected.filter(~pl.col("uuid").is_in(list(planted)))
    kept = sorted(set(planted) - set(by_uuid))
    assert unplanted.is_empty() and not kept, (
        "every planted row is rejected, and only those; rejected but not planted: "
        f"{unplanted.head(10).rows()}; planted but kept: {[(u, planted[u]) for u in kept[:10]]}"
    )
    wrong = {u: (planted[u]["kind"], f) for u, f in by_uuid.items() if f not in planted[u]["filters"]}
    assert wrong == {}
    return result.stats, by_uuid, planted


@pytest.mark.slow
def test_45k_recipe_catches_every_planted_defect_and_nothing_else(tmp_path: Path) -> None:
    stats, by_uuid, planted = _planted_check(
        on_sample("openr1-math-45k.yaml", tmp_path / "45k"), tmp_path / "45k"
    )
    funnel = {entry["filter"]: entry for entry in stats["funnel"]}
    kinds_by_filter: dict[str, set[str]] = {}
    for uuid, name in by_uuid.items():
        kinds_by_filter.setdefault(name, set()).add(planted[uuid]["kind"])
    assert kinds_by_filter["decontaminate"] == {
        "benchmark_verbatim",
        "benchmark_formatted",
        "benchmark_embedded",
        "benchmark_reworded",
    }
    assert {"exact_duplicate", "exact_duplicate_formatted"} <= kinds_by_filter["exact_dedup"]
    assert kinds_by_filter["minhash_dedup"] == {"near_duplicate"}
    assert kinds_by_filter["answer_verify"] == {"mislabeled_correct"}  # labelled right, boxes a wrong answer
    assert "wrong_answer" in kinds_by_filter["correctness_count"]  # labelled wrong: the cheap filter drops it
    assert "token_heavy" in kinds_by_filter["token_length"]
    assert funnel["decontaminate"]["dropped"] == {"contaminated": 48}
    assert (tmp_path / "45k" / "README.md").read_text().count("decontaminat") > 0


@pytest.mark.slow
def test_quality_recipe_drops_only_the_planted_loops_and_script_switches(tmp_path: Path) -> None:
    out = tmp_path / "quality"
    stats, by_uuid, planted = _planted_check(on_sample("openr1-math-45k-quality.yaml", out), out)
    funnel = {entry["filter"]: entry for entry in stats["funnel"]}
    kinds = {
        name: {planted[u]["kind"] for u, f in by_uuid.items() if f == name} for name in set(by_uuid.values())
    }
    assert kinds["repetition"] == {"looping"} and kinds["language_mix"] == {"mixed_script"}
    assert funnel["repetition"]["dropped"] == {"repetition_loop": 18}
    assert funnel["language_mix"]["dropped"] == {"script_switch": 18}


@pytest.mark.slow
def test_45k_nests_in_90k_with_a_shared_disjoint_test_split(tmp_path: Path) -> None:
    small = run_recipe(on_sample("openr1-math-45k.yaml", tmp_path / "45k", size=1000))
    big = run_recipe(on_sample("openr1-math-90k.yaml", tmp_path / "90k", size=2000))
    assert small.stats["rows"]["pool"] == big.stats["rows"]["pool"]
    read = {
        (name, split): set(pl.read_parquet(tmp_path / name / f"{split}.parquet")["uuid"].to_list())
        for name in ("45k", "90k")
        for split in ("train", "test")
    }
    assert len(read["45k", "train"]) == 1000 and len(read["90k", "train"]) == 2000
    assert read["45k", "train"] <= read["90k", "train"]
    assert read["45k", "test"] == read["90k", "test"] and len(read["45k", "test"]) == 200
    assert not read["90k", "test"] & read["90k", "train"]


def test_90k_differs_from_45k_only_in_size_and_names() -> None:
    base = load_recipe(RECIPES / "openr1-math-45k.yaml").resolved()
    big = load_recipe(RECIPES / "openr1-math-90k.yaml").resolved()
    differing = {key for key in base if base[key] != big[key]}
    assert differing == {"name", "description", "sample", "output", "card"}
    assert big["sample"] == {**base["sample"], "size": 90000}
    assert base["seed"] == 20260515 and base["sample"]["test_size"] == 200


def test_published_filters_recipe() -> None:
    recipe = load_recipe(RECIPES / "openr1-math-45k-published.yaml")
    assert [s.name for s in recipe.steps] == ["think_format"]
    assert recipe.steps[0].params_dict()["max_chars"] == 60000
    assert recipe.model.select.strategy == "dataset" and recipe.model.sample is not None
    assert recipe.model.sample.size == 45000


def test_quality_recipe_is_the_45k_chain_with_two_trace_filters() -> None:
    base = load_recipe(RECIPES / "openr1-math-45k.yaml")
    quality = load_recipe(RECIPES / "openr1-math-45k-quality.yaml")
    names = [s.name for s in base.steps]
    at = names.index("think_format") + 1
    assert [s.name for s in quality.steps] == [*names[:at], "repetition", "language_mix", *names[at:]]
    shared = [s for s in quality.steps if s.name in names]
    assert [s.params_dict() for s in shared] == [s.params_dict() for s in base.steps]
    a, b = base.resolved(), quality.resolved()
    assert {key for key in a if a[key] != b[key]} == {"name", "description", "filters", "output", "card"}


def test_shipped_mixed_recipe_runs_on_the_sample_and_a_fixture(tmp_path: Path) -> None:
    fixture = RECIPES.parent / "tests" / "data" / "sources" / "openmathreasoning.jsonl"
    recipe = load_recipe(RECIPES / "openr1-openmathreasoning-mix.yaml").with_overrides(
        named_sources={"openr1": SourceSpec(sample=True, rows=400), "omr": SourceSpec(path=str(fixture))},
        out=str(tmp_path / "mix"),
        allow_smaller=True,
    )
    stats = run_recipe(recipe).stats
    parts = {p["name"]: p for p in stats["sources"]}
    assert parts["omr"]["schema"] == "openmathreasoning" and parts["omr"]["rows"] == 12
    assert [s["filter"] for s in parts["omr"]["funnel"][:2]] == ["question_type", "pass_rate"]
    assert (
        sum(p["train"] + p["test"] for p in parts.values()) == stats["rows"]["train"] + stats["rows"]["test"]
    )
    assert parts["omr"]["pool"] > 0 and parts["openr1"]["pool"] > 0
    card = (tmp_path / "mix" / "README.md").read_text(encoding="utf-8")
    assert (
        "`openr1` (schema `openr1`, weight 2)" in card
        and "`omr` (schema `openmathreasoning`, weight 1)" in card
    )
