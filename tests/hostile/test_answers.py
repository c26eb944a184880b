"""Hostile answers: normalisation, extraction and judging finish in bounded time on inputs built to be slow.

Each test carries a generous `pytest.mark.timeout`: the assertion that matters is that the call returns at all
(before the fix, `normalize_answer` was quadratic in nesting depth and ran outside the verifier's deadline, so
a completion boxing braces 30,000 deep hung `curate eval score` and a 50 KB nested generation kept
`answer_verify` busy for minutes despite `timeout: 5`).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.engine import run_recipe
from curate.mathcheck import (
    exact_match,
    extract_answer,
    extract_boxed,
    gold_parts,
    normalize_answer,
    parse_choice,
)
from curate.recipe import load_recipe
from tests import openr1_rows as rows

DEPTH = 30_000
THINK = "<think>\nLet me see.\n</think>\n\n"


def nested(kind: str, depth: int) -> str:
    """An answer nested `depth` levels deep, in one of the shapes that were slow."""
    openings = {
        "braces": ("{", "}"),
        "text": ("\\text{", "}"),
        "frac": ("\\frac{1}{", "}"),
        "boxes": ("\\boxed{", "}"),
        "parens": ("\\left(", "\\right)"),
        "escaped": ("\\{", "\\}"),
    }
    opening, closing = openings[kind]
    return opening * depth + "7" + closing * depth


KINDS = ["braces", "text", "frac", "boxes", "parens", "escaped"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", KINDS)
def test_answer_functions_are_linear_in_nesting_depth(kind: str) -> None:
    answer = nested(kind, DEPTH)
    generation = THINK + "So the answer is $\\boxed{" + answer + "}$."
    assert extract_boxed(generation) == answer
    assert extract_answer(generation, "(1, 2)") == answer
    assert normalize_answer(answer)
    assert not exact_match("8", answer)
    assert parse_choice(answer) is None
    assert gold_parts(answer) >= 1
    # unclosed: every opening and no closing, the slowest case for brace matching
    assert extract_boxed(THINK + "\\boxed{" + "{" * 200_000) is None
    assert extract_answer(THINK + "\\boxed{1}, " * 50_000, "1, 2") is not None


def _rollouts(tmp_path: Path) -> Path:
    completions = [THINK + "\\boxed{" + nested(kind, DEPTH) + "}" for kind in KINDS]
    record = {"id": 1, "dataset": "hostile", "answer": "8", "completions": [*completions, THINK + "\\boxed{8}"]}
    path = tmp_path / "rollouts.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


@pytest.mark.timeout(240)
@pytest.mark.parametrize("judge", ["exact", "math-verify"])
def test_eval_score_on_deeply_nested_boxes_returns(tmp_path: Path, judge: str) -> None:
    rollouts = _rollouts(tmp_path)
    out = tmp_path / "scored"
    result = CliRunner().invoke(
        app,
        ["eval", "score", str(rollouts), "--judge", judge, "--judge-timeout", "2", "--workers", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    scored = json.loads((out / "scored.jsonl").read_text(encoding="utf-8"))
    assert scored["correct"] == [False] * len(KINDS) + [True]
    if judge == "math-verify":
        assert set(scored["judge_status"][:-1]) <= {"timeout", "wrong", "pred_unparsable", "error"}


@pytest.mark.timeout(300)
def test_answer_verify_deadline_covers_a_50kb_nested_generation(tmp_path: Path) -> None:
    """Every hostile generation of a row is judged within its deadline; the clean row still passes."""
    hostile = [THINK + "\\boxed{" + nested(kind, 8_000) + "}" for kind in ("braces", "text", "frac", "parens")]
    assert all(len(text) > 50_000 for text in hostile[1:])
    data = [
        rows.row("hostile", "Compute $3+5$.", "8", hostile),
        rows.row("clean", "Compute $6+2$.", "8", [THINK + "\\boxed{8}"]),
    ]
    source = rows.write(tmp_path / "src.parquet", data)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"name: hostile\nsource: {{path: {source}}}\nfilters:\n"
        "  - answer_verify: {mode: reverify, timeout: 2}\n"
        f"executor: {{workers: 1}}\noutput: {{dir: {tmp_path / 'out'}}}\n",
        encoding="utf-8",
    )
    result = run_recipe(load_recipe(recipe), use_cache=False)
    rejected = pl.read_parquet(result.out_dir / "rejections.parquet")
    assert rejected["uuid"].to_list() == ["hostile"]
    assert rejected["reason"][0] in {"verify_timeout", "wrong_answer", "pred_unparsable", "verify_error"}
    assert pl.read_parquet(result.out_dir / "train.parquet")["uuid"].to_list() == ["clean"]
