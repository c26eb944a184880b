"""Problem normalisation: every documented rule on its example, and invariance on real benchmark text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from curate import benchmarks
from curate.textnorm import mask_numbers, normalize, normalize_many, numbers, without_grouping

REALDATA = Path(__file__).resolve().parents[1] / "data" / "openr1_problems_with_regenerations.jsonl"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # 1. Unicode NFKC and math symbols
        ("Find ｘ² if ｘ−3 ≤ 4·y.", "find x ^ 2 if x - 3 \\le 4 \\cdot y ."),
        ("x²+y³=a₁₀, α+β≈π, x∈A∪B, ∠ABC, △ABC, ½", "x ^ 2 + y ^ 3 = a _ 10 , \\alpha + \\beta \\approx \\pi , x \\in a \\cup b , \\angle abc , \\triangle abc , 1 / 2"),
        ("An angle of 90° and π.", "an angle of 90 ^ \\circ and \\pi ."),
        # 2. images, figure code, control characters
        ("Find $x$. ![](https://cdn.mathpix.com/cropped/a.jpg?height=1)", "find x ."),
        ("Find $AB$. [asy]draw((0,0)--(1,1));[/asy]", "find ab ."),
        ("Find $AB$.\n<asy>\nunitsize(1cm);\n</asy>\n", "find ab ."),
        ("diff\x0berent colour\x00s", "diff erent colour s"),
        # 3. leading numbering and labels (the real OpenR1 styles)
        ("3. (6 points) A company built a tunnel.", "a company built a tunnel ."),
        ("9.6. Find the minimum value.", "find the minimum value ."),
        ("## Task B-1.3.\n\nFind $x$.", "find x ."),
        ("## Zadatak B-1.2.\n\nNa slici su.", "na slici su ."),
        ("Problem 4. Let $x=1$.", "let x = 1 ."),
        ("Problem 6. (8 points) In the plane.", "in the plane ."),
        ("Example 2 Let $a>0$.", "let a > 0 ."),
        ('Example 1 (Question from the 13th "Hope Cup" Invitational Competition) The roots.', "the roots ."),
        ("2. (9th Canadian Mathematical Competition) $N$ is an integer.", "n is an integer ."),
        ("Four, (50 points) In a grid.", "in a grid ."),
        ("8.59 For each pair of reals.", "for each pair of reals ."),
        ("11.005. The plane angle.", "the plane angle ."),
        ("1B. If $a=b$.", "if a = b ."),
        ("V-2 If one side.", "if one side ."),
        ("## Problem Statement\n\nCalculate the limit.", "calculate the limit ."),
        ("Question 3: What is $2+2$?", "what is 2 + 2 ?"),
        # ... but not a number that belongs to the problem
        ("2.5 kg of apples cost 3 dollars.", "2 . 5 kg of apples cost 3 dollars ."),
        ("Two is $10 \\%$ of $x$.", "two is 10 % of x ."),
        # 4. evaluation prompts
        (
            "Find $m+n$. Please reason step by step, and put your final answer within \\boxed{}.",
            "find m + n .",
        ),
        (
            "Find $m+n$.\nLet's think step by step and output the final answer within \\boxed{}.",
            "find m + n .",
        ),
        (
            "You will be given a problem. Please reason step by step, and put your final answer within "
            "\\boxed{}:\nFind the sum.",
            "find the sum .",
        ),
        (
            "8. Find the last digits.\n\nTranslate the above text into English, please keep the original "
            "text's line breaks and format, and output the translation result directly.",
            "find the last digits .",
        ),
        ("Find $n$.\n\n---\n\nThe translation preserves the original text's formatting.", "find n ."),
        (
            "Solve the following math problem step by step. Put the answer in \\boxed{}.\n\nFind $x$.",
            "find x .",
        ),
        # ... but an instruction that is the problem stays
        ("Solve the following equation for $x$: $2x=4$.", "solve the following equation for x : 2 x = 4 ."),
        # 5. delimiters
        ("Find $\\frac{1}{2}$ and $$x$$ and \\(y\\) and \\[z\\].", "find ( 1 ) / ( 2 ) and x and y and z ."),
        # 6. spacing and sizing
        ("$\\left( x \\right)\\,\\;\\!\\quad\\qquad y~z \\displaystyle w$", "( x ) y z w"),
        ("$\\bigl[ a \\Bigr]$ and $\\left. \\frac{d}{dx} \\right|_0$", "[ a ] and ( d ) / ( dx ) | _ 0"),
        # 7. synonyms and wrappers
        ("$\\dfrac{1}{2} + \\tfrac{3}{4} + \\dbinom{5}{2}$", "( 1 ) / ( 2 ) + ( 3 ) / ( 4 ) + \\binom 5 2"),
        ("$a \\leq b \\geqslant c \\neq d, \\ldots, \\cdots$", "a \\le b \\ge c \\ne d , \\dots , \\dots"),
        ("$\\frac12 + \\dfrac34$", "( 1 ) / ( 2 ) + ( 3 ) / ( 4 )"),
        ("$\\text{if } x \\mathrm{~cm} \\textbf{(A)}$", "if x cm ( a )"),
        # 8. braces and thousands separators
        ("$x^{2}$ and $x^2$ and $1{,}000$ and 1,000", "x ^ 2 and x ^ 2 and 1000 and 1000"),
        ("the numbers $7,11,13,14$", "the numbers 7 , 11 , 13 , 14"),
        # 9. case and tokens
        ("FIND $AD=4$ and $2x$.", "find ad = 4 and 2 x ."),
    ],
)
def test_rule_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_label_only_text_is_kept() -> None:
    # stripping everything would make every bare label equal to every other one and to the empty text
    assert normalize("Problem 4.") == "problem 4 ."
    assert normalize("") == ""
    assert normalize_many([None, "", "3. Find $x$."]) == ["", "", "find x ."]


def _retype(problem: str) -> list[str]:
    """The formatting-only changes a scraped copy shows, one at a time and all together."""
    delimiters = re.sub(r"(?<!\\)\$(.*?)(?<!\\)\$", r"\\(\1\\)", problem.replace("$$", "$"), flags=re.DOTALL)
    spaced = problem.replace("\\frac", "\\dfrac").replace("=", " \\,=\\, ")
    prompt = "\n\nPlease reason step by step, and put your final answer within \\boxed{}."
    return [
        "  " + problem.replace(" ", "  \n ") + "\n",
        problem.upper(),
        delimiters,
        spaced,
        "## Task B-1.3.\n\n" + problem,
        "3. (6 points) " + problem,
        problem + prompt,
        "9.6. " + delimiters.lower().replace("\\frac", "\\dfrac") + prompt,
    ]


@pytest.mark.parametrize("name", benchmarks.NAMES)
def test_formatting_changes_do_not_change_real_benchmark_problems(name: str) -> None:
    for item in benchmarks.canonical(name):
        reference = normalize(item.problem)
        for copy in _retype(item.problem):
            assert normalize(copy) == reference, (item.id, copy[:80])


def test_distinct_benchmark_problems_stay_distinct() -> None:
    texts = [normalize(item.problem) for name in benchmarks.NAMES for item in benchmarks.canonical(name)]
    assert len(set(texts)) == len(texts) == 717


def test_realdata_problems_lose_only_their_labels() -> None:
    problems = [json.loads(line)["user_prompt"] for line in REALDATA.read_text().splitlines() if line]
    normalised = dict(zip(problems, normalize_many(problems)))
    assert len(set(normalised.values())) == len(problems)
    starts = {p.split("\n")[0][:14]: normalised[p][:30] for p in problems}
    assert starts["3. (6 points) "].startswith("a construction company")
    assert starts["## Zadatak B-1"].startswith("na slici su prikazani")
    assert starts["Four, (50 poin"].startswith("in an n \\times n grid")
    assert starts["7.242. $\\left("].startswith("( 16 \\cdot 5 ^ 2 x")
    assert starts["## Problem Sta"].startswith("calculate the limit")
    assert starts["Example 1 (Que"].startswith("the real roots")
    translated = next(p for p in problems if "Translate the above text" in p)
    assert "translate" not in normalised[translated] and normalised[translated].endswith("( 100 sevens ) .")


def test_translation_note_is_stripped_whatever_its_spacing() -> None:
    """A copy that differs only in doubled spaces inside the note must normalise like the original."""
    original = "Find $x$ if $x+1=2$.\n\nTranslate the above text into English, please keep the line breaks."
    spaced = "Find  $x$ if $x+1=2$.\n\nTranslate  the above\ttext into  English, please keep the line breaks."
    assert normalize(spaced) == normalize(original) == "find x if x + 1 = 2 ."


def test_unicode_math_and_latex_agree_on_real_benchmark_text() -> None:
    """A problem typed in Unicode (superscripts, Greek, relations) normalises like its LaTeX original."""
    latex = "Let $\\alpha$ and $\\beta$ satisfy $\\alpha^2+\\beta^2 \\le 25$ with $x \\in A$ and $\\angle ABC = 90^\\circ$."
    unicode = "Let α and β satisfy α²+β² ≤ 25 with x ∈ A and ∠ABC = 90°."
    assert normalize(unicode) == normalize(latex)
    assert normalize("x₁₂ + y₃") == normalize("$x_{12} + y_3$") == "x _ 12 + y _ 3"


def test_fractions_agree_with_slashes_once_grouping_is_dropped() -> None:
    forms = ["$\\frac{1}{2} + \\sqrt{242}$", "$\\dfrac12 + \\sqrt{242}$", "1/2 + √(242)", "(1)/(2) + √242"]
    views = {without_grouping(normalize(form)) for form in forms}
    assert views == {"1 / 2 + \\sqrt 242"}
    # equality of normalised text keeps the parentheses: (a+b)^2 is not a+b^2
    assert normalize("$(a+b)^2$") != normalize("$a+b^2$")
    nested = normalize("$\\frac{\\frac{1}{2}}{3}$")
    assert nested == "( ( 1 ) / ( 2 ) ) / ( 3 )"


def test_numbers_masked_and_listed() -> None:
    text = normalize("Find the remainder when $2^{100}$ is divided by $7$, and $3.5$ kg.")
    assert mask_numbers(text) == "find the remainder when # ^ # is divided by # , and # . # kg ."
    assert numbers(text) == ["2", "100", "7", "3", "5"]
    assert mask_numbers(normalize("x2y")) == "x # y"  # digits are their own tokens
