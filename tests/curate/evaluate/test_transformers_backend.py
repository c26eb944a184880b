"""`curate eval run --backend transformers` end to end on CPU: a tiny random Qwen3 with the real tokenizer,
two problems x two rollouts, then scoring; resuming after an interruption regenerates only what is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import CurateError
from curate.evaluate.prompts import INSTRUCTION

MAX_TOKENS = 5


def run(model: Path, suite: Path, out: Path, *extra: str):
    args = [
        "eval", "run", "--backend", "transformers", "--model", str(model), "--suite", str(suite),
        "--rollouts", "2", "--max-tokens", str(MAX_TOKENS), "--judge", "exact", "--out", str(out), *extra,
    ]  # fmt: skip
    return CliRunner().invoke(app, args)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def full_run(tiny_qwen3: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.curate.evaluate.conftest import SUITE

    folder = tmp_path_factory.mktemp("full")
    suite = folder / "mini.jsonl"
    suite.write_text("".join(json.dumps(row) + "\n" for row in SUITE))
    result = run(tiny_qwen3, suite, folder / "out")
    assert result.exit_code == 0, result.output
    return folder / "out"


def test_end_to_end(full_run: Path, tiny_qwen3: Path) -> None:
    from transformers import AutoTokenizer

    records = lines(full_run / "rollouts.jsonl")
    assert [(r["dataset"], r["id"]) for r in records] == [("mini", "p1"), ("mini", 7)]
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen3)
    for record in records:
        assert len(record["completions"]) == 2
        assert record["prompt"] == (
            f"<|im_start|>user\n{record['problem']}\n{INSTRUCTION}<|im_end|>\n<|im_start|>assistant\n"
        )
        for text, reason, count in zip(record["completions"], record["finish_reasons"], record["num_tokens"]):
            assert reason in ("stop", "length")
            assert count == MAX_TOKENS if reason == "length" else count <= MAX_TOKENS
            assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= count
    scored = lines(full_run / "scored.jsonl")
    # five random tokens never close a think block: nothing to judge, every rollout wrong
    assert all(s["judge_status"] == ["no_answer", "no_answer"] for s in scored)
    metrics = json.loads((full_run / "metrics.json").read_text())
    assert metrics["overall"]["problems"] == 2 and metrics["overall"]["rollouts"] == 2
    assert metrics["overall"]["pass@1"] == 0.0 and metrics["overall"]["no_answer"] == 1.0
    settings = json.loads((full_run / "run.json").read_text())["settings"]
    assert settings["rollouts"] == 2 and settings["max_tokens"] == MAX_TOKENS and settings["top_k"] == 20


def test_same_settings_same_rollouts(
    full_run: Path, tiny_qwen3: Path, suite_file: Path, tmp_path: Path
) -> None:
    result = run(tiny_qwen3, suite_file, tmp_path / "again")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again" / "rollouts.jsonl").read_bytes() == (full_run / "rollouts.jsonl").read_bytes()


def test_resume_generates_only_missing_problems(
    full_run: Path, tiny_qwen3: Path, suite_file: Path, tmp_path: Path
) -> None:
    """An interrupted run: run.json, the first problem's line (marked, to prove it is not regenerated) and a
    torn half line of the second, as a kill during the write would leave."""
    first, second = (full_run / "rollouts.jsonl").read_text().splitlines()
    out = tmp_path / "resumed"
    shutil.copytree(full_run / ".curate", out / ".curate")  # curate's marker: the folder is an eval run's
    (out / "run.json").write_bytes((full_run / "run.json").read_bytes())
    marked = json.loads(first)
    marked["completions"] = ["kept 1", "kept 2"]
    (out / "rollouts.jsonl").write_text(json.dumps(marked) + "\n" + second[: len(second) // 2])
    result = run(tiny_qwen3, suite_file, out)
    assert result.exit_code == 0, result.output
    resumed = (out / "rollouts.jsonl").read_text().splitlines()
    assert json.loads(resumed[0])["completions"] == ["kept 1", "kept 2"]
    # the missing problem draws exactly what the uninterrupted run drew: seeds are per problem
    assert resumed[1] == second
    assert len(resumed) == 2


def test_resume_with_other_settings_is_refused(
    full_run: Path, tiny_qwen3: Path, suite_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "copy"
    shutil.copytree(full_run / ".curate", out / ".curate")
    for name in ("run.json", "rollouts.jsonl"):
        (out / name).write_bytes((full_run / name).read_bytes())
    result = run(tiny_qwen3, suite_file, out, "--temperature", "1.0")
    assert isinstance(result.exception, CurateError)
    assert "temperature: 0.6 -> 1.0" in str(result.exception)
    assert (out / "rollouts.jsonl").read_bytes() == (full_run / "rollouts.jsonl").read_bytes()


def test_t0_suite_smoke(tiny_qwen3: Path, tmp_path: Path) -> None:
    """The first problem of each T0 benchmark, one rollout each: the model card's datasets, in its order."""
    args = [
        "eval", "run", "--backend", "transformers", "--model", str(tiny_qwen3), "--suite", "t0", "--limit", "1",
        "--rollouts", "1", "--max-tokens", "2", "--judge", "exact", "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    records = lines(tmp_path / "out" / "rollouts.jsonl")
    assert [(r["dataset"], r["id"], r["answer"]) for r in records] == [
        ("aime2025", "2025-I-1", "70"),
        ("aime2026", "2026-I-1", "277"),
        ("amc23", "0", "27"),
    ]
    assert all(r["num_tokens"] == [2] or r["finish_reasons"] == ["stop"] for r in records)
    for name in ("AIME 2025", "AIME 2026", "AMC 2023", "overall"):
        assert name in result.output


def test_greedy_rollouts_are_one_decode_repeated(tiny_qwen3: Path, suite_file: Path, tmp_path: Path) -> None:
    result = run(tiny_qwen3, suite_file, tmp_path / "greedy", "--temperature", "0", "--limit", "1")
    assert result.exit_code == 0, result.output
    [record] = lines(tmp_path / "greedy" / "rollouts.jsonl")
    assert len(record["completions"]) == 2 and record["completions"][0] == record["completions"][1]
