"""The Python API: recipes loaded from files or dicts, run from Python, and one filter over data in memory,
checked against what `curate run` writes and decides for the same rows."""

from __future__ import annotations

import re
from pathlib import Path

import datasets
import polars as pl
import pyarrow.parquet as pq
import pytest

import curate
from curate.engine import run_recipe
from curate.errors import CurateError
from curate.outputs import SPLIT_SCHEMA
from curate.recipe import load_recipe as load_recipe_file
from curate.synthetic import generate
from tests import openr1_rows as rows

RECIPE = {
    "name": "api-test",
    "seed": 3,
    "source": {"sample": True, "rows": 400},
    "filters": [
        {"source": {"exclude": ["cn_k12"]}},
        {"exact_dedup": {}},
        {"is_reasoning_complete": {}},
        {"think_format": {}},
    ],
    "sample": {"test_size": 10},
    "output": {"dir": "unused"},
}


@pytest.fixture(scope="module")
def sample_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded sample's rows as a parquet file, for runs and for filters applied in memory."""
    path = tmp_path_factory.mktemp("sample") / "sample.parquet"
    pq.write_table(generate(400, seed=0), path)
    return path


def test_a_dict_recipe_runs_and_returns_its_splits(tmp_path: Path) -> None:
    result = curate.load_recipe(RECIPE).run(out=tmp_path / "out")
    train, test = result.train, result.test
    assert isinstance(train, datasets.Dataset) and isinstance(test, datasets.Dataset)
    assert (train.num_rows, test.num_rows) == (result.stats["rows"]["train"], result.stats["rows"]["test"]) != (0, 0)
    assert train.data.table.schema.equals(SPLIT_SCHEMA)
    assert train.to_polars().equals(pl.read_parquet(tmp_path / "out" / "train.parquet"))
    assert train[0]["messages"][0]["role"] == "user"
    rejections = result.rejections
    assert isinstance(rejections, pl.DataFrame)
    assert rejections.equals(pl.read_parquet(tmp_path / "out" / "rejections.parquet"))
    funnel = {e["filter"]: e for e in result.stats["funnel"]}
    by_filter = rejections.group_by("filter").len()
    for name, count in by_filter.iter_rows():
        if name in funnel:
            assert sum(funnel[name]["dropped"].values()) == count


def test_python_and_command_line_runs_write_the_same_bytes(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: api-test\nseed: 3\nsource: {sample: true, rows: 400}\nfilters:\n  - source: {exclude: [cn_k12]}\n"
        "  - exact_dedup: {}\n  - is_reasoning_complete: {}\n  - think_format: {}\n"
        f"sample: {{test_size: 10}}\noutput: {{dir: {tmp_path / 'cli'}}}\n"
    )
    cli = run_recipe(load_recipe_file(recipe))
    from_file = curate.load_recipe(recipe).run(out=tmp_path / "file")
    from_dict = curate.load_recipe(RECIPE).run(out=tmp_path / "dict")
    for name in ("train.parquet", "test.parquet", "rejections.parquet"):
        data = (cli.out_dir / name).read_bytes()
        assert (from_file.out_dir / name).read_bytes() == data == (from_dict.out_dir / name).read_bytes(), name


def test_run_takes_a_source_override(tmp_path: Path, sample_parquet: Path) -> None:
    recipe = curate.load_recipe(RECIPE)
    by_path = recipe.run(source=str(sample_parquet), out=tmp_path / "a")
    by_mapping = recipe.run(source={"path": str(sample_parquet)}, out=tmp_path / "b")
    assert by_path.stats["source"]["kind"] == "path" == by_mapping.stats["source"]["kind"]
    assert by_path.train.to_polars().equals(by_mapping.train.to_polars())
    with pytest.raises(CurateError, match=r"source: .*exactly one of"):
        recipe.run(source={"path": "x.parquet", "sample": True}, out=tmp_path / "c")


def test_a_dict_recipe_extends_a_file(tmp_path: Path) -> None:
    parent = tmp_path / "base.yaml"
    parent.write_text(
        "name: base\nsource: {dataset: open-r1/OpenR1-Math-220k}\nfilters:\n  - think_format: {}\n"
        "output: {dir: out}\n"
    )
    loaded = curate.load_recipe({"extends": "base.yaml", "source": {"sample": True}}, base_dir=tmp_path)
    assert loaded.recipe.model.source.kind == "sample" and loaded.filters == ["think_format"]
    with pytest.raises(CurateError, match="unknown filter 'think_fromat'"):
        curate.load_recipe({**RECIPE, "filters": [{"think_fromat": {}}]})


