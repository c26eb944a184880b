"""Answer extraction, exact-match normalisation, the choice rule, and the math-verify worker pool."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curate.mathcheck import (
    STATUSES,
    Choice,
    Judge,
    Verifier,
    _VerdictCache,
    exact_match,
    extract_answer,
    extract_boxed,
    fast_verdict,
    gold_parts,
    normalize_answer,
    parse_choice,
)
from tests import scripts

THINK = "<think>\nLet me work it out. Maybe \\boxed{7}? No.\n</think>\n\n"
TOWER = "2^{2^{2^{2^{2^{2}}}}}"  # math-verify's comparison never returns, whatever its own timeout says

# The text after </think> of three real long-think traces (tests/data, rows 21, 43 and 47).
REAL_TAILS = {
    "D": "</think>\n\nWe are given that **two is 10% of $ x $** and **20% of $ y $**. The goal is to find the "
    'value of $ x - y $.\n\n---\n\n### Step 1: Translate the statements into equations\n\n- "Two is 10% of $ x $" '
    'translates to:\n  $$\n  2 = 0.10x\n  $$\n\n- "Two is 20% of $ y $" translates to:\n  $$\n  2 = 0.20y\n  $$\n\n'
    "---\n\n### Step 2: Solve for $ x $ and $ y $\n\nFrom the first equation:\n$$\nx = \\frac{2}{0.10} = 20\n$$\n\n"
    "From the second equation:\n$$\ny = \\frac{2}{0.20} = 10\n$$\n\n---\n\n### Step 3: Compute $ x - y $\n\n$$\n"
    "x - y = 20 - 10 = 10\n$$\n\n---\n\n### Final Answer\n\n$$\n\\boxed{D}\n$$",
    "0001": "</think>\n\n8. Find the last four digits of $7^{7^{-7}}$ (100 sevens).\n\n\\boxed{0001}",
    "11": "</think>\n\na) We can factor out the common term 7:  \n$$\n7 \\cdot 147 - 7 \\cdot 47 = 7 \\cdot (147 - 47) "
    "= 7 \\cdot 100 = 700\n$$\n\nb) The sum of even numbers from 2 to 50 is:  \n$$\n\\frac{25}{2} \\cdot (2 + 50) = "
    "25 \\cdot 26 = 650\n$$  \nThe sum of odd numbers from 1 to 49 is:  \n$$\n\\frac{25}{2} \\cdot (1 + 49) = 25 "
    "\\cdot 25 = 625\n$$  \nThe difference is:  \n$$\n650 - 625 = 25\n$$\n\nc) Simplify the expression step by step:"
    "  \n$$\n10 \\cdot \\frac{9^2}{3^2} - 3^4 = 10 \\cdot \\frac{81}{9} - 81 = 10 \\cdot 9 - 81 = 90 - 81 = 9\n$$\n\n"
    "d) Express each two-digit number as:  \n$$\n\\overline{ab} = 10a + b, \\quad \\overline{bc} = 10b + c, \\quad "
    "\\overline{ca} = 10c + a\n$$  \nSum:  \n$$\n(10a + b) + (10b + c) + (10c + a) = 11a + 11b + 11c = 11(a + b + c)"
    "\n$$  \nDivide by $a + b + c$:  \n$$\n\\frac{11(a + b + c)}{a + b + c} = 11\n$$\n\n$$\n\\boxed{700}\n$$\n$$\n"
    "\\boxed{25}\n$$\n$$\n\\boxed{9}\n$$\n$$\n\\boxed{11}\n$$",
}


# ------------------------------------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("The answer is $\\boxed{5}$.", "5"),
        ("So $\\boxed{\\frac{1}{2}}$", "\\frac{1}{2}"),
        ("$\\boxed{\\frac{\\sqrt{3}}{2^{\\frac{1}{2}}}}$", "\\frac{\\sqrt{3}}{2^{\\frac{1}{2}}}"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),  # escaped braces do not close the box
        ("\\boxed{\\left\\{ x \\mid x > 0 \\right\\}}", "\\left\\{ x \\mid x > 0 \\right\\}"),
        ("\\boxed{\\begin{array}{c} 1 \\\\ {2} \\end{array}}", "\\begin{array}{c} 1 \\\\ {2} \\end{array}"),
        ("\\boxed {42}", "42"),
        ("\\fbox{42}", "42"),
        ("first \\boxed{1}, then \\boxed{2}, finally \\fbox{3}", "3"),  # the last box wins
        ("\\boxed{6} \\quad \\text{and} \\quad \\boxed{5}", "5"),
        ("\\boxed{\\boxed{3}}", "\\boxed{3}"),  # a box inside a box belongs to it
        ("\\boxed{}", ""),
        ("The answer is 5.", None),
        ("\\boxed{1} and then \\boxed{\\frac{1}{2}", None),  # the last box is cut off: no answer
        ("\\boxedfoo{1}", None),
    ],
)
def test_extract_boxed_after_think(tail: str, expected: str | None) -> None:
    assert extract_boxed(THINK + tail) == expected


def test_extract_boxed_ignores_boxes_inside_think() -> None:
    assert extract_boxed(THINK + "No box here.") is None
    assert extract_boxed("<think>\nso \\boxed{4}\n") is None  # truncated: no </think> at all
    assert extract_boxed("<think>\nso \\boxed{4}\n", after_think=False) == "4"
    assert extract_boxed("no think at all \\boxed{4}", after_think=False) == "4"
    # With several </think>, the answer follows the last one.
    assert extract_boxed("<think>a</think>\\boxed{1}<think>b</think>\\boxed{2}") == "2"


@pytest.mark.parametrize(("expected", "tail"), list(REAL_TAILS.items()))
def test_extract_boxed_real_traces(expected: str, tail: str) -> None:
    assert extract_boxed("<think>\nreasoning with \\boxed{999} inside\n" + tail) == expected


REALDATA = Path(__file__).resolve().parents[1] / "data" / "openr1_problems_with_regenerations.jsonl"
PEER_CASES = Path(__file__).resolve().parents[1] / "data" / "peer_verify_cases.jsonl"


def test_extract_boxed_on_all_real_traces() -> None:
    rows = [json.loads(line) for line in REALDATA.read_text().splitlines()]
    extracted = {i: extract_boxed(row["regenerated_content"]) for i, row in enumerate(rows)}
    complete = {i for i, row in enumerate(rows) if "</think>" in row["regenerated_content"]}
    assert len(rows) == 54 and len(complete) == 12
    # The 42 traces cut before </think> have no answer, even those that box something while thinking.
    assert all(extracted[i] is None for i in range(54) if i not in complete)
    thinking = {i: extract_boxed(rows[i]["regenerated_content"], after_think=False) for i in (0, 35, 37)}
    assert thinking == {0: "180", 35: "C", 37: ""}
    expected = {13: "1", 15: "5", 21: "D", 22: "6500", 27: "400", 31: "6", 38: "-1", 41: "8375", 43: "0001"}
    expected |= {47: "11", 49: "50", 50: "16"}
    assert {i: extracted[i] for i in complete} == expected


@pytest.mark.parametrize(
    ("gold", "parts"),
    [
        ("5", 1),
        ("\\frac{1}{2}", 1),
        ("f(1, 2)", 1),
        ("1{,}000", 1),
        ("x \\in (1, 2)", 1),
        ("(2, 3)", 2),
        ("\\left( 1, 2 \\right)", 2),
        ("[0, 1)", 2),
        ("\\{1, 5, 7\\}", 3),
        ("x=1, y=2", 2),
        ("6 \\text{ and } 8", 2),
        ("$2$ or $3$", 2),
        ("(1,2),(3,4)", 2),
        ("-12;-11;-10", 3),
    ],
)
def test_gold_parts(gold: str, parts: int) -> None:
    assert gold_parts(gold) == parts


@pytest.mark.parametrize(
    ("tail", "gold", "expected"),
    [
        # several parts given box by box are judged together, as math-verify joins them
        ("The solutions are \\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}.", "(2, 2), (6, 2)", "(2, 2), (6, 2)"),
        ("So $x = \\boxed{2}$, $y = \\boxed{3}$.", "(2, 3)", "2, 3"),
        ("\\[\\boxed{(1, 2)}, \\boxed{(2, 1)}, \\boxed{(-1, -20)}\\]", "(2,1),(1,2),(-1,-20)", "(1, 2), (2, 1), (-1, -20)"),
        ("\\boxed{3} and \\boxed{3}", "3, 5", "3"),  # a repeated box counts once
        # a box far before the last, or not separated by "and"/"or"/comma, is another statement
        ("First $a=\\boxed{2}$. After a long computation we get the pair \\boxed{(2, 5)}", "(2, 5)", "(2, 5)"),
        ("\\boxed{1} no no no no no no no \\boxed{2}", "1, 2", "2"),
        # a single-part gold is judged by the last box alone
        ("\\boxed{6} \\quad \\text{and} \\quad \\boxed{5}", "5", "5"),
        ("\\boxed{2}, \\boxed{3}", "23", "3"),
        ("No box.", "1, 2", None),
    ],
)
def test_extract_answer_joins_boxes_when_the_gold_has_parts(tail: str, gold: str, expected: str | None) -> None:
    assert extract_answer(THINK + tail, gold) == expected
    assert extract_answer("<think>\\boxed{1}, \\boxed{2}", gold) is None  # no </think>: no answer


# ----------------------------------------------------------------------------------------- exact judging


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("025", "25"),
        ("+7", "7"),
        ("-007", "-7"),
        ("-0", "0"),
        ("0", "0"),
        (" 1 2 3 ", "1 2 3"),  # spacing between digits separates numbers
        ("3\\quad 4", "3 4"),
        ("3\\ 4", "3 4"),
        ("3~4", "3 4"),
        ("2\\;3", "2 3"),
        ("2 \\qquad 3", "2 3"),
        ("1\\,000", "1000"),  # a thin space before three digits separates thousands
        ("12\\,345\\,678", "12345678"),
        ("1\\,00", "1 00"),
        ("\\pi r^2", "\\pi r^2"),  # not the macro \\pir
        ("x + 1", "x+1"),
        ("\\text{\\text{\\text{7}}}", "7"),
        ("\\text{a{b}c}", "\\text{a{b}c}"),  # braces inside: the wrapper is content
        ("{{{25}}}", "25"),
        ("\\dfrac{1}{2}", "\\frac{1}{2}"),
        ("\\left( 1, 2 \\right)", "(1,2)"),
        ("30^\\circ", "30"),
        ("30^{\\circ}", "30"),
        ("30°", "30"),
        ("5\\text{ cm}", "5cm"),
        ("\\text{\\textbf{B}}", "B"),
        ("12.", "12"),
        ("$\\frac{3}{4}$", "\\frac{3}{4}"),
        ("{25}", "25"),
        ("{1}+{2}", "{1}+{2}"),
        ("50\\%", "50%"),
        ("3\\,000", "3000"),
        ("\\!x\\;+\\:y~", "x+y"),
        ("\\displaystyle\\frac{1}{2}", "\\frac{1}{2}"),
    ],
)
def test_normalize_answer(raw: str, normalized: str) -> None:
    assert normalize_answer(raw) == normalized


def test_exact_match() -> None:
    assert exact_match("025", "25") and exact_match("25", "025")
    assert exact_match("\\frac{1}{2}", "\\dfrac{1}{2}")
    assert not exact_match("\\frac{1}{2}", "0.5")  # exact is exact: no arithmetic
    assert not exact_match("5", "5\\text{ cm}")  # units are content
    assert not exact_match("7", None)
    assert not exact_match("", "")  # two empty answers are not a match


# ----------------------------------------------------------------------------------------------- choices


@pytest.mark.parametrize(
    ("answer", "choice"),
    [
        ("B", Choice("B", "")),
        ("(B)", Choice("B", "")),
        ("B)", Choice("B", "")),
        ("\\text{(B)}", Choice("B", "")),
        ("\\textbf{(C)}\\ 12", Choice("C", "12")),
        ("\\textbf{(C) }12", Choice("C", "12")),
        ("\\mathrm{(D)}~\\frac{1}{2}", Choice("D", "\\frac{1}{2}")),
        ("(E) 5", Choice("E", "5")),
        ("$A$", Choice("A", "")),
        ("F", None),  # AMC options stop at E
        ("b", None),
        ("BD", None),
        ("C(3,2)", None),  # a point, not an option
        ("A:B=2:3", None),
        ("\\text{Both}", None),
        ("\\text{(C)}+1", None),  # an expression in the letter, not an option
        ("(B)^2", None),
        ("B)x", None),
        ("12", None),
        ("\\(\\boxed{\\text{C}}\\)", Choice("C", "")),  # delimiters and boxes around the option
        ("\\(\\boxed{\\text{C}}\\).", Choice("C", "")),
        ("$$\\boxed{\\textbf{(B)}\\ 12}$$", Choice("B", "12")),
        ("\\[ \\fbox{E} \\]", Choice("E", "")),
        ("\\boxed{C}+1", None),
    ],
)
def test_parse_choice(answer: str, choice: Choice | None) -> None:
    assert parse_choice(answer) == choice


# ------------------------------------------------------------------------------------------------- pool


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    with Verifier(workers=2, timeout=10.0) as v:
        yield v


# (gold as in the dataset, extracted prediction, status): each checked by hand.
TABLE = [
    ("180", "180", "correct"),
    ("180", "181", "wrong"),
    ("-3", "3", "wrong"),
    ("025", "25", "correct"),  # AIME answers with leading zeros
    ("1000", "1,000", "correct"),
    ("\\frac{1}{2}", "0.5", "correct"),
    ("\\frac{1}{2}", "\\dfrac12", "correct"),
    ("\\frac{1}{2}", "\\frac{1}{3}", "wrong"),
    ("0.25", "\\frac14", "correct"),
    ("\\frac{1}{3}", "0.333333", "correct"),  # math-verify rounds to 6 places
    ("\\frac{1}{3}", "0.333", "wrong"),
    ("\\sqrt{2}/2", "\\frac{\\sqrt2}{2}", "correct"),
    ("2\\sqrt{3}", "\\sqrt{12}", "correct"),
    ("x^2+2x+1", "(x+1)^2", "correct"),
    ("\\log_2 3", "\\frac{\\ln 3}{\\ln 2}", "correct"),
    ("6-5i", "6 - 5i", "correct"),
    ("(1,2)", "(1, 2)", "correct"),
    ("(1,2)", "(2,1)", "wrong"),  # ordered pairs / open intervals keep their order
    ("[1,3)", "[1,3)", "correct"),
    ("[1,3)", "(1,3)", "wrong"),
    ("-\\frac{1}{2}<x<1", "(-\\frac12,1)", "correct"),
    ("x\\in[1,2]", "[1,2]", "correct"),
    ("\\{1,2\\}", "\\{2,1\\}", "correct"),
    ("1,2", "2,1", "correct"),
    ("3, 5, 7", "7,5,3", "correct"),
    ("a=1,b=2", "b=2,a=1", "correct"),
    ("x=2", "2", "correct"),
    ("2", "x=2", "correct"),
    ("3", "x^2=9", "wrong"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "correct"),
    ("30^\\circ", "30", "correct"),
    ("30^{\\circ}", "30^\\circ", "correct"),
    ("5\\text{ cm}", "5", "correct"),
    ("50\\%", "50", "correct"),
    ("\\text{Yes}", "\\text{yes}", "correct"),
    ("7", "\\text{seven}", "wrong"),
    ("\\infty", "\\infty", "correct"),
    ("①③", "①③", "correct"),  # no mathematics to parse: compared as strings
    # Multiple choice (see curate.mathcheck's docstring).
    ("B", "B", "correct"),
    ("\\text{(B)}", "B", "correct"),
    ("B", "\\textbf{(B)}", "correct"),
    ("B", "C", "wrong"),
    ("B", "\\frac{1}{2}", "wrong"),  # a value cannot be checked against a bare letter
    ("\\frac{1}{2}", "B", "wrong"),  # a bare letter is not a full answer (OpenR1's Llama labels say yes)
    ("10", "D", "wrong"),  # tests/data row 21: the trace boxes the option, the dataset has its value
    ("12", "\\textbf{(C)}\\ 12", "correct"),  # the option's value is checked
    ("\\textbf{(C)}\\ 12", "12", "correct"),
    ("\\textbf{(C)}\\ 12", "\\text{(C)}", "correct"),
    ("C", "12", "wrong"),
    # Spacing between digits separates numbers; a thin space before three digits separates thousands.
    ("34", "3\\quad 4", "wrong"),
    ("34", "3\\ 4", "wrong"),
    ("34", "3~4", "wrong"),
    ("23", "2\\;3", "wrong"),
    ("34", "3 4", "wrong"),
    ("1000", "1\\,000", "correct"),
    ("1000", "1{,}000", "correct"),
    # Choice golds in delimiters or boxes.
    ("\\(\\boxed{\\text{C}}\\)", "C", "correct"),
    ("\\(\\boxed{\\text{C}}\\).", "\\text{(C)}", "correct"),
    ("\\(\\boxed{\\text{C}}\\)", "D", "wrong"),
    ("$\\boxed{B}$", "(B)", "correct"),
    ("\\[\\textbf{(D)}\\ 7\\]", "7", "correct"),
    # Several parts joined from several boxes.
    ("(2, 3)", "2, 3", "correct"),
    ("(2,2), (6,2)", "(2, 2), (6, 2)", "correct"),
    # Nothing to judge.
    ("", "5", "gold_unparsable"),
    ("5", "", "pred_unparsable"),
    ("5", "   ", "pred_unparsable"),
]


def test_verifier_hand_checked_table(verifier: Verifier) -> None:
    results = verifier.verify_many([(gold, pred) for gold, pred, _ in TABLE])
    got = [(gold, pred, r.status) for (gold, pred, _), r in zip(TABLE, results)]
    assert got == TABLE
    assert all(r.ok == (r.status == "correct") and r.status in STATUSES for r in results)


def test_verifier_dedupes_and_keeps_order(verifier: Verifier) -> None:
    before = dict(verifier.stats)
    pairs = [("4", "2+2"), ("4", "5"), ("4", "2+2"), ("\\frac{8}{2}", "4"), ("4", "5"), ("4", None)]
    statuses = [r.status for r in verifier.verify_many(pairs)]
    assert statuses == ["correct", "wrong", "correct", "correct", "wrong", "pred_unparsable"]
    assert verifier.stats["items"] - before["items"] == 6
    assert verifier.stats["unique"] - before["unique"] == 4
    assert verifier.stats["computed"] - before["computed"] == 3  # the None prediction needs no math-verify


def test_identical_answers_need_no_parse(verifier: Verifier) -> None:
    """A prediction equal to the gold up to formatting is correct without math-verify, even where math-verify
    cannot parse it (`\\boxed{50\\%}`); anything else still goes to math-verify."""
    before = dict(verifier.stats)
    pairs = [("50\\%", "50\\%"), ("\\dfrac{1}{2}", "\\frac{1}{2}"), ("025", "25"), ("5\\text{ cm}", "5")]
    statuses = [r.status for r in verifier.verify_many(pairs)]
    assert statuses[:3] == ["correct", "correct", "correct"]
    assert verifier.stats["identical"] - before["identical"] == 3
    assert verifier.stats["computed"] - before["computed"] == 1
    assert verifier.verify_many([]) == []


# The one equivalence the exact rule documents that math-verify 0.9 rejects: a thin space as thousands
# separator (`1\,296` is 1296; math-verify reads a product).
_DOCUMENTED = re.compile(r"\d\\,\d{3}")


def test_fast_path_accepts_nothing_math_verify_rejects() -> None:
    """Every pair the exact rule accepts without a parse, on ~7,000 pairs (the benchmark answers with
    equivalent and perturbed predictions from scripts/measure_verify.py, every integer gold with each LaTeX
    spacing between two of its digits, the peer suites' pairs), is accepted by math-verify too, or is a
    documented equivalence."""
    measure = scripts.load("measure_verify")
    golds = [g for b in ("aime2024", "aime2025", "amc23", "amc24", "math500") for g in measure.benchmark_answers(b)]
    golds = list(dict.fromkeys(golds + measure.realdata_golds(REALDATA)))
    pairs = [(gold, pred) for gold, pred, _, _ in measure.labelled_pairs(golds)]
    spacers = ["\\quad ", "\\qquad ", "\\ ", "~", "\\;", "\\:", "\\,", "\\!", " ", "\\>"]
    for gold in golds:
        if re.fullmatch(r"\d{2,}", gold):
            pairs += [(gold, gold[:k] + s + gold[k:]) for s in spacers for k in range(1, len(gold))]
    for line in PEER_CASES.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        pred = extract_answer(THINK + case["prediction"], case["gold"])
        if pred:
            pairs.append((case["gold"], pred))
    judge = Judge()
    accepted = rejected = 0
    unexplained = []
    for gold, pred in dict.fromkeys(pairs):
        fast = fast_verdict(gold, pred)
        if fast.rule != "exact":
            continue
        accepted += 1
        if judge.check(fast.gold, fast.pred) != "correct":
            rejected += 1
            if not _DOCUMENTED.search(pred) or _DOCUMENTED.search(gold):
                unexplained.append((gold, pred))
    assert accepted > 800 and unexplained == []
    assert rejected > 0  # the thin-space thousands are there, and math-verify says no to them


def test_verifier_works_off_the_main_thread(verifier: Verifier) -> None:
    """math-verify's SIGALRM timeouts raise in threads; the pool's deadlines do not depend on signals."""
    out: list[str] = []
    thread = threading.Thread(
        target=lambda: out.extend(r.status for r in verifier.verify_many([("9", "3^2")]))
    )
    thread.start()
    thread.join(60)
    assert out == ["correct"]


def test_hanging_item_is_killed_and_the_pool_recovers() -> None:
    with Verifier(workers=2, timeout=1.0) as v:
        assert v.verify("1", "0+1").ok  # workers up
        started = time.monotonic()
        results = v.verify_many([("3", TOWER), ("8", "2^3"), (TOWER, "3"), ("9", "9")])
        elapsed = time.monotonic() - started
        assert [r.status for r in results] == ["timeout", "correct", "timeout", "correct"]
        assert elapsed < 1.0 + 4.0, elapsed  # killed at the deadline (math-verify alone never returns)
        assert v.stats["timeouts"] == 2 and v.stats["restarts"] == 2
        assert [r.status for r in v.verify_many([("7", "7"), ("7", "8")])] == ["correct", "wrong"]


def test_a_gold_that_never_parses_times_out_once_for_all_its_items() -> None:
    gold = "(" * 3000  # takes math-verify's parser tens of seconds
    with Verifier(workers=1, timeout=1.5) as v:
        assert v.verify("1", "0+1").ok
        started = time.monotonic()
        results = v.verify_many([(gold, str(k)) for k in range(4)] + [("2", "2")])
        elapsed = time.monotonic() - started
    assert [r.status for r in results] == ["timeout"] * 4 + ["correct"]
    assert elapsed < 4.0, elapsed  # one deadline, not four (6 s)


def test_a_worker_that_dies_costs_its_item_an_error(verifier: Verifier) -> None:
    with Verifier(workers=1, timeout=30.0) as v:
        assert v.verify("1", "0+1").ok
        pid = v._pool[0].process.pid
        assert pid is not None
        killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))  # as the OOM killer would
        killer.start()
        started = time.monotonic()
        statuses = [r.status for r in v.verify_many([("3", TOWER), ("4", "2+2")])]
        killer.join()
        assert statuses == ["error", "correct"]
        assert time.monotonic() - started < 10
        assert v.verify("5", "10/2").ok


def test_cache_makes_reruns_instant(tmp_path: Path) -> None:
    cache = tmp_path / "verdicts" / "mathcheck.sqlite"
    pairs = [(str(k), f"{k}+0" if k % 3 else str(k + 1)) for k in range(60)] + [("3", TOWER)]
    with Verifier(workers=2, timeout=1.0, cache_path=cache) as first:
        statuses = [r.status for r in first.verify_many(pairs)]
        assert first.stats["computed"] == 61 and first.stats["cached"] == 0
    assert statuses.count("timeout") == 1 and statuses.count("wrong") == 20
    with Verifier(workers=2, timeout=1.0, cache_path=cache) as again:
        started = time.monotonic()
        assert [r.status for r in again.verify_many(pairs)] == statuses
        assert time.monotonic() - started < 0.5
        assert again.stats["cached"] == 61 and again.stats["computed"] == 0
        assert again.stats["restarts"] == 0 and not again._pool  # no worker was needed at all
    # A cached timeout stands for limits up to the one it ran under; a longer limit tries again.
    with Verifier(workers=1, timeout=0.5, cache_path=cache) as shorter:
        assert shorter.verify("3", TOWER).status == "timeout" and shorter.stats["cached"] == 1
    with Verifier(workers=1, timeout=1.5, cache_path=cache) as longer:
        assert longer.verify("3", TOWER).status == "timeout" and longer.stats["computed"] == 1


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="workers"):
        Verifier(workers=0)
    with pytest.raises(ValueError, match="timeout"):
        Verifier(timeout=0)


def _open_store_after(barrier: Any, path: str, results: Any) -> None:
    barrier.wait()
    try:
        _VerdictCache(Path(path), "config")
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(repr(exc))


def test_processes_creating_the_verdict_store_at_the_same_moment_all_open_it(tmp_path: Path) -> None:
    """Worker processes of a first run all open a store that does not exist yet, at once."""
    ctx = multiprocessing.get_context("fork")
    for attempt in range(5):
        path = str(tmp_path / f"store-{attempt}" / "mathcheck.sqlite")
        barrier, results = ctx.Barrier(8), ctx.Queue()
        procs = [ctx.Process(target=_open_store_after, args=(barrier, path, results)) for _ in range(8)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join()
        assert outcomes == ["ok"] * 8
