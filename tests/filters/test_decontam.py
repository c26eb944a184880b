"""`decontaminate`: measured quality on planted cases, the detectors' edges, reports and recipe use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate import benchmarks
from curate.engine import run_recipe
from curate.errors import CurateError
from curate.recipe import load_recipe, parse_recipe
from curate.textnorm import normalize
from filters import Drop, FilterContext, Keep, Row
from filters.decontam import ContaminationIndex, Decontaminate, DecontaminateParams
from tests import openr1_rows as rows
from tests import scripts


@pytest.fixture(scope="module")
def full_index() -> ContaminationIndex:
    return ContaminationIndex.build(list(benchmarks.NAMES))


@pytest.mark.slow
def test_measured_quality_on_planted_cases() -> None:
    """The targets, on the held-out half of every bundled benchmark with the generators the thresholds were
    not chosen with (scripts/measure_decontam.py prints the whole table)."""
    measure = scripts.load("measure_decontam")
    result = measure.measure(clean_count=1000, seed=1)
    tally = result["tally"]
    heldout = measure.perturb_heldout
    for generator in ("heldout", "tuning"):
        for family in heldout.FORMATTING:
            assert tally.rate("held-out", generator, family) == 1.0, (generator, family)
        for family in (*heldout.RETYPESET, *heldout.EDITED):
            assert tally.rate("held-out", generator, family) >= 0.97, (generator, family)
        hit, total, other_tier = tally.counts[("held-out", generator, "numbers_changed")]
        assert (hit - other_tier) / total >= 0.95  # caught as template copies, their own tier
    for half in measure.HALVES:
        assert tally.rate(half, "variants", "other published wordings") >= 0.97
        flagged, total = measure.false_drop_rate(tally, half)
        assert total >= 2000 and flagged / total < 0.005


def test_stock_phrases_alone_never_flag(full_index: ContaminationIndex) -> None:
    clean = [
        "Let $N$ be the number of ways to colour the faces of a cube with $4$ colours so that adjacent faces "
        "differ. Find the remainder when $N$ is divided by $1000$.",
        "A fair coin is flipped $9$ times. The probability of never getting two heads in a row is "
        "$\\frac{m}{n}$, where $m$ and $n$ are relatively prime positive integers. Find $m+n$.",
        "Let $\\triangle ABC$ have side lengths $AB=13$, $BC=14$, $CA=15$. Find the inradius of the triangle "
        "formed by the midpoints of its altitudes. Express your answer as a common fraction.",
        "What is the remainder when $2003$ is divided by $11$?",
        "If $f(x)=5x^2-9x+4$, what is the value of $f(f(7))$?",
    ]
    assert full_index.match(clean) == [None] * len(clean)
    # the same stock phrasing with the problem's own numbers and setup is a copy
    copy = "Find $m+n$ if " + benchmarks.canonical("aime2024")[0].problem
    assert full_index.match([copy])[0].item.id == "2024-I-1"


def test_short_problems_are_checked(full_index: ContaminationIndex) -> None:
    short = "Compute $\\dbinom{31}{28}$."
    hits = full_index.match(
        [
            short,
            "Compute \\(\\binom{31}{28}\\).",
            "1. Compute $\\dbinom{31}{28}$. Please reason step by step.",
            "Compute $\\dbinom{31}{27}$.",
            "Simplify $\\sqrt{243}$.",
        ]
    )
    assert [h and (h.item.id, h.detector) for h in hits[:3]] == [
        ("test/counting_and_probability/116.json", "exact")
    ] * 3
    assert hits[3:] == [None, None]
    embedded = full_index.match(["Here is a quick one. Compute $\\dbinom{31}{28}$. Show all work."])[0]
    assert embedded is not None and embedded.item.id == "test/counting_and_probability/116.json"


def test_a_short_problem_is_not_found_in_a_longer_problem_that_holds_it_as_a_fragment(
    full_index: ContaminationIndex,
) -> None:
    """MATH-500 "Evaluate $\\log_264$." is mostly `\\log_2 64`, which other problems hold: a row copies it when
    its statement has no other numbers (answer choices aside)."""
    item_id = "test/algebra/1255.json"
    rows_ = [
        "## Task B-4.4.\n\nCompute $\\log _{2} 486-\\log _{2} 243+11 \\log _{2} 64$.",  # the embedded sample's
        "Here is a quick one: evaluate $\\log_{2}64$. Show all work.",
        "Evaluate $\\log_2 64$.\n\n(A) 4 (B) 5 (C) 6 (D) 8 (E) 32",
    ]
    hits = full_index.match(rows_)
    assert hits[0] is None
    assert [h and h.item.id for h in hits[1:]] == [item_id, item_id]


def test_drop_names_benchmark_item_and_score() -> None:
    f = Decontaminate(DecontaminateParams(benchmarks=["aime2025"]))
    f.setup()
    problem = benchmarks.canonical("aime2025")[4].problem
    matharena = next(
        w for w in benchmarks.variants("aime2025") if "matharena" in w.wording and w.id == "2025-I-6"
    )
    assert normalize(matharena.problem) != normalize(benchmarks.canonical("aime2025")[5].problem)
    verdicts = f.filter_batch(
        [
            Row(0, {"uuid": "a", "problem": "Intro sentence first. " + problem + " (A) 1 (B) 2"}),
            Row(1, {"uuid": "b", "problem": matharena.problem}),
            Row(2, {"uuid": "c", "problem": "Find all primes $p$ with $p^2+2$ prime."}),
            Row(3, {"uuid": "d", "problem": None}),
        ]
    )
    first, second = verdicts[0], verdicts[1]
    assert isinstance(first, Drop) and first.reason == "contaminated"
    assert first.info == {
        "benchmark": "aime2025",
        "item_id": "2025-I-5",
        "score": first.info["score"],
        "row_share": first.info["row_share"],
        "detector": first.info["detector"],
        "wording": "aime2025.jsonl",
        "tier": "contaminated",
    }
    assert first.info["score"] >= 0.9 and first.info["detector"] in ("ngram", "fuzzy")
    assert first.detail.startswith("matches aime2025 item 2025-I-5 (")
    assert isinstance(second, Drop) and second.info["item_id"] == "2025-I-6"
    assert second.info["detector"] == "exact"
    assert re.search(
        r"item 2025-I-6 \(exact score 1\.00, row share 1\.00, wording variants/aime2025_\w+\.jsonl\)$",
        second.detail,
    )
    assert verdicts[2:] == [verdicts[2].__class__()] * 2 and not isinstance(verdicts[2], Drop)


def test_partial_copies_are_caught_both_ways(full_index: ContaminationIndex) -> None:
    """A statement cut short or without its last sentence holds little of the benchmark problem's text but is
    all benchmark text: the row's share found in the problem decides."""
    item = benchmarks.canonical("aime2024")[10]
    words = item.problem.split(" ")
    cut = " ".join(words[: int(len(words) * 0.72)])
    last_sentence_dropped = item.problem.rsplit(". ", 1)[0] + "."
    for copy in (cut, last_sentence_dropped, "Problem 7. " + cut.replace("$", "")):
        hit = full_index.match([copy])[0]
        assert hit is not None and hit.item.id == item.id and hit.tier == "contaminated", copy
        assert hit.row_share > 0.9 and hit.score < 1.0
    # the same cut inside a longer problem of its own is not a copy: most of that row is other text
    other = cut + " " + benchmarks.canonical("amc23")[3].problem + " " + benchmarks.canonical("math500")[7].problem
    assert full_index.match([other])[0] is None or full_index.match([other])[0].item.id != item.id


