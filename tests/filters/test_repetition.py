"""`repetition` on real traces: the 10 complete DeepSeek-R1 traces pass, loops planted into them fail with the
reason meant for them, and the real looping trace among the other model's truncated ones is found."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from curate.engine import run_recipe
from curate.errors import CurateError
from curate.filters import KEEP, Drop, FilterContext, Trace
from curate.filters.repetition import Repetition, RepetitionParams, measure
from curate.recipe import load_recipe
from tests import openr1_rows as rows

DATA = Path(__file__).resolve().parents[1] / "data"


def r1_traces() -> list[tuple[str, str]]:
    lines = (DATA / "openr1_r1_traces.jsonl").read_text(encoding="utf-8").splitlines()
    return [(m[0]["content"], m[-1]["content"]) for m in (json.loads(line)["messages"] for line in lines)]


def other_traces() -> list[str]:
    lines = (DATA / "openr1_problems_with_regenerations.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["regenerated_content"] for line in lines]


def check(text: str, **params: object) -> Drop | None:
    f = Repetition(RepetitionParams(**params), FilterContext())
    [verdict] = f.apply([Trace(row_id=0, uuid="u", problem="p", answer="a", index=0, text=text)])
    return None if verdict == KEEP else verdict  # type: ignore[return-value]


def paragraph(text: str, low: int, high: int) -> tuple[int, int]:
    """(start, end) of the first paragraph of the reasoning with `low` to `high` characters."""
    at = 0
    for piece in text.split("</think>")[0].split("\n\n"):
        if low <= len(piece) <= high and "<think>" not in piece:
            return at, at + len(piece)
        at += len(piece) + 2
    raise AssertionError("no such paragraph")


@pytest.mark.parametrize("index", range(10))
def test_every_real_r1_trace_passes(index: int) -> None:
    _, trace = r1_traces()[index]
    assert check(trace) is None


def test_real_r1_rechecking_is_not_a_loop() -> None:
    """The real traces do repeat themselves ("Wait," dozens of times, 0.77 added ten times): measured, and
    every statistic stays well inside the defaults."""
    stats = [measure(part)[0] for _, trace in r1_traces() for part in trace.split("</think>")]
    assert max(s.loop_chars for s in stats) < 120 * 0.75
    assert max(s.span_chars for s in stats) < 400 * 0.6
    assert max(s.window_share for s in stats) < 0.75 * 0.5
    wait = sum(trace.count("Wait") for _, trace in r1_traces())
    assert wait > 150  # the rechecking is there


def test_paragraph_written_twice() -> None:
    _, trace = r1_traces()[5]
    start, end = paragraph(trace, 200, 800)
    block = trace[start:end]
    drop = check(trace[:end] + "\n\n" + block + trace[end:])
    assert drop is not None and drop.reason == "repetition_loop"
    assert drop.info is not None and drop.info["loop_copies"] == pytest.approx(2.0, abs=0.1)
    excerpt = re.search(r"'(.*)'$", drop.detail).group(1).removesuffix("...")  # type: ignore[union-attr]
    assert excerpt in " ".join(block.split())
    assert f"at characters {start:,}-" in drop.detail


def test_wait_let_me_recheck_cycle() -> None:
    _, trace = r1_traces()[7]
    sentence = next(s for s in re.split(r"(?<=\.)\s+", trace) if 80 <= len(s) <= 200 and "=" in s)
    _, end = paragraph(trace, 100, 10_000)
    cycle = "\n\n".join([f"Wait, let me recheck. {sentence}"] * 4)
    drop = check(trace[:end] + "\n\n" + cycle + trace[end:])
    assert drop is not None and drop.reason == "repetition_loop"
    assert drop.info is not None and drop.info["loop_copies"] >= 3.5


def test_cycle_whose_rounds_differ_is_one_loop() -> None:
    """Rounds that open differently and change a number are still one loop when each round is long."""
    _, trace = r1_traces()[2]
    start, end = paragraph(trace, 300, 600)
    body = trace[start:end]
    openers = [
        "Wait, let me recheck.",
        "Hmm, let me check that again.",
        "Wait, let me verify this once more.",
    ]
    rounds = [f"{openers[r % 3]} {re.sub(r'[0-9]+', str(r + 7), body, count=1)}" for r in range(5)]
    drop = check(trace[:end] + "\n\n" + "\n\n".join(rounds) + trace[end:])
    assert drop is not None and drop.reason == "repetition_loop"


def test_repeated_tail_until_the_cap() -> None:
    _, trace = r1_traces()[9]
    cut = trace.index("\n\n", len(trace) // 2)
    unit = " Let me compute the area of triangle APB again using the coordinates."
    looping = trace[:cut] + "\n\n" + (unit * 200)[:9_000]  # cut mid-sentence, no </think>
    drop = check(looping)
    assert drop is not None and drop.reason == "repetition_tail"
    assert "to the end" in drop.detail and "compute the area" in drop.detail


def test_equation_line_repeated() -> None:
    _, trace = r1_traces()[0]
    line = next(m for m in re.finditer(r"[^\n]+", trace) if "=" in m.group() and 20 <= len(m.group()) <= 80)
    looping = trace[: line.end()] + ("\n" + line.group()) * 19 + trace[line.end() :]
    drop = check(looping)
    assert drop is not None and drop.reason == "repetition_loop"
    assert drop.info is not None and drop.info["loop_copies"] == pytest.approx(20, abs=1)


def test_distant_copy_of_a_long_paragraph() -> None:
    _, trace = r1_traces()[7]
    start, end = paragraph(trace, 500, 1500)
    later = trace.index("\n\n", end + 3000)
    drop = check(trace[:later] + "\n\n" + trace[start:end] + trace[later:])
    assert drop is not None and drop.reason == "repetition_span"
    assert drop.info is not None and drop.info["span_chars"] >= end - start - 20


def test_answer_restating_the_reasoning_is_not_a_copy() -> None:
    """After </think>, a solution that repeats a paragraph of the reasoning is the usual summary."""
    _, trace = r1_traces()[7]
    start, end = paragraph(trace, 500, 1500)
    assert check(trace + "\n\n" + trace[start:end]) is None


def test_real_looping_trace_is_found_in_the_truncated_ones() -> None:
    """Trace 14 of the other model's truncated traces circles on "the three largest numbers are 3, 4, 5?"."""
    drop = check(other_traces()[14])
    assert drop is not None and drop.reason in ("repetition_dense", "repetition_tail")
    assert "three largest numbers" in drop.detail
    assert drop.info is not None and drop.info["window_share"] >= 0.75


