"""Suites: the bundled benchmarks (T0 = 100 problems) and user jsonl files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.evaluate.suites import load_jsonl_suite, resolve_suite


def test_user_suite(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [
        {"id": "q1", "problem": "What is 2+2?", "answer": "4"},
        {"id": 2, "problem": "Half of 3?", "answer": 1.5, "dataset": "extra"},
        {"id": "q3", "problem": "And 5+5?", "answer": "10"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    problems = resolve_suite(str(path))
    assert [(p.dataset, p.id, p.answer) for p in problems] == [
        ("mine", "q1", "4"),
        ("extra", 2, "1.5"),
        ("mine", "q3", "10"),
    ]
    assert problems[1].key == "extra/2"
    assert [p.id for p in resolve_suite(str(path), limit=1)] == ["q1", 2]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "problem": "p"}', "missing answer"),
        ('{"id": "a", "problem": "", "answer": "1"}', "problem must be"),
        ('{"id": [1], "problem": "p", "answer": "1"}', "id must be"),
        ('{"id": "x", "problem": "p", "answer": "1"}', "duplicate id"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_user_suite_names_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "problem": "p", "answer": "1"}\n' + line + "\n")
    with pytest.raises(CurateError, match=message) as info:
        load_jsonl_suite(path)
    assert f"{path}:2" in str(info.value)


def test_unknown_suite() -> None:
    with pytest.raises(CurateError, match="unknown suite 'aime1999'"):
        resolve_suite("aime1999")


def test_t0_is_the_model_cards_100_problems() -> None:
    problems = resolve_suite("t0")
    datasets = [p.dataset for p in problems]
    assert (datasets.count("aime2025"), datasets.count("aime2026"), datasets.count("amc23")) == (30, 30, 40)
    assert len({p.key for p in problems}) == 100
    assert problems[0].key == "aime2025/2025-I-1" and problems[0].answer == "70"
    assert all(p.answer.strip() and p.problem.strip() for p in problems)
    assert [p.dataset for p in resolve_suite("t0", limit=2)] == ["aime2025"] * 2 + ["aime2026"] * 2 + [
        "amc23"
    ] * 2


def test_benchmark_by_name() -> None:
    assert len(resolve_suite("math500")) == 500
    aime24 = resolve_suite("aime2024")
    assert len(aime24) == 30 and aime24[1].answer == "025"  # kept as published; judging normalises