def test_a_copy_without_its_answer_choices_is_caught(full_index: ContaminationIndex) -> None:
    item = next(i for i in benchmarks.canonical("math500") if i.id == "test/precalculus/819.json")
    stem = item.problem.split("(A)")[0]
    hit = full_index.match([stem])[0]
    assert hit is not None and hit.item.id == item.id and hit.tier == "contaminated"
    assert hit.item.wording == "math500.jsonl without its choices"


def _renumbered(text: str) -> str:
    """Every number of the statement replaced (17 -> 18, 2024 -> 2025)."""
    return re.sub(r"\d+", lambda m: str(int(m.group()) + 1), text)


def test_template_copies_are_their_own_tier(full_index: ContaminationIndex) -> None:
    item = benchmarks.canonical("aime2025")[0]
    copy = _renumbered(item.problem)
    hit = full_index.match([copy, "Problem 3. " + copy.replace("$", "")])
    for found in hit:
        assert found is not None and found.item.id == item.id and found.tier == "template_copy"
        assert found.detail().startswith("template copy of aime2025 item 2025-I-1: same wording, other numbers")
    # a short textbook statement is nobody's template: "Compute C(30, 27)" is not a copy of "Compute C(31, 28)"
    assert full_index.match(["Compute $\\dbinom{30}{27}$."]) == [None]
    # the templates can be left alone
    off = ContaminationIndex.build(["aime2025"], templates=False)
    assert off.match([copy]) == [None]