def drops_of_run(tmp_path: Path, source: Path, name: str, params: str = "{}") -> set[str]:
    """The uuids `curate run` drops with the single filter `name` over `source`."""
    recipe = tmp_path / f"{name}.yaml"
    recipe.write_text(
        f"name: one\nsource: {{path: {source}}}\nfilters:\n  - {name}: {params}\nsample: {{test_size: 0}}\n"
        f"output: {{dir: {tmp_path / name}}}\n"
    )
    run_recipe(load_recipe_file(recipe))
    rejected = pl.read_parquet(tmp_path / name / "rejections.parquet")
    return set(rejected.filter(pl.col("filter") == name)["uuid"])


@pytest.mark.parametrize(
    ("name", "params"),
    [("think_format", {}), ("exact_dedup", {}), ("source", {"exclude": ["cn_k12"]}), ("repetition", {})],
)
def test_one_filter_on_a_frame_drops_what_a_run_drops(
    tmp_path: Path, sample_parquet: Path, name: str, params: dict
) -> None:
    frame = pl.read_parquet(sample_parquet)
    result = curate.apply_filter(name, frame, params)
    assert isinstance(result.kept, pl.DataFrame) and isinstance(result.dropped, pl.DataFrame)
    assert result.kept.height + result.dropped.height == frame.height
    dropped = set(result.dropped["uuid"])
    yaml_params = "{" + ", ".join(f"{k}: [{', '.join(v)}]" for k, v in params.items()) + "}"
    assert dropped == drops_of_run(tmp_path, sample_parquet, name, yaml_params)
    assert dropped, f"the sample plants rows {name} drops"
    if name in ("think_format", "repetition"):  # a trace filter counts generations, as a run's stats do
        assert result.stats["seen"] > frame.height and result.stats["kept"] >= result.kept.height
    else:
        assert result.stats["seen"] == frame.height and result.stats["kept"] == result.kept.height
        assert sum(result.stats["dropped"].values()) == len(dropped)
    assert result.dropped["drop_reason"].null_count() == 0
    assert result.verdicts.height == frame.height


def test_one_filter_on_a_dataset_keeps_its_features(sample_parquet: Path) -> None:
    dataset = datasets.Dataset.from_polars(pl.read_parquet(sample_parquet))
    result = curate.apply_filter("is_reasoning_complete", dataset)
    assert isinstance(result.kept, datasets.Dataset) and result.kept.features == dataset.features
    assert result.kept.num_rows + result.dropped.num_rows == dataset.num_rows
    assert result.dropped.num_rows > 0 and set(result.dropped["drop_reason"]) == {"incomplete"}
    # A trace filter reports the generation each kept row would get, in `select` order.
    chosen = result.verdicts.filter(pl.col("kept"))["generation"]
    assert chosen.min() >= 0 and result.verdicts.filter(~pl.col("kept"))["generation"].to_list() == [-1] * result.dropped.num_rows


def test_select_order_decides_the_generation(tmp_path: Path) -> None:
    short, long = rows.trace("short", "9"), rows.trace("a much longer line of reasoning here", "9")
    frame = pl.read_parquet(rows.write(tmp_path / "two.parquet", [rows.row("a", "Find 4+5.", "9", [long, short])]))
    first = curate.apply_filter("think_format", frame).verdicts["generation"].to_list()
    shortest = curate.apply_filter("think_format", frame, select="shortest").verdicts["generation"].to_list()
    assert (first, shortest) == ([0], [1])


def test_one_filter_errors_are_one_line(sample_parquet: Path) -> None:
    frame = pl.read_parquet(sample_parquet)
    with pytest.raises(CurateError, match=r"reads column.*source.*which the data does not have"):
        curate.apply_filter("source", frame.drop("source"), {"exclude": ["cn_k12"]})
    with pytest.raises(CurateError, match=r"source\.exclude"):
        curate.apply_filter("source", frame, {"exclude": 3})
    with pytest.raises(CurateError, match="not list"):
        curate.apply_filter("source", [1, 2])  # type: ignore[arg-type]


def readme_python_api() -> list[str]:
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("### Python API", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = readme_python_api()
    assert blocks, "the README's Python API section has an example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.train.num_rows == result.stats["rows"]["train"] > 0
    assert (tmp_path / "out" / "notebook-demo" / "train.parquet").is_file()