def test_each_check_can_be_turned_off() -> None:
    _, trace = r1_traces()[0]
    line = next(m for m in re.finditer(r"[^\n]+", trace) if "=" in m.group() and 20 <= len(m.group()) <= 80)
    looping = trace[: line.end()] + ("\n" + line.group()) * 19 + trace[line.end() :]
    assert check(looping, min_loop_chars=None, max_window_share=None) is None


def test_measure_on_a_known_loop() -> None:
    block = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi"  # 14 words, 72 chars
    head = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    stats, repeats = measure(head + " " + " ".join([block] * 5) + " the end", ngram=5)
    assert stats.loop_copies == pytest.approx(5.0)
    assert stats.loop_period_chars == len(block) + 1
    assert stats.loop_chars == 4 * (len(block) + 1) - 1
    assert stats.loop_start == len(head) + 1
    assert repeats[0].adjacent and repeats[0].period_words == 14


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("repetition: {max_window_share: 1.5}", "less than or equal to 1"),
        ("repetition: {ngram: 2}", "greater than or equal to 3"),
        ("repetition: {min_loop_char: 100}", "did you mean 'min_loop_chars'"),
    ],
)
def test_bad_parameters_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: r\nsource: {{sample: true}}\noutput: {{dir: out}}\nfilters:\n  - {line}\n", encoding="utf-8"
    )
    with pytest.raises(CurateError, match=message) as err:
        load_recipe(recipe)
    assert "r.yaml:5" in str(err.value)


def test_a_looping_generation_gives_way_to_the_next(tmp_path: Path) -> None:
    """In a run, a row whose shortest generation loops keeps its longer clean generation instead."""
    problem, clean = r1_traces()[4]
    _, other = r1_traces()[6]
    start, end = paragraph(clean, 200, 1000)
    looping = clean[:end] + ("\n\n" + clean[start:end]) * 2 + clean[end:]
    assert len(looping) < len(other)
    table = [
        rows.row("loops-then-clean", problem, "1", [looping, other]),
        rows.row("only-loops", problem, "1", [looping]),
        rows.row("clean", problem, "1", [clean]),
    ]
    source = rows.write(tmp_path / "src.parquet", table)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: r\nsource: {{path: {source}}}\nfilters:\n  - repetition: {{}}\n"
        f"output: {{dir: {tmp_path / 'out'}}}\n",
        encoding="utf-8",
    )
    result = run_recipe(load_recipe(recipe))
    train = pl.read_parquet(tmp_path / "out" / "train.parquet")
    chosen = dict(zip(train["uuid"].to_list(), train["generation_index"].to_list()))
    assert chosen == {"loops-then-clean": 1, "clean": 0}
    rejected = pl.read_parquet(tmp_path / "out" / "rejections.parquet")
    assert rejected.filter(pl.col("filter") == "repetition")["uuid"].to_list() == ["only-loops"]
    report = json.loads((tmp_path / "out" / "repetition_report.json").read_text())
    assert report["dropped"] == {"repetition_loop": 1}
    assert result.stats["funnel"][0]["dropped"] == {"repetition_loop": 1}
