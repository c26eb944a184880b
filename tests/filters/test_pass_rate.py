"""`pass_rate`: the loop curate -> eval -> curate through the real commands (suite, scored rollouts, filter),
rate files, a dataset column in OpenMathReasoning's string form, and the one-line errors for bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.engine import run_recipe
from curate.errors import CurateError
from curate.evaluate.pool import write_pool_suite
from curate.evaluate.scoring import score_file
from curate.filters import FilterContext, Row
from curate.filters.pass_rate import PassRate, PassRateParams, parse_rate
from curate.recipe import load_recipe
from curate.synthetic import OPENR1_SCHEMA
from tests import openr1_rows as rows

MISSING = frozenset({"n/a", "", "nan"})


def source(tmp_path: Path, count: int = 8, extra: dict[str, list] | None = None) -> Path:
    table = pa.Table.from_pylist(rows.many(count), schema=OPENR1_SCHEMA)
    for name, values in (extra or {}).items():
        table = table.append_column(name, pa.array(values, pa.string()))
    path = tmp_path / "src.parquet"
    pq.write_table(table, path, row_group_size=3)
    return path


def recipe(tmp_path: Path, src: Path, step: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(
        f"name: r\nsource: {{path: {src}}}\nfilters:\n  - {step}\noutput: {{dir: {tmp_path / 'out'}}}\n",
        encoding="utf-8",
    )
    return path


def rollouts_from_suite(suite: Path, out: Path, solved: dict[str, int], n: int = 4) -> Path:
    """A rollouts.jsonl for the suite's problems in `solved`: `solved[id]` right answers out of `n`."""
    lines = []
    for line in suite.read_text(encoding="utf-8").splitlines():
        problem = json.loads(line)
        if problem["id"] not in solved:
            continue
        k = solved[problem["id"]]
        right = f"<think>\nso\n</think>\n\n\\boxed{{{problem['answer']}}}"
        completions = [right] * k + ["<think>\nso\n</think>\n\n\\boxed{-1}"] * (n - k)
        lines.append(json.dumps({**problem, "completions": completions}))
    out.mkdir(parents=True, exist_ok=True)
    (out / "rollouts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "rollouts.jsonl"


def kept_and_dropped(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    train = pl.read_parquet(tmp_path / "out" / "train.parquet")["uuid"].to_list()
    rejected = pl.read_parquet(tmp_path / "out" / "rejections.parquet")
    return sorted(train), dict(zip(rejected["uuid"].to_list(), rejected["reason"].to_list()))


def test_eval_results_select_rows_by_solve_rate(tmp_path: Path) -> None:
    """curate eval suite -> rollouts -> curate eval score -> pass_rate: rows kept by 1/4..3/4 solved."""
    src = source(tmp_path)
    suite = write_pool_suite(str(src), tmp_path / "pool.jsonl").path
    ids = [json.loads(line)["id"] for line in suite.read_text().splitlines()]
    assert ids == [f"uuid-{i:05d}" for i in range(8)]
    solved = {ident: i % 5 for i, ident in enumerate(ids[:7])}  # ids[7] was never evaluated
    score_file(
        rollouts_from_suite(suite, tmp_path / "runs" / "pool", solved), tmp_path / "runs" / "pool", "exact"
    )
    run_recipe(load_recipe(recipe(tmp_path, src, "pass_rate: {files: [runs/pool], min: 0.25, max: 0.75}")))
    kept, dropped = kept_and_dropped(tmp_path)
    assert kept == sorted(i for i, k in solved.items() if 1 <= k <= 3)
    assert dropped == {
        **{i: "pass_rate_low" for i, k in solved.items() if k == 0},
        **{i: "pass_rate_high" for i, k in solved.items() if k == 4},
        ids[7]: "pass_rate_missing",
    }
    report = json.loads((tmp_path / "out" / "pass_rate_report.json").read_text())
    assert report["source"]["ids_from_scored_completions"] == 7
    assert report["dropped"] == {"pass_rate_high": 1, "pass_rate_low": 2, "pass_rate_missing": 1}


def test_exclusive_bounds_and_keeping_unmeasured_rows(tmp_path: Path) -> None:
    src = source(tmp_path, 4)
    rates = tmp_path / "rates.jsonl"
    rates.write_text(
        "\n".join(
            json.dumps({"uuid": f"uuid-{i:05d}", "pass_rate": r}) for i, r in enumerate([0.1, 0.5, 0.9])
        )
    )
    step = "pass_rate: {files: [rates.jsonl], min: 0.1, max: 0.9, exclusive: true, missing: keep}"
    run_recipe(load_recipe(recipe(tmp_path, src, step)))
    kept, dropped = kept_and_dropped(tmp_path)
    assert kept == ["uuid-00001", "uuid-00003"]
    assert dropped == {"uuid-00000": "pass_rate_low", "uuid-00002": "pass_rate_high"}


def test_dataset_column_in_openmathreasoning_form(tmp_path: Path) -> None:
    """OpenMathReasoning's `pass_rate_72b_tir` is a string: a number out of 32 runs, or "n/a"."""
    values = ["0.59375", "n/a", "0.03125", "1.0", "19/32", None, "0.5", "0.0"]
    src = source(tmp_path, extra={"pass_rate_72b_tir": values})
    run_recipe(
        load_recipe(recipe(tmp_path, src, "pass_rate: {column: pass_rate_72b_tir, min: 0.1, max: 0.9}"))
    )
    kept, dropped = kept_and_dropped(tmp_path)
    assert kept == ["uuid-00000", "uuid-00004", "uuid-00006"]
    assert dropped["uuid-00001"] == dropped["uuid-00005"] == "pass_rate_missing"
    assert dropped["uuid-00002"] == dropped["uuid-00007"] == "pass_rate_low"
    assert dropped["uuid-00003"] == "pass_rate_high"


def test_a_bad_column_value_stops_the_run_naming_the_row(tmp_path: Path) -> None:
    src = source(tmp_path, 3, extra={"pass_rate_72b_tir": ["0.5", "unknown", "0.2"]})
    with pytest.raises(CurateError, match="'unknown' is not a number") as err:
        run_recipe(load_recipe(recipe(tmp_path, src, "pass_rate: {column: pass_rate_72b_tir}")))
    assert "uuid-00001" in str(err.value) and "missing_values" in str(err.value)


def test_missing_column_is_named_before_filtering(tmp_path: Path) -> None:
    src = source(tmp_path, 3)
    with pytest.raises(CurateError, match=r"column 'pass_rate_72b_tir' .*needed by filter 'pass_rate'"):
        run_recipe(load_recipe(recipe(tmp_path, src, "pass_rate: {column: pass_rate_72b_tir}")))


@pytest.mark.parametrize(
    ("value", "rate"),
    [("0.59375", 0.59375), (" 19/32 ", 19 / 32), (1, 1.0), (0.25, 0.25), ("N/A", None), (None, None)],
)
def test_parse_rate(value: object, rate: float | None) -> None:
    assert parse_rate(value, MISSING, "here") == rate


@pytest.mark.parametrize(("value", "message"), [("abc", "not a number"), (1.5, "outside"), (True, "boolean")])
def test_parse_rate_refuses(value: object, message: str) -> None:
    with pytest.raises(CurateError, match=message):
        parse_rate(value, MISSING, "here")


def test_nan_is_not_measured() -> None:
    assert parse_rate(math.nan, MISSING, "here") is None


def test_scored_files_pool_their_completions_and_rate_files_must_agree(tmp_path: Path) -> None:
    for name, correct in (("a", [True, False]), ("b", [True, True])):
        (tmp_path / f"{name}.jsonl").write_text(
            json.dumps({"id": "u1", "dataset": "pool", "correct": correct})
        )
    f = PassRate(PassRateParams(files=["a.jsonl", "b.jsonl"]), FilterContext(recipe_dir=str(tmp_path)))
    f.setup()
    assert f.rates["u1"].rate == 0.75 and f.rates["u1"].total == 4
    pq.write_table(pa.table({"uuid": ["u1"], "pass_rate": [0.5]}), tmp_path / "r1.parquet")
    (tmp_path / "r2.jsonl").write_text(json.dumps({"uuid": "u1", "pass_rate": 0.25}))
    clash = PassRate(
        PassRateParams(files=["r1.parquet", "r2.jsonl"]), FilterContext(recipe_dir=str(tmp_path))
    )
    with pytest.raises(CurateError, match="two different pass rates"):
        clash.setup()


def test_same_id_in_two_eval_datasets_needs_a_choice(tmp_path: Path) -> None:
    lines = [
        {"id": 1, "dataset": "aime2025", "correct": [True]},
        {"id": 1, "dataset": "aime2026", "correct": [False]},
    ]
    (tmp_path / "scored.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    both = PassRate(PassRateParams(files=["scored.jsonl"]), FilterContext(recipe_dir=str(tmp_path)))
    with pytest.raises(CurateError, match="set `dataset`"):
        both.setup()
    params = PassRateParams(files=["scored.jsonl"], dataset="aime2026", min=0.5)
    one = PassRate(params, FilterContext(recipe_dir=str(tmp_path)))
    one.setup()
    assert one.filter(Row(0, {"uuid": "1"})).reason == "pass_rate_low"  # type: ignore[union-attr]


def test_changed_results_change_the_cache_key(tmp_path: Path) -> None:
    rates = tmp_path / "rates.jsonl"
    rates.write_text(json.dumps({"uuid": "u", "pass_rate": 0.5}))
    f = PassRate(PassRateParams(files=["rates.jsonl"]), FilterContext(recipe_dir=str(tmp_path)))
    before = f.fingerprint_extra()
    rates.write_text(json.dumps({"uuid": "u", "pass_rate": 0.25}))
    assert f.fingerprint_extra() != before


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("pass_rate: {files: [nowhere.jsonl]}", "nowhere.jsonl: no such file or folder"),
        ("pass_rate: {files: [runs]}", "a folder without scored.jsonl"),
        ("pass_rate: {}", "give exactly one of `files`"),
        ("pass_rate: {column: c, files: [rates.jsonl]}", "give exactly one of `files`"),
        ("pass_rate: {column: c, min: 0.8, max: 0.2}", "min \\(0.8\\) must be below max"),
        ("pass_rate: {column: c, min: 1.5}", "less than or equal to 1"),
        ("pass_rate: {column: c, missing: skip}", "'drop' or 'keep'"),
    ],
)
def test_validate_rejects_bad_parameters_and_missing_files(tmp_path: Path, step: str, message: str) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "rollouts.jsonl").write_text("")
    (tmp_path / "rates.jsonl").write_text("")
    with pytest.raises(CurateError, match=message) as err:
        load_recipe(recipe(tmp_path, tmp_path / "src.parquet", step))
    assert "r.yaml:4" in str(err.value)