@pytest.mark.parametrize(("action", "expected"), [("drop", "template_copy"), ("report", "note"), ("keep", "keep")])
def test_template_copies_switch(action: str, expected: str) -> None:
    f = Decontaminate(DecontaminateParams(benchmarks=["aime2025"], template_copies=action))
    f.setup()
    item = benchmarks.canonical("aime2025")[0]
    verdict = f.filter_batch([Row(0, {"uuid": "t", "problem": _renumbered(item.problem)})])[0]
    if expected == "template_copy":
        assert isinstance(verdict, Drop) and verdict.reason == "template_copy"
        assert verdict.info["tier"] == "template_copy"
    elif expected == "note":
        assert isinstance(verdict, Keep) and verdict.note is not None and verdict.note.reason == "template_copy"
    else:
        assert verdict == Keep()


def test_detectors_can_be_switched_off() -> None:
    item = benchmarks.canonical("aime2026")[0]
    # a filler word before every sixth word: no 8 consecutive words of the original survive
    reworded = " ".join(w if i % 6 else "quite " + w for i, w in enumerate(item.problem.split(" ")))
    both = ContaminationIndex.build(["aime2026"])
    ngram_only = ContaminationIndex.build(["aime2026"], fuzzy_detector=False)
    fuzzy_only = ContaminationIndex.build(["aime2026"], ngram_detector=False)
    assert both.match([reworded])[0].item.id == item.id
    assert fuzzy_only.match([reworded])[0].detector == "fuzzy"
    assert ngram_only.match([reworded]) == [None]  # every 8-gram around a change is lost
    assert ngram_only.match([item.problem.upper()])[0].detector == "exact"


def test_unknown_benchmark_in_yaml_names_the_line() -> None:
    text = "name: x\nsource: {sample: true}\nfilters:\n  - decontaminate: {benchmarks: [aime2024, aime2023]}\noutput: {dir: o}\n"
    with pytest.raises(CurateError, match=r"<recipe>:4.*unknown benchmark 'aime2023'"):
        parse_recipe(text)


def _recipe(tmp_path: Path, data: list[dict], step: str, workers: int = 1) -> Path:
    source = rows.write(tmp_path / "src.parquet", data)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"name: decon\nsource: {{path: {source}}}\nfilters:\n  - {step}\n"
        f"executor: {{workers: {workers}}}\noutput: {{dir: {tmp_path / 'out'}}}\n"
    )
    return recipe


def test_recipe_with_user_files_and_report(tmp_path: Path) -> None:
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "mine.jsonl").write_text(
        json.dumps(
            {
                "id": "m1",
                "problem": "A snail climbs 3 m each day and slips 2 m each night in a 20 m well. "
                "On which day does it get out?",
            }
        )
        + "\n"
    )
    pq.write_table(
        pa.table({"problem": ["How many squares of any size are on an 8 by 8 chessboard?"]}),
        tmp_path / "evals" / "more.parquet",
    )
    aime = benchmarks.canonical("aime2024")
    data = rows.many(20)
    data += [
        rows.row("c1", aime[3].problem, "1", [rows.trace("r", "1")]),
        rows.row("c2", "Problem 4. " + aime[3].problem.replace("$", ""), "1", [rows.trace("r", "1")]),
        rows.row(
            "c3",
            "Puzzle: a snail climbs 3 m each day and slips 2 m each night in a 20 m well. On which day "
            "does it get out?",
            "18",
            [rows.trace("r", "18")],
        ),
        rows.row(
            "c4", "How many squares of any size are on an 8 by 8 chessboard?", "204", [rows.trace("r", "204")]
        ),
        rows.row("ok", benchmarks.canonical("math500")[0].problem, "x", [rows.trace("r", "x")]),
    ]
    step = "decontaminate: {benchmarks: [aime2024, aime2025], files: [evals/mine.jsonl, evals/more.parquet]}"
    result = run_recipe(load_recipe(_recipe(tmp_path, data, step)))
    rejected = pl.read_parquet(result.out_dir / "rejections.parquet")
    assert sorted(rejected["uuid"].to_list()) == ["c1", "c2", "c3", "c4"]
    report = json.loads((result.out_dir / "decontaminate_report.json").read_text())
    assert report["rows_dropped"] == 4 and report["items_found"] == 3
    per = report["per_benchmark"]
    assert list(per) == ["aime2024", "aime2025", "evals/mine.jsonl", "evals/more.parquet"]
    assert (
        per["aime2024"]["items"] == 30
        and per["aime2024"]["items_found"] == 1
        and per["aime2024"]["rows"] == 2
    )
    found = per["aime2024"]["found"][0]
    assert (
        found["item_id"] == aime[3].id
        and found["uuids"] == ["c1", "c2"]
        and found["answer"] == aime[3].answer
    )
    assert per["aime2025"] == {"items": 30, "items_found": 0, "rows": 0, "found": []}
    assert per["evals/mine.jsonl"]["found"][0]["item_id"] == "m1"
    assert per["evals/more.parquet"]["found"][0]["uuids"] == ["c4"]


