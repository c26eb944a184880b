"""The split formats: `output.format: jsonl` writes the same rows as the parquet layout, deterministically,
and every reader of an output folder (the card, the Python API, `datasets`) reads either."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import polars as pl
import pytest
import yaml

from curate.engine import RunResult, run_recipe
from curate.errors import CurateError
from curate.outputs import RunOutput
from curate.recipe import load_recipe
from curate.train.dataset import inspect_output
from tests.curate.test_engine import make


def run(tmp_path: Path, fmt: str, out: str) -> Path:
    recipe = make(tmp_path, out=out)
    recipe.write_text(recipe.read_text().replace(f"output: {{dir: {tmp_path / out}}}", f"output: {{dir: {tmp_path / out}, format: {fmt}}}"))
    return run_recipe(load_recipe(recipe)).out_dir


@pytest.fixture(scope="module")
def outs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp_path = tmp_path_factory.mktemp("formats")
    return {name: run(tmp_path, fmt, name) for name, fmt in (("parquet", "parquet"), ("jsonl", "jsonl"), ("again", "jsonl"))}


def test_jsonl_holds_the_parquet_rows(outs: dict[str, Path]) -> None:
    for split in ("train", "test"):
        parquet = pl.read_parquet(outs["parquet"] / f"{split}.parquet").to_dicts()
        lines = (outs["jsonl"] / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == parquet and parquet
        assert list(json.loads(lines[0])) == list(parquet[0])  # columns in schema order
    assert not (outs["jsonl"] / "train.parquet").exists()
    # Rejections stay parquet whatever the splits' format.
    assert (outs["jsonl"] / "rejections.parquet").read_bytes() == (outs["parquet"] / "rejections.parquet").read_bytes()


def test_jsonl_is_deterministic_and_recorded(outs: dict[str, Path]) -> None:
    for name in ("train.jsonl", "test.jsonl", "num_tokens.png"):  # the cards differ in output.dir only
        assert (outs["jsonl"] / name).read_bytes() == (outs["again"] / name).read_bytes(), name
    lock = yaml.safe_load((outs["jsonl"] / "recipe.lock.yaml").read_text())
    assert lock["output"]["format"] == "jsonl"
    # A parquet run's lock is as before `format` existed (its key is left out at the default).
    assert "format" not in yaml.safe_load((outs["parquet"] / "recipe.lock.yaml").read_text())["output"]


def test_the_card_and_datasets_read_jsonl(outs: dict[str, Path]) -> None:
    card = (outs["jsonl"] / "README.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    files = {f["split"]: f["path"] for f in front["configs"][0]["data_files"]}
    assert files == {"train": "train.jsonl", "test": "test.jsonl"}
    loaded = datasets.load_dataset("json", data_files={k: str(outs["jsonl"] / v) for k, v in files.items()})
    assert loaded["train"].num_rows == pl.read_parquet(outs["parquet"] / "train.parquet").height
    assert front["dataset_info"] and "train.jsonl" in card


def test_a_damaged_jsonl_split_is_one_error_line(outs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(outs["jsonl"], copy)
    lines = (copy / "train.jsonl").read_text().splitlines()
    (copy / "train.jsonl").write_text("\n".join([*lines[:2], lines[2][:40], *lines[3:]]) + "\n")
    with pytest.raises(CurateError, match=r"line 3 is not a JSON row"):
        list(RunOutput(copy).split_batches("train"))


def test_train_and_the_api_with_jsonl_splits(outs: dict[str, Path]) -> None:
    # verl's MultiTurnSFTDataset reads parquet: `curate train` says so in one line instead of failing later.
    with pytest.raises(CurateError, match=r"the splits are jsonl files.*reads parquet"):
        inspect_output(outs["jsonl"])
    # The Python API reads either format into the same Dataset.
    from_jsonl = RunResult(outs["jsonl"], {}).train
    from_parquet = RunResult(outs["parquet"], {}).train
    assert from_jsonl.to_polars().equals(from_parquet.to_polars())
