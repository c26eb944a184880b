"""End-to-end runs of the engine on small OpenR1-shaped parquet files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from curate.engine import run_recipe
from curate.errors import CurateError
from curate.outputs import SPLIT_SCHEMA
from curate.recipe import load_recipe
from curate.tokenizers import load_counter
from tests import openr1_rows as rows

RECIPE = """\
name: engine-test
source: {{path: {source}}}
seed: 11
filters:
  - source: {{exclude: [cn_k12]}}
  - is_reasoning_complete: {{}}
  - finish_reason: {{allowed: [stop]}}
select: {select}
sample: {sample}
output: {{dir: {out}}}
"""


def corpus() -> list[dict]:
    data = rows.many(40)
    data += rows.many(6, start=100, source="cn_k12")
    data += rows.many(4, start=200, complete=[False, False])
    data += rows.many(3, start=300, finish=["length", "length"])
    short, long = rows.trace("short", "9"), rows.trace("a much longer line of reasoning here", "9")
    data.append(rows.row("pick-a", "Find 4+5.", "9", [long, short]))
    data.append(rows.row("pick-b", "Find 3+6.", "9", [long, short], complete=[True, False]))
    data.append(rows.row("empty", "Find 2+7.", "9", []))
    return data


def make(
    tmp_path: Path, *, select: str = "shortest", size: int | None = 30, out: str = "out", data=None
) -> Path:
    source = rows.write(tmp_path / "src.parquet", data if data is not None else corpus())
    recipe = tmp_path / "recipe.yaml"
    sample = f"{{size: {size}, test_size: 5}}" if size else "{test_size: 0}"
    recipe.write_text(RECIPE.format(source=source, select=select, sample=sample, out=tmp_path / out))
    return recipe


def outputs(out: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(out / f"{name}.parquet") for name in ("train", "test", "rejections")}


def test_writes_verl_ready_outputs(tmp_path: Path) -> None:
    result = run_recipe(load_recipe(make(tmp_path)))
    out = result.out_dir
    for name in ("train.parquet", "test.parquet", "rejections.parquet", "stats.json", "recipe.lock.yaml"):
        assert (out / name).exists(), name
    assert pq.read_schema(out / "train.parquet").equals(SPLIT_SCHEMA)
    frames = outputs(out)
    train = frames["train"]
    assert train.height == 30 and frames["test"].height == 5
    counter = load_counter("qwen3")
    for record in train.iter_rows(named=True):
        messages = record["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert messages[1]["content"].startswith("<think>\n") and "\n</think>\n\n" in messages[1]["content"]
        assert record["data_source"] == "openr1_math"
        assert record["num_tokens"] == counter.count_messages(messages)
    lock = (out / "recipe.lock.yaml").read_text()
    assert "xxh3_128" in lock and "seed: 11" in lock


def test_every_source_row_is_accounted_for_once(tmp_path: Path) -> None:
    data = corpus()
    run_recipe(load_recipe(make(tmp_path, data=data)))
    frames = outputs(tmp_path / "out")
    placed = frames["train"]["uuid"].to_list() + frames["test"]["uuid"].to_list()
    rejected = frames["rejections"]["uuid"].to_list()
    assert sorted(placed + rejected) == sorted(r["uuid"] for r in data)
    assert not set(placed) & set(rejected)


def test_funnel_and_reasons(tmp_path: Path) -> None:
    stats = run_recipe(load_recipe(make(tmp_path))).stats
    funnel = {entry["filter"]: entry for entry in stats["funnel"]}
    assert funnel["source"]["dropped"] == {"excluded": 6}
    assert funnel["source"]["rows_in"] == 56 and funnel["source"]["rows_out"] == 50
    assert funnel["is_reasoning_complete"]["dropped"] == {"incomplete": 4, "no_generations": 1}
    assert funnel["finish_reason"]["dropped"] == {"finish_length": 3}
    assert funnel["sample"]["rows_in"] == stats["rows"]["pool"] == 42
    rejections = outputs(tmp_path / "out")["rejections"]
    by_uuid = {r["uuid"]: r for r in rejections.iter_rows(named=True)}
    assert by_uuid["uuid-00100"]["filter"] == "source"
    assert by_uuid["uuid-00200"]["reason"] == "incomplete"
    assert by_uuid["empty"]["reason"] == "no_generations"
    assert by_uuid["uuid-00300"]["detail"] == "generation 0: finish_reason='length'"


def test_trace_chain_is_lazy(tmp_path: Path) -> None:
    """Where the preferred generation passes, the others are never checked."""
    stats = run_recipe(load_recipe(make(tmp_path))).stats
    funnel = {entry["filter"]: entry for entry in stats["funnel"]}
    checked = funnel["is_reasoning_complete"]["generations"]
    # 40 good rows + pick-a: one generation each; pick-b: the short one fails, the long one passes;
    # 4 incomplete rows: both tried; 3 truncated rows: both tried (each complete, each cut by length).
    assert checked["seen"] == 40 + 1 + 2 + 4 * 2 + 3 * 2
    assert checked["dropped"] == {"incomplete": 1 + 8}
    assert funnel["finish_reason"]["generations"]["seen"] == 40 + 1 + 1 + 3 * 2


@pytest.mark.parametrize(
    ("select", "picked_a", "picked_b"), [("shortest", 1, 0), ("first", 0, 0), ("longest", 0, 0)]
)
def test_select_strategies(tmp_path: Path, select: str, picked_a: int, picked_b: int) -> None:
    run_recipe(load_recipe(make(tmp_path, select=select, size=None)))
    train = outputs(tmp_path / "out")["train"]
    index = dict(zip(train["uuid"].to_list(), train["generation_index"].to_list()))
    assert index["pick-a"] == picked_a
    assert index["pick-b"] == picked_b


def test_select_dataset_uses_messages_choice(tmp_path: Path) -> None:
    data = rows.many(10)
    chosen = data[0]["generations"][1]
    data[0]["messages"][1]["content"] = chosen
    data[1]["messages"][1]["content"] = "a trace that is not among the generations"
    recipe = make(tmp_path, select="dataset", size=None, data=data)
    run_recipe(load_recipe(recipe))
    frames = outputs(tmp_path / "out")
    index = dict(zip(frames["train"]["uuid"].to_list(), frames["train"]["generation_index"].to_list()))
    assert index["uuid-00000"] == 1 and index["uuid-00002"] == 0
    assert "uuid-00001" not in index


def test_same_recipe_twice_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = make(tmp_path)
    first = run_recipe(load_recipe(recipe), use_cache=False).out_dir
    snapshot = {p.name: p.read_bytes() for p in first.iterdir() if p.is_file() and p.name != "stats.json"}
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "other-cache"))
    second = run_recipe(load_recipe(recipe)).out_dir
    assert {
        p.name: p.read_bytes() for p in second.iterdir() if p.is_file() and p.name != "stats.json"
    } == snapshot


def test_unchanged_steps_come_from_cache(tmp_path: Path) -> None:
    recipe = make(tmp_path)
    run_recipe(load_recipe(recipe))
    again = run_recipe(load_recipe(recipe)).stats
    assert all(entry.get("cached", True) for entry in again["funnel"] if entry["filter"] != "sample")
    recipe.write_text(recipe.read_text().replace("allowed: [stop]", "allowed: [stop, length]"))
    edited = {e["filter"]: e for e in run_recipe(load_recipe(recipe)).stats["funnel"]}
    assert edited["source"]["cached"] is True
    assert edited["finish_reason"]["cached"] is False and edited["finish_reason"]["dropped"] == {}


def test_failed_run_leaves_previous_output_untouched(tmp_path: Path) -> None:
    recipe = make(tmp_path)
    out = run_recipe(load_recipe(recipe)).out_dir
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    recipe.write_text(recipe.read_text().replace("size: 30", "size: 5000"))
    with pytest.raises(CurateError, match="fewer than the 5005 requested"):
        run_recipe(load_recipe(recipe))
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_missing_column_is_one_clear_error(tmp_path: Path) -> None:
    recipe = make(tmp_path)
    table = pq.read_table(tmp_path / "src.parquet").drop(["is_reasoning_complete"])
    pq.write_table(table, tmp_path / "src.parquet")
    with pytest.raises(CurateError) as info:
        run_recipe(load_recipe(recipe))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'src.parquet'}: column 'is_reasoning_complete' is missing (needed by filter")
    assert "\n" not in message


def test_corrupt_parquet_is_one_clear_error(tmp_path: Path) -> None:
    recipe = make(tmp_path)
    (tmp_path / "src.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CurateError, match=r"src.parquet: not a readable parquet file"):
        run_recipe(load_recipe(recipe))


def test_jsonl_source(tmp_path: Path) -> None:
    data = rows.many(20)
    jsonl = tmp_path / "src.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in data))
    recipe = make(tmp_path, size=10)
    recipe.write_text(recipe.read_text().replace(str(tmp_path / "src.parquet"), str(jsonl)))
    stats = run_recipe(load_recipe(recipe)).stats
    assert stats["rows"] == {"source": 20, "pool": 20, "train": 10, "test": 5}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *args], cwd=cwd, capture_output=True, text=True
    )


def test_cli_reports_user_mistakes_in_one_line(tmp_path: Path) -> None:
    recipe = make(tmp_path)
    recipe.write_text(recipe.read_text().replace("finish_reason:", "finish_reasn:"))
    done = cli("run", str(recipe), cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "recipe.yaml:7: unknown filter 'finish_reasn'" in lines[0] and "'finish_reason'" in lines[0]


def test_cli_run_and_inspect(tmp_path: Path) -> None:
    recipe = make(tmp_path)
    done = cli("run", str(recipe), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "train 30, test 5 (pool 42 of 56)" in done.stdout
    shown = cli("inspect", str(tmp_path / "out"), "-n", "1", cwd=tmp_path)
    assert (
        shown.returncode == 0 and "is_reasoning_complete" in shown.stdout and "incomplete: 4" in shown.stdout
    )


def test_lock_file_reruns_to_the_same_data(tmp_path: Path) -> None:
    first = run_recipe(load_recipe(make(tmp_path))).out_dir
    again = run_recipe(load_recipe(first / "recipe.lock.yaml").with_overrides(out=str(tmp_path / "again")))
    for name in ("train.parquet", "test.parquet", "rejections.parquet"):
        assert (again.out_dir / name).read_bytes() == (first / name).read_bytes()
