"""The bundled benchmark sets, their variant wordings, the T0 suite, and users' evaluation files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate import benchmarks
from curate.errors import CurateError
from curate.evaluate.suites import resolve_suite

SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
SIZES = {
    "aime2024": 30,
    "aime2025": 30,
    "aime2026": 30,
    "amc22": 43,
    "amc23": 40,
    "amc24": 44,
    "math500": 500,
}
VARIANT_FILES = {
    "aime2024": ["aime2024_llmeval", "aime2024_matharena"],
    "aime2025": ["aime2025_llmeval", "aime2025_matharena", "aime2025_opencompass_style"],
    "aime2026": ["aime2026_llmeval"],
    "amc23": ["amc23_rllm_aimo"],
    "math500": ["math500_llmeval"],
}


def test_bundled_files_are_the_shared_ones_byte_for_byte() -> None:
    if not SHARED.exists():
        pytest.skip("shared/benchmarks is not beside this checkout")
    shared = sorted(p.relative_to(SHARED) for p in SHARED.rglob("*") if p.is_file())
    bundled = [p.relative_to(benchmarks.DATA_DIR) for p in benchmarks.data_files()]
    assert bundled == shared and "PROVENANCE.md" in {str(p) for p in bundled}
    for rel in shared:
        assert (benchmarks.DATA_DIR / rel).read_bytes() == (SHARED / rel).read_bytes(), rel


@pytest.mark.parametrize("name", benchmarks.NAMES)
def test_each_benchmark_loads_by_name(name: str) -> None:
    items = benchmarks.canonical(name)
    assert len(items) == SIZES[name]
    assert len({item.id for item in items}) == len(items)
    assert all(item.problem.strip() and item.answer for item in items)
    assert all(item.benchmark == name and item.wording == f"{name}.jsonl" for item in items)
    loaded = benchmarks.load(name)
    assert loaded[: len(items)] == list(items)
    assert benchmarks.load(name, with_variants=False) == list(items)


@pytest.mark.parametrize("name", benchmarks.NAMES)
def test_variants_are_tied_to_their_canonical_item(name: str) -> None:
    wordings = benchmarks.variants(name)
    files = Counter(item.wording for item in wordings)
    assert sorted(files) == sorted(f"variants/{f}.jsonl" for f in VARIANT_FILES.get(name, []))
    by_id = {item.id: item for item in benchmarks.canonical(name)}
    for wording, count in files.items():
        mine = [item for item in wordings if item.wording == wording]
        assert count == len(by_id)  # each variant file covers the whole set...
        assert len({item.id for item in mine}) == count  # ...one wording per canonical item
    for item in wordings:
        assert benchmarks._answer_key(item.answer) == benchmarks._answer_key(by_id[item.id].answer)


def test_known_variant_ties() -> None:
    """Rewritten wordings (low text overlap) still land on the right problem, by answer and overlap."""
    matharena = {w.wording_id: w.id for w in benchmarks.variants("aime2024") if "matharena" in w.wording}
    assert matharena["2024-I-5"] == "2024-I-5" and matharena["2024-II-8"] == "2024-II-8"
    rllm = {w.wording_id: w.id for w in benchmarks.variants("amc23")}
    assert rllm["2023-AMC12A-1"] == "0"


def test_t0_suite() -> None:
    suite = resolve_suite("t0")
    assert len(suite) == 100
    assert Counter(p.dataset for p in suite) == {"aime2025": 30, "aime2026": 30, "amc23": 40}
    assert all(p.problem and p.answer for p in suite)
    first = suite[0]
    assert (str(first.id), first.answer) == ("2025-I-1", "70")
    assert len({p.key for p in suite}) == 100


def test_unknown_benchmark_is_a_user_error() -> None:
    with pytest.raises(CurateError, match=r"unknown benchmark 'aime2023'.*aime2024"):
        benchmarks.load("aime2023")


def test_user_jsonl_and_parquet_files(tmp_path: Path) -> None:
    jsonl = tmp_path / "eval.jsonl"
    jsonl.write_text(
        json.dumps({"id": "q-1", "problem": "Find $x$.", "answer": "3"})
        + "\n\n"
        + json.dumps({"problem": "B?"})
        + "\n"
    )
    items = benchmarks.load_file(jsonl)
    assert [(i.benchmark, i.id, i.problem, i.answer) for i in items] == [
        ("eval.jsonl", "q-1", "Find $x$.", "3"),
        ("eval.jsonl", "3", "B?", None),
    ]
    parquet = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"problem": ["P one", "P two"], "answer": ["1", "2"]}), parquet)
    items = benchmarks.load_file(parquet, label="mine")
    assert [(i.benchmark, i.id, i.answer) for i in items] == [("mine", "1", "1"), ("mine", "2", "2")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"problem": "ok"}\n{"problem": \n', r"bad.jsonl:2: not valid JSON"),
        ("noproblem.jsonl", '{"question": "x"}\n', r"noproblem.jsonl:1: no `problem` string"),
        ("list.jsonl", "[1, 2]\n", r"list.jsonl:1: line is not a JSON object"),
        ("eval.csv", "problem\nx\n", r"unsupported file type \.csv"),
    ],
)
def test_bad_user_files_name_file_and_line(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CurateError, match=message):
        benchmarks.load_file(path)


def test_parquet_without_problem_column_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "q.parquet"
    pq.write_table(pa.table({"question": ["x"]}), path)
    with pytest.raises(CurateError, match=r"no `problem` column; columns: question"):
        benchmarks.load_file(path)
    with pytest.raises(CurateError, match=r"absent.jsonl: file not found"):
        benchmarks.load_file(tmp_path / "absent.jsonl")
