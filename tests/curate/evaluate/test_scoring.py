"""Scoring hand-checked completions: extraction after </think>, both judges, metrics and the CLI table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import CurateError
from curate.evaluate.report import print_metrics
from curate.evaluate.scoring import read_rollouts, score_file
from tests import scripts

THINK = "<think>\nWork it out.\n</think>\n\n"
ROLLOUTS = [
    {
        "id": "2025-I-1",
        "dataset": "aime2025",
        "answer": "70",
        "completions": [
            # a box inside the reasoning does not count; the last one after </think> does
            "<think>\nMaybe \\boxed{69}? No.\n</think>\n\nThe sum is \\boxed{70}.",
            # equal to 70 for math-verify, not for exact match
            THINK + "So the answer is $\\boxed{\\frac{140}{2}}$",
            # truncated inside the reasoning: wrong although it boxed the right value there
            "<think>\nI am fairly sure it is \\boxed{70} but let me check",
            THINK + "\\boxed{71}",
        ],
        "finish_reasons": ["stop", "stop", "length", "stop"],
        "num_tokens": [120, 80, 4096, 60],
        "problem": "Find the sum of all integer bases $b > 9$ for which $17_b$ is a divisor of $97_b$.",
    },
    {
        "id": 0,
        "dataset": "amc23",
        "answer": "27",
        "completions": [
            THINK + "\\boxed{27}",
            THINK + "\\boxed{27.0}",
            THINK + "\\boxed{ 27 }",
            THINK + "They meet 27 miles from A.",
        ],
        "finish_reasons": ["stop"] * 4,
        "num_tokens": [10, 20, 30, 40],
    },
    {
        "id": 1,
        "dataset": "amc23",
        "answer": "36",
        "completions": [THINK + "\\boxed{36}"] * 4,
        "finish_reasons": ["stop"] * 4,
        "num_tokens": [50] * 4,
    },
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_math_verify_judge(tmp_path: Path) -> None:
    rollouts = write_jsonl(tmp_path / "rollouts.jsonl", ROLLOUTS)
    result = score_file(rollouts, tmp_path / "out", judge="math-verify", workers=1)
    first, second, third = result.records
    assert first["extracted"] == ["70", "\\frac{140}{2}", None, "71"]
    assert first["correct"] == [True, True, False, False]
    assert first["judge_status"] == ["correct", "correct", "no_answer", "wrong"]
    assert second["extracted"] == ["27", "27.0", " 27 ", None]
    assert second["correct"] == [True, True, True, False]
    assert third["num_correct"] == 4
    # extra fields are kept, completions are not copied
    assert first["problem"].startswith("Find the sum") and "completions" not in first
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics == result.metrics
    aime, amc, overall = metrics["datasets"]["aime2025"], metrics["datasets"]["amc23"], metrics["overall"]
    assert (aime["pass@1"], aime["any@4"], aime["perfect@4"]) == (0.5, 1.0, 0.0)
    assert (amc["pass@1"], amc["any@4"], amc["perfect@4"]) == (0.875, 1.0, 0.5)
    assert overall["pass@1"] == pytest.approx(9 / 12)
    assert overall["pass@2"] == pytest.approx((5 / 6 + 1 + 1) / 3)
    assert overall["maj@4"] == 1.0  # 70 (first of four singletons), 27 (twice), 36
    assert overall["truncated"] == pytest.approx(1 / 12)
    assert aime["median_tokens"] == 100
    assert overall["no_answer"] == pytest.approx(2 / 12)
    lines = (tmp_path / "out" / "scored.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["2025-I-1", 0, 1]


def test_exact_judge(tmp_path: Path) -> None:
    rollouts = write_jsonl(tmp_path / "rollouts.jsonl", ROLLOUTS)
    result = score_file(rollouts, tmp_path, judge="exact")
    assert result.records[0]["correct"] == [True, False, False, False]  # 140/2 is not the string 70
    assert result.records[1]["correct"] == [True, False, True, False]  # 27.0 no, " 27 " yes
    assert result.metrics["overall"]["pass@1"] == pytest.approx(7 / 12)
    assert result.metrics["judge"] == "exact"


def test_score_cli_prints_the_table(tmp_path: Path) -> None:
    rollouts = write_jsonl(tmp_path / "rollouts.jsonl", ROLLOUTS)
    out = tmp_path / "scored"  # the rollouts' own folder is not curate's: it is refused without --out
    result = CliRunner().invoke(app, ["eval", "score", str(rollouts), "--judge", "exact", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("AIME 2025", "AMC 2023", "overall", "pass@1", "any@4", "perfect@4", "58.33%"):
        assert text in result.output
    assert (out / "scored.jsonl").exists() and (out / "metrics.json").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 1, "dataset": "d", "answer": "1"}', "missing completions"),
        ('{"id": 1, "dataset": "d", "answer": "1", "completions": []}', "non-empty list"),
        ('{"id": 1, "dataset": "d", "answer": "1", "completions": ["a"], "num_tokens": [1, 2]}', "aligned"),
        ('{"id": true, "dataset": "d", "answer": "1", "completions": ["a"]}', "id must be"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"id": 0, "dataset": "d", "answer": "1", "completions": ["a"]})
    path = tmp_path / "r.jsonl"
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(CurateError, match=message) as info:
        read_rollouts(path)
    assert f"{path}:2" in str(info.value)


def test_unequal_rollout_counts_rejected(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "r.jsonl",
        [ROLLOUTS[0], {"id": 5, "dataset": "amc23", "answer": "1", "completions": ["x"]}],
    )
    with pytest.raises(CurateError, match="1 completions where earlier problems have 4"):
        read_rollouts(path)


def test_t0_shaped_run(tmp_path: Path) -> None:
    """All 100 T0 problems x 16 rollouts with a known number right per problem: every gold answer parses,
    and each metric equals what the construction implies. Times the judge at full T0 size."""
    from curate.evaluate.metrics import pass_at_k
    from curate.evaluate.suites import resolve_suite

    problems = resolve_suite("t0")
    assert [p.dataset for p in problems].count("amc23") == 40 and len(problems) == 100
    filler = "Let me think about this carefully. " * 60
    counts = [(7 * i) % 17 for i in range(100)]  # 0..16 right answers per problem
    records = []
    for problem, right in zip(problems, counts):
        # wrong rollouts: even ones agree on answer + 1, odd ones each box a value of their own
        wrong = [str(int(problem.answer) + 1 + (r % 2) * r) for r in range(16)]
        records.append(
            {
                "id": problem.id,
                "dataset": problem.dataset,
                "answer": problem.answer,
                "completions": [
                    f"<think>\n{filler}\n</think>\n\nThe answer is $\\boxed{{{problem.answer if r < right else wrong[r]}}}$."
                    for r in range(16)
                ],
            }
        )
    rollouts = write_jsonl(tmp_path / "rollouts.jsonl", records)
    result = score_file(rollouts, tmp_path, judge="math-verify", workers=2)
    assert [r["num_correct"] for r in result.records] == counts
    statuses = {s for r in result.records for s in r["judge_status"]}
    assert statuses == {"correct", "wrong"}  # no gold_unparsable, no timeout
    overall = result.metrics["overall"]
    assert overall["pass@1"] == pytest.approx(sum(counts) / 1600)
    assert overall["any@16"] == sum(c > 0 for c in counts) / 100
    assert overall["perfect@16"] == sum(c == 16 for c in counts) / 100
    # the right answer (c votes, seen first) against answer + 1 (one vote per even wrong rollout)
    assert overall["maj@16"] == sum(c > 0 and c >= len(range(c + c % 2, 16, 2)) for c in counts) / 100
    for k in (2, 4, 8, 16):
        assert overall[f"pass@{k}"] == pytest.approx(sum(pass_at_k(16, c, k) for c in counts) / 100)
    aime25 = result.metrics["datasets"]["aime2025"]
    assert aime25["pass@1"] == pytest.approx(sum(counts[:30]) / 480)
    assert list(result.metrics["datasets"]) == ["aime2025", "aime2026", "amc23"]
    exact = score_file(rollouts, tmp_path / "exact", judge="exact")
    assert [r["num_correct"] for r in exact.records] == counts
    console = Console(width=150, record=True)
    print_metrics(result.metrics, console)
    table = console.export_text()
    for name in ("AIME 2025", "AIME 2026", "AMC 2023", "T0 (all 100)", "any@16", "perfect@16"):
        assert name in table
    assert f"{100 * overall['pass@1']:.2f}%" in table.splitlines()[-2]


def test_peer_suites_through_eval_score() -> None:
    """math-verify's and open-r1's own test cases through `curate eval score`'s judge: the same verdict as the
    `answer_verify` path on every case, and every difference from a suite's expectation documented."""
    peer = scripts.load("measure_peer_suites")
    cases = peer.load_cases()
    predictions = [peer.boxed_view(case["prediction"]) for case in cases]
    scored = peer.through_eval_score(cases, predictions)
    filtered = peer.through_answer_verify(cases, predictions)
    assert [s == "correct" for s in scored] == [f == "correct" for f in filtered]
    assert {s for s, p in zip(scored, predictions) if p is None} == {"no_answer"}
    reasons = [
        peer.difference(case, peer.peer_verdict(case), pred, status == "correct")
        for case, pred, status in zip(cases, predictions, scored)
    ]
    assert [r for r in reasons if r not in (None, *peer.REASONS)] == []
    assert sum(r is None for r in reasons) >= 200
