"""Mixed recipes end to end: OpenR1-shaped files beside OpenMathReasoning-shaped ones. Duplicates and benchmark
copies are removed across sources by the stated survivor rule, the draw is nested and does not depend on the
order of `sources:`, the per-source counts add up, and the card shows each source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from curate import benchmarks
from curate.engine import run_recipe
from curate.errors import CurateError
from curate.mix import check_headers
from curate.recipe import load_recipe
from tests import openr1_rows as rows

AIME = benchmarks.canonical("aime2025")[0]


def omr_row(problem: str, answer: str, reasoning: str) -> dict[str, Any]:
    """One row in nvidia/OpenMathReasoning's published `cot` schema."""
    return {
        "expected_answer": answer,
        "problem_type": "has_answer_extracted",
        "problem_source": "aops_c4_high_school_math",
        "generation_model": "DeepSeek-R1",
        "pass_rate_72b_tir": "0.5",
        "problem": problem,
        "generated_solution": rows.trace(reasoning, answer),
        "inference_mode": "cot",
        "used_in_kaggle": False,
    }


def omr_rows(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        a, b = 11 * i + 5, 3 * i + 2
        problem = (
            f"A bag holds {a} red marbles and {b} blue ones; how many marbles ({i}) are in the bag in all?"
        )
        out.append(omr_row(problem, str(a + b), f"There are {a} + {b} = {a + b} marbles."))
    return out


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    openr1 = rows.many(80)
    rows.write(tmp_path / "openr1.parquet", openr1)
    clean = omr_rows(60)
    copy = omr_row(openr1[5]["problem"], openr1[5]["answer"], "Solving, x = " + openr1[5]["answer"] + ".")
    leaked = omr_row(AIME.problem, AIME.answer, "Working through the cases gives " + AIME.answer + ".")
    mixed = [*clean[:30], copy, leaked, *clean[30:]]
    for name, data in (("omr.jsonl", mixed), ("omr-clean.jsonl", clean)):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    return {
        "openr1": tmp_path / "openr1.parquet",
        "omr": tmp_path / "omr.jsonl",
        "clean": tmp_path / "omr-clean.jsonl",
    }


def recipe(
    tmp_path: Path, name: str, files: dict[str, Path], *, size: int, omr: str = "omr", first: str = "openr1"
):
    sources = {
        "openr1": f"  - name: openr1\n    path: {files['openr1']}\n    weight: 2\n"
        "    filters:\n      - correctness_count: {min: 1}\n",
        "omr": f"  - name: omr\n    path: {files[omr]}\n    schema: openmathreasoning\n    weight: 1\n",
    }
    order = [first, *(s for s in sources if s != first)]
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nsources:\n"
        + "".join(sources[s] for s in order)
        + "seed: 3\nfilters:\n  - exact_dedup: {prefer_correct: false}\n  - decontaminate: {}\n"
        f"  - think_format: {{}}\nsample:\n  size: {size}\n  test_size: 10\noutput:\n  dir: {tmp_path / name}\n",
        encoding="utf-8",
    )
    return load_recipe(path)


def uuids(out: Path, split: str) -> set[str]:
    return set(pl.read_parquet(out / f"{split}.parquet")["uuid"].to_list())