def test_fingerprint_follows_user_file_content(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"problem": "What is 1+1?"}) + "\n")
    params = DecontaminateParams(benchmarks=[], files=["mine.jsonl"])
    f = Decontaminate(params, FilterContext(recipe_dir=str(tmp_path)))
    before = f.fingerprint_extra()
    path.write_text(json.dumps({"problem": "What is 2+2?"}) + "\n")
    assert Decontaminate(params, FilterContext(recipe_dir=str(tmp_path))).fingerprint_extra() != before
    missing = Decontaminate(
        DecontaminateParams(files=["absent.jsonl"]), FilterContext(recipe_dir=str(tmp_path))
    )
    with pytest.raises(CurateError, match=r"absent.jsonl: file not found"):
        missing.setup()
    with pytest.raises(CurateError, match="nothing to check against"):
        Decontaminate(DecontaminateParams(benchmarks=[])).setup()


def test_parallel_run_matches_serial(tmp_path: Path) -> None:
    """More rows than one engine chunk, on two worker processes: same drops as one process."""
    problems = [item.problem for name in ("math500", "amc22", "amc24") for item in benchmarks.canonical(name)]
    data = [
        rows.row(f"r{i:05d}", f"{i}. Find the value of $x$ if $x+{i}=2{i}$.", "1", [rows.trace("r", "1")])
        for i in range(4000)
    ]
    data += [rows.row(f"b{i:03d}", p, "1", [rows.trace("r", "1")]) for i, p in enumerate(problems[:300])]
    step = "decontaminate: {benchmarks: [math500]}"
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    serial = run_recipe(load_recipe(_recipe(tmp_path / "one", data, step, workers=1)))
    parallel = run_recipe(load_recipe(_recipe(tmp_path / "two", data, step, workers=2)), use_cache=False)
    a = pl.read_parquet(serial.out_dir / "rejections.parquet")
    b = pl.read_parquet(parallel.out_dir / "rejections.parquet")
    assert a.equals(b)
    assert sorted(a["uuid"].to_list()) == [f"b{i:03d}" for i in range(300)]


@pytest.mark.parametrize(("action", "workers"), [("drop", 1), ("report", 1), ("report", 2)])
def test_template_copies_in_the_report_and_the_card(tmp_path: Path, action: str, workers: int) -> None:
    """A template copy kept under `report` is a note: kept, reported, never a rejection or a funnel drop, on
    the driver, on worker processes, and when the step's result comes from the cache."""
    item = benchmarks.canonical("aime2024")[5]
    data = rows.many(6)
    data += [
        rows.row("copy", item.problem, "1", [rows.trace("r", "1")]),
        rows.row("tmpl", _renumbered(item.problem), "1", [rows.trace("r", "1")]),
    ]
    step = f"decontaminate: {{benchmarks: [aime2024], template_copies: {action}}}"
    recipe = load_recipe(_recipe(tmp_path, data, step, workers))
    for cached in (False, True):
        result = run_recipe(recipe)
        rejected = pl.read_parquet(result.out_dir / "rejections.parquet")
        train = pl.read_parquet(result.out_dir / "train.parquet")["uuid"].to_list()
        report = json.loads((result.out_dir / "decontaminate_report.json").read_text())
        templates = report["template_copies"]
        assert templates["action"] == action and templates["rows"] == 1 and templates["items_found"] == 1
        assert templates["per_benchmark"]["aime2024"]["found"][0]["uuids"] == ["tmpl"]
        assert report["per_benchmark"]["aime2024"]["found"][0]["uuids"] == ["copy"]
        card = (result.out_dir / "README.md").read_text()
        assert "### Template copies" in card and "tmpl" in card
        funnel = {e["filter"]: e for e in json.loads((result.out_dir / "stats.json").read_text())["funnel"]}
        assert funnel["decontaminate"]["cached"] is cached
        if action == "drop":
            assert sorted(zip(rejected["uuid"], rejected["reason"])) == [("copy", "contaminated"), ("tmpl", "template_copy")]
            assert funnel["decontaminate"]["dropped"] == {"contaminated": 1, "template_copy": 1}
            assert report["rows_dropped"] == 2 and "tmpl" not in train
        else:
            assert rejected["uuid"].to_list() == ["copy"]
            assert funnel["decontaminate"]["dropped"] == {"contaminated": 1}
            assert funnel["decontaminate"]["rows_out"] == funnel["decontaminate"]["rows_in"] - 1
            assert report["rows_dropped"] == 1 and "tmpl" in train
            assert "kept in the data" in card