def test_duplicates_and_benchmark_copies_are_removed_across_sources(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    result = run_recipe(recipe(tmp_path, "mix", files, size=30))
    rejected = pl.read_parquet(tmp_path / "mix" / "rejections.parquet").filter(pl.col("filter") != "sample")
    assert sorted(rejected["filter"].to_list()) == ["decontaminate", "exact_dedup"]
    dedup = rejected.filter(pl.col("filter") == "exact_dedup").row(0, named=True)
    assert "uuid-00005" in dedup["detail"] and dedup["uuid"].startswith(
        "omr:"
    )  # the first-listed source wins
    assert rejected.filter(pl.col("filter") == "decontaminate")["uuid"].item().startswith("omr:")
    # listed the other way round, the OpenMathReasoning copy survives instead
    run_recipe(recipe(tmp_path, "reversed", files, size=30, first="omr"))
    flipped = pl.read_parquet(tmp_path / "reversed" / "rejections.parquet").filter(
        pl.col("filter") == "exact_dedup"
    )
    assert flipped["uuid"].to_list() == ["uuid-00005"]
    stats = result.stats
    parts = {p["name"]: p for p in stats["sources"]}
    assert [p["rows"] for p in stats["sources"]] == [80, 62]
    assert sum(p["train"] for p in parts.values()) == stats["rows"]["train"] == 30
    assert sum(p["test"] for p in parts.values()) == stats["rows"]["test"] == 10
    assert sum(p["pool"] for p in parts.values()) == stats["rows"]["pool"]
    assert abs(parts["openr1"]["train"] - 20) <= 1  # weights 2 : 1
    funnel = {step["filter"]: step for step in parts["omr"]["funnel"]}
    assert funnel["exact_dedup"]["dropped"] == {"duplicate": 1}
    assert funnel["decontaminate"]["dropped"] == {"contaminated": 1}
    assert parts["openr1"]["funnel"][0]["filter"] == "correctness_count"
    train = pl.read_parquet(tmp_path / "mix" / "train.parquet")
    assert set(train["dataset"].to_list()) == {"openr1", "omr"}
    card = (tmp_path / "mix" / "README.md").read_text(encoding="utf-8")
    assert "## Sources" in card and "### Funnel by source" in card
    assert "`omr` (schema `openmathreasoning`, weight 1)" in card


def test_draw_is_nested_and_independent_of_the_order_of_sources(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    small = recipe(tmp_path, "small", files, size=20, omr="clean")
    big = recipe(tmp_path, "big", files, size=40, omr="clean")
    flipped = recipe(tmp_path, "flipped", files, size=40, omr="clean", first="omr")
    for r in (small, big, flipped):
        run_recipe(r)
    assert uuids(tmp_path / "small", "train") < uuids(tmp_path / "big", "train")
    assert uuids(tmp_path / "small", "test") == uuids(tmp_path / "big", "test")
    assert not uuids(tmp_path / "big", "test") & uuids(tmp_path / "big", "train")
    for split in ("train", "test"):
        assert uuids(tmp_path / "flipped", split) == uuids(tmp_path / "big", split)
    first = (tmp_path / "big" / "train.parquet").read_bytes()
    run_recipe(big.with_overrides(out=str(tmp_path / "again")))
    assert (tmp_path / "again" / "train.parquet").read_bytes() == first


def test_a_source_short_of_its_share_is_an_error_unless_allowed(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    short = recipe(tmp_path, "short", files, size=120, omr="clean")
    with pytest.raises(
        CurateError, match=r"source 'openr1' has 80 rows in the pool: 73 train rows, short of its share"
    ):
        run_recipe(short)
    result = run_recipe(short.with_overrides(allow_smaller=True))
    parts = {p["name"]: p for p in result.stats["sources"]}
    assert (
        result.stats["rows"]["train"] == 120 and parts["openr1"]["train"] == 73
    )  # the other source filled in


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: {k: v for k, v in r.items() if k != "generated_solution"},
            "column 'generated_solution' is missing",
        ),
        (
            lambda r: {**r, "expected_answer": 7},
            "column 'expected_answer' is int64, but schema 'openmathreasoning'",
        ),
    ],
)
def test_missing_or_mistyped_column_is_one_error_naming_source_file_and_column(
    tmp_path: Path, files: dict[str, Path], change: Any, expected: str
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(json.dumps(change(r)) + "\n" for r in omr_rows(5)), encoding="utf-8")
    loaded = recipe(tmp_path, "broken", {**files, "clean": broken}, size=4, omr="clean")
    for check in (
        check_headers,
        run_recipe,
    ):  # `curate validate` from the file's first rows, `curate run` from all
        with pytest.raises(CurateError) as info:
            check(loaded)
        message = str(info.value)
        assert message.startswith(f"{broken}: source 'omr': ") and expected in message
        assert "\n" not in message
    assert not (tmp_path / "broken").exists()
