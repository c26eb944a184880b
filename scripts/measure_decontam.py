"""Measure the `decontaminate` filter on planted cases whose right answer is known.

Contaminated rows are built from the bundled benchmark problems (every canonical item of every set), one
per copy kind:

- verbatim: the problem as published;
- formatting-only copies: whitespace (`whitespace`), case (`case`), `$...$` as `\\(...\\)` and `$$...$$` as
  `\\[...\\]` (`delimiters`), `\\frac` as `\\dfrac` and `\\left(`/`\\,` spacing (`latex`), a contest numbering
  prefix (`numbering`), an added evaluation prompt (`prompt`), and all of these at once (`formatting`);
- `embedded`: the problem inside extra text (an introduction before it, answer choices or a remark after);
- `reworded`: a few words substituted and inserted, sentence order kept (one substitution per 15 words, at
  least one and at most three, and one insertion per 25 words, at least one and at most two; numbers and
  formulas untouched).

Clean rows must not be flagged: the 54 real OpenR1 problems of `tests/data`; every canonical problem of
the other benchmarks (each benchmark is decontaminated on its own and the rest is its clean set; the sets
share no problem); each benchmark's own problems against the other half of the same benchmark (index the even
items, check the odd ones, and the reverse: same competition, same phrasing, different problems); and a few
thousand competition-style problems made from templates that reuse the benchmarks' stock phrases ("Find the
remainder when N is divided by 1000", "where m and n are relatively prime positive integers"). Variant
wordings (`variants/`) must all be caught under their benchmark's name.

Run: `python scripts/measure_decontam.py [--show]` (`--show` lists every miss and every flagged clean row).
Speed is measured by `scripts/measure_dedup.py`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from curate import benchmarks
from curate.benchmarks import Item
from curate.filters.decontam import ContaminationIndex

REALDATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "openr1_problems_with_regenerations.jsonl"
FORMATTING_KINDS = ("whitespace", "case", "delimiters", "latex", "numbering", "prompt", "formatting")
KINDS = ("verbatim", *FORMATTING_KINDS, "embedded", "reworded")

# ---------------------------------------------------------------------------------------------------------
# Clean competition-style problems

_NAMES = [
    "Alice",
    "Bob",
    "Carol",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Wei",
    "Xavier",
    "Yuki",
    "Zara",
    "Li Ming",
    "Xiao Hong",
    "Petya",
    "Vasya",
    "Masha",
]
_OBJECTS = ["marbles", "coins", "apples", "pencils", "books", "stamps", "cards", "candies", "tiles", "balls"]
_COLORS = ["red", "blue", "green", "yellow", "white", "black"]
_SHAPES = ["square", "regular hexagon", "equilateral triangle", "rectangle", "rhombus", "regular octagon"]

TEMPLATES: list[str] = [
    "Find the remainder when ${a}^{{{N}}}$ is divided by $1000$.",
    "Find the remainder when $\\sum_{{k=1}}^{{{N}}} k^{{{b}}}$ is divided by $1000$.",
    "Let $N$ be the number of positive integers less than or equal to ${N}$ that are divisible by ${a}$ or "
    "${b}$ but not by ${c}$. Find the remainder when $N$ is divided by $1000$.",
    "Let $N$ be the number of ordered pairs $(x,y)$ of integers with $1 \\le x, y \\le {N}$ such that "
    "$x^2 + {a}y^2$ is divisible by ${p}$. Find the remainder when $N$ is divided by $1000$.",
    "The probability that a randomly chosen divisor of ${big}$ is a multiple of ${a}$ is $\\frac{{m}}{{n}}$, "
    "where $m$ and $n$ are relatively prime positive integers. Find $m+n$.",
    "A bag contains ${a}$ {color1} {obj} and ${b}$ {color2} {obj}. {name} draws ${c}$ {obj} at random without "
    "replacement. The probability that all of them have the same color is $\\frac{{m}}{{n}}$, where $m$ and $n$ "
    "are relatively prime positive integers. Find $m+n$.",
    "Two fair {d}-sided dice are rolled. The probability that the product of the numbers rolled is a multiple "
    "of ${a}$ can be written as $\\frac{{m}}{{n}}$, where $m$ and $n$ are relatively prime positive integers. "
    "Find $m+n$.",
    "Let $\\triangle ABC$ have side lengths $AB={a2}$, $BC={b2}$, and $CA={c2}$. Let $I$ be the incenter of "
    "$\\triangle ABC$. The length $AI$ can be written as $\\frac{{m\\sqrt{{p}}}}{{n}}$, where $m$, $n$, and $p$ are "
    "positive integers, $m$ and $n$ are relatively prime, and $p$ is not divisible by the square of any prime. "
    "Find $m+n+p$.",
    "In triangle $ABC$, $AB = {a2}$, $AC = {b2}$, and $BC = {c2}$. The angle bisector of $\\angle A$ meets "
    "$BC$ at $D$. Find $BD \\cdot DC$.",
    "A {shape} has side length ${a}$. A point $P$ inside it is at distance ${b}$ from one vertex. Find the "
    "largest possible distance from $P$ to the opposite vertex.",
    "Let $ABCD$ be a convex quadrilateral with $AB = {a}$, $BC = {b}$, $CD = {c}$, and $DA = {d}$, and "
    "suppose that $ABCD$ has an inscribed circle. Find the largest possible area of $ABCD$.",
    "Find the number of ordered pairs $(a,b)$ of positive integers such that $a + b = {N}$ and neither $a$ "
    "nor $b$ has a zero digit.",
    "Find the number of subsets of $\\{{1,2,3,\\ldots,{c2}\\}}$ that contain no two consecutive integers and "
    "have exactly ${a}$ elements.",
    "How many positive integers less than ${N}$ are equal to ${a}$ times the sum of their digits?",
    "How many positive integers $n \\le {N}$ have the property that $n^2 + {a}n + {b}$ is a perfect square?",
    "What is the smallest positive integer $n$ such that $n!$ is divisible by ${big}$?",
    "What is the largest prime factor of ${big}$?",
    "What is the sum of all positive divisors of ${big}$ that are perfect squares?",
    "What is the value of $\\frac{{{a}^{{3}} - {b}^{{3}}}}{{{a}^{{2}} + {a}\\cdot {b} + {b}^{{2}}}}$?",
    "Compute $\\dbinom{{{c2}}}{{{a}}} - \\dbinom{{{c2}}}{{{b}}}$.",
    "Compute $\\sum_{{k=0}}^{{{c}}} \\binom{{{c}}}{{k}} {a}^k$.",
    "Evaluate $\\left\\lfloor \\sqrt{{{N}}} \\right\\rfloor + \\left\\lceil \\sqrt{{{big}}} \\right\\rceil$.",
    "Simplify $\\sqrt{{{a2}}} \\cdot \\sqrt{{{b2}}}$. Express your answer in simplest radical form.",
    "What is the probability that a randomly chosen positive integer from $1$ to ${N}$ is relatively prime to "
    "${a}$? Express your answer as a common fraction.",
    "If $f(x) = {a}x^2 - {b}x + {c}$, what is the value of $f(f({d}))$?",
    "If $x + \\frac{{1}}{{x}} = {a}$, what is the value of $x^{{{b}}} + \\frac{{1}}{{x^{{{b}}}}}$?",
    "Solve for $x$: ${a}x - {b} = {c}x + {d}$. Express your answer as a common fraction.",
    "The sum of the first ${a}$ terms of an arithmetic sequence is ${N}$, and the sum of the first ${b}$ terms "
    "is ${big}$. Find the sum of the first ${c2}$ terms.",
    "The first term of a geometric sequence is ${a}$ and the ratio of the sum of the first ${b}$ terms to the "
    "sum of the first ${c}$ terms is ${d}$. Find the common ratio.",
    "Let $a_1 = {a}$ and $a_{{n+1}} = a_n^2 - {b}a_n + {c}$ for $n \\ge 1$. Find the remainder when $a_{{{c2}}}$ "
    "is divided by ${p}$.",
    "Let $P(x)$ be a polynomial of degree ${c}$ such that $P(k) = \\frac{{1}}{{k}}$ for $k = 1, 2, \\ldots, {d}$. "
    "Find $P({N})$.",
    "The roots of $x^3 - {a}x^2 + {b}x - {c} = 0$ are $r$, $s$, and $t$. Find $r^2 + s^2 + t^2$.",
    "Find the number of real solutions of the equation $\\sin x = \\frac{{x}}{{{N}}}$.",
    "Find all real numbers $x$ such that $\\sqrt{{x + {a}}} + \\sqrt{{x - {b}}} = {c}$.",
    "Find the minimum value of $\\frac{{x^2 + {a}}}{{\\sqrt{{x^2 + {b}}}}}$ over all real numbers $x$.",
    "Let $x, y, z$ be positive real numbers with $x + y + z = {a}$. Find the maximum value of $x^{{{b}}} y z$.",
    "Prove that for all positive reals $a, b, c$ with $abc = 1$, $\\frac{{1}}{{a^{{{c}}}(b+c)}} + "
    "\\frac{{1}}{{b^{{{c}}}(c+a)}} + \\frac{{1}}{{c^{{{c}}}(a+b)}} \\ge \\frac{{3}}{{2}}$.",
    "Find all functions $f: \\mathbb{{R}} \\to \\mathbb{{R}}$ such that $f(x + y) + f(x - y) = {a}f(x)f(y)$ for "
    "all real numbers $x$ and $y$.",
    "Find all pairs of primes $(p, q)$ such that $p^2 - {a}q^2 = {b}$.",
    "Determine all positive integers $n$ such that ${a}^n + {b}$ is a perfect square.",
    "{name} has ${N}$ {obj}. {name} gives $\\frac{{1}}{{{a}}}$ of them to {name2} and then ${b}$ more. How many "
    "{obj} does {name} have left?",
    "{name} and {name2} start walking toward each other from two towns ${N}$ km apart. {name} walks at ${a}$ "
    "km/h and {name2} walks at ${b}$ km/h. After how many hours do they meet?",
    "A train ${N}$ meters long passes a pole in ${a}$ seconds and a bridge in ${c2}$ seconds. How long is the "
    "bridge?",
    "A tank is filled by pipe A in ${a}$ hours and emptied by pipe B in ${b}$ hours. If both pipes are open, how "
    "many hours does it take to fill the tank?",
    "{name} bought ${a}$ notebooks and ${b}$ pens for ${N}$ yuan. A notebook costs ${c}$ yuan more than a pen. "
    "How much does one pen cost?",
    "There are ${N}$ students in a school. ${a}\\%$ of them play football and ${b}\\%$ play chess, while "
    "${c}\\%$ play both. How many students play neither?",
    "The average of ${a}$ numbers is ${b2}$. When one number is removed, the average becomes ${c2}$. What "
    "number was removed?",
    "In how many ways can ${a}$ boys and ${b}$ girls sit in a row so that no two girls sit next to each other?",
    "In how many ways can the letters of the word {word} be arranged so that the vowels are not adjacent?",
    "How many ${c}$-digit numbers have digits whose sum is ${d2}$?",
    "A committee of ${a}$ people is chosen from ${b2}$ men and ${c2}$ women. In how many ways can this be done "
    "if the committee must contain at least ${b}$ women?",
    "Each cell of a ${a} \\times {a}$ grid is colored {color1} or {color2}. How many colorings have no ${b} \\times "
    "{b}$ square that is entirely {color1}?",
    "A frog starts at $0$ on the number line and jumps $+{a}$ or $-{b}$ each second. What is the least number "
    "of jumps needed to reach ${N}$?",
    "Calculate the limit of the function: $\\lim _{{x \\rightarrow {a}}} \\frac{{x^{{{b}}}-{a}^{{{b}}}}}{{x-{a}}}$",
    "Calculate the definite integral: $\\int_{{0}}^{{{a}}} x^{{{b}}} e^{{-x}} \\, dx$",
    "Find the derivative of $y = \\ln\\left(x^{{{a}}} + \\sqrt{{x^{{2}} + {b}}}\\right)$.",
    "Find the area of the figure bounded by the curves $y = x^{{{a}}}$ and $y = {b}x$.",
    "A sphere of radius ${a}$ is inscribed in a cone whose height is ${b2}$. Find the volume of the cone.",
    "The diagonals of a rhombus are ${a2}$ and ${b2}$. Find the radius of the circle inscribed in the rhombus.",
    "A circle of radius ${a}$ is tangent to two sides of a {shape} with side ${b2}$. Find the distance from its "
    "center to the third side.",
    "Point $P$ lies on the circumcircle of square $ABCD$ with $PA \\cdot PC = {a2}$ and $PB \\cdot PD = {b2}$. "
    "Find the area of $ABCD$.",
    "Two circles with radii ${a}$ and ${b}$ are externally tangent. Find the length of their common external "
    "tangent.",
    "Which of the following is the largest? $\\textbf{{(A)}}\\ {a}^{{{c2}}} \\qquad\\textbf{{(B)}}\\ {b}^{{{d2}}} "
    "\\qquad\\textbf{{(C)}}\\ {c}^{{{a2}}} \\qquad\\textbf{{(D)}}\\ {d}^{{{b2}}} \\qquad\\textbf{{(E)}}\\ {N}$",
    "What is the value of ${a} + {b} \\cdot {c} - {d}$?\n$\\textbf{{(A)}}\\ {a2} \\qquad\\textbf{{(B)}}\\ {b2} "
    "\\qquad\\textbf{{(C)}}\\ {c2} \\qquad\\textbf{{(D)}}\\ {d2} \\qquad\\textbf{{(E)}}\\ {N}$",
    "The equation $x^2 - {a}x + {b} = 0$ has roots $\\alpha$ and $\\beta$. Then $\\alpha^2 + \\beta^2$ equals ( ).\n"
    "A. ${c2}$\nB. ${d2}$\nC. ${a2}$\nD. ${b2}$",
    "Given the sequence $\\{{a_n\\}}$ with $a_1 = {a}$ and $a_{{n+1}} = {b}a_n + {c}$, then $a_{{{d}}} = $ "
    "$\\qquad$ .",
    "Given $\\tan \\alpha = {a}$, then $\\frac{{\\sin \\alpha + {b}\\cos \\alpha}}{{{c}\\sin \\alpha - \\cos "
    "\\alpha}} = $ $\\qquad$ .",
    "The set $A = \\{{x \\mid x^2 - {a}x + {b} < 0\\}}$ and $B = \\{{x \\mid x > {c}\\}}$. Find $A \\cap B$.",
    "Let $z$ be a complex number such that $|z - {a}| = {b}$ and $|z + {c}i| = {d}$. Find the largest possible "
    "value of $|z|$.",
    "Find the last two digits of ${a}^{{{N}}}$.",
    "Find the greatest common divisor of ${big}$ and ${N}$.",
    "How many trailing zeros does ${N}!$ have?",
    "Find the number of positive divisors of ${big}$.",
    "Find the smallest positive integer $n$ such that ${a}n \\equiv {b} \\pmod{{{p}}}$.",
    "Let $S$ be the set of positive integers $n$ for which $\\frac{{1}}{{n}}$ has a repeating decimal of period "
    "${a}$. Find the number of elements of $S$.",
    "On a board the numbers $1, 2, \\ldots, {N}$ are written. In one move one may erase two numbers $a$ and $b$ "
    "and write $a + b - {a}$. What number remains at the end?",
    "There are ${a2}$ points on a circle. Each pair is joined by a chord, and no three chords meet at one "
    "interior point. Into how many regions do the chords divide the disk?",
    "{name} writes the numbers from $1$ to ${N}$ in a row. How many times does the digit ${a}$ appear?",
    "A clock shows {a}:{b2}. What is the angle between the hour hand and the minute hand, in degrees?",
    "A car travels ${N}$ km at ${a2}$ km/h and returns at ${b2}$ km/h. Find its average speed for the whole trip.",
    "Find the sum of all integers $k$ such that $\\binom{{{c2}}}{{{a}}} + \\binom{{{c2}}}{{{b}}} = "
    "\\binom{{{d2}}}{{k}}$.",
]

_WORDS = ["BANANA", "MISSISSIPPI", "ALGEBRA", "CONTEST", "PARABOLA", "TRIANGLE", "COMBINE", "SEQUENCE"]
_PRIMES = [7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53]


def _fields(rng: random.Random) -> dict[str, Any]:
    name, name2 = rng.sample(_NAMES, 2)
    color1, color2 = rng.sample(_COLORS, 2)
    return {
        "a": rng.randint(2, 9),
        "b": rng.randint(2, 9),
        "c": rng.randint(2, 9),
        "d": rng.randint(2, 9),
        "a2": rng.randint(10, 60),
        "b2": rng.randint(10, 60),
        "c2": rng.randint(10, 60),
        "d2": rng.randint(10, 60),
        "N": rng.randint(100, 2999),
        "big": rng.randint(3000, 999_999),
        "p": rng.choice(_PRIMES),
        "name": name,
        "name2": name2,
        "obj": rng.choice(_OBJECTS),
        "color1": color1,
        "color2": color2,
        "shape": rng.choice(_SHAPES),
        "word": rng.choice(_WORDS),
    }


_PREFIXES = [
    "",
    "",
    "",
    "{i}. ",
    "{i}. ({pts} points) ",
    "## Task B-{i}.{j}.\n\n",
    "Problem {i}. ",
    "Example {j} ",
    "{i}.{j}. ",
    "## Problem Statement\n\n",
]


def clean_problems(count: int, seed: int = 0) -> list[str]:
    """`count` distinct competition-style problems from the templates, with OpenR1-style numbering prefixes."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        template = rng.choice(TEMPLATES)
        text = template.format(**_fields(rng))
        prefix = rng.choice(_PREFIXES).format(
            i=rng.randint(1, 30), j=rng.randint(1, 9), pts=rng.randint(2, 20)
        )
        if text not in seen:
            seen.add(text)
            out.append(prefix + text)
    return out


def realdata_problems() -> list[str]:
    return [
        json.loads(line)["user_prompt"] for line in REALDATA.read_text(encoding="utf-8").splitlines() if line
    ]


# ---------------------------------------------------------------------------------------------------------
# Planted copies of benchmark problems

_FILLERS = ["really", "then", "also", "exactly", "now", "given", "here", "just", "all", "indeed"]
_SUBSTITUTES = {
    "find": "determine",
    "compute": "calculate",
    "what": "which",
    "number": "count",
    "positive": "nonnegative",
    "integers": "whole numbers",
    "integer": "whole number",
    "real": "actual",
    "let": "suppose",
    "each": "every",
    "sum": "total",
    "value": "amount",
    "such": "so",
    "that": "which",
    "is": "equals",
    "are": "were",
    "the": "a",
    "of": "for",
    "and": "as well as",
    "in": "inside",
    "on": "upon",
    "with": "having",
    "points": "dots",
    "point": "dot",
    "triangle": "trigon",
    "circle": "ring",
    "minutes": "mins",
    "probability": "chance",
    "largest": "greatest",
    "smallest": "least",
    "many": "much",
}
_MATH = re.compile(r"(\$\$.*?\$\$|\$.*?\$|\\\[.*?\\\]|\\\(.*?\\\))", re.DOTALL)
_INTROS = [
    "The following problem was given at a regional contest last spring and many students found it hard.",
    "Here is a problem from my homework that I could not solve, any help is appreciated.",
    "Consider the following question, which tests careful counting and some algebra.",
]
_OUTROS = [
    "Give your answer as an integer and justify each step of the argument.",
    "$\\textbf{(A)}\\ 12 \\qquad\\textbf{(B)}\\ 18 \\qquad\\textbf{(C)}\\ 24 \\qquad\\textbf{(D)}\\ 36 "
    "\\qquad\\textbf{(E)}\\ 48$",
    "Remark: this problem has a short solution using symmetry.",
]


def _words_outside_math(text: str) -> list[tuple[int, int]]:
    """Spans of plain alphabetic words that are not inside a formula."""
    spans = []
    pieces = _MATH.split(text)
    offset = 0
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            spans.extend(
                (offset + m.start(), offset + m.end()) for m in re.finditer(r"\b[A-Za-z]{2,}\b", piece)
            )
        offset += len(piece)
    return spans


def reword(text: str, rng: random.Random) -> str:
    """A few words substituted (synonym or filler) and a few inserted, outside formulas, order kept."""
    spans = _words_outside_math(text)
    if not spans:
        return text
    count = len(text.split())
    subs = min(3, max(1, count // 15))
    inserts = min(2, max(1, count // 25))
    chosen = rng.sample(range(len(spans)), min(len(spans), subs + inserts))
    edits = []
    for k, index in enumerate(chosen):
        start, end = spans[index]
        word = text[start:end]
        if k < subs:
            edits.append((start, end, _SUBSTITUTES.get(word.lower(), rng.choice(_FILLERS))))
        else:
            edits.append((start, start, rng.choice(_FILLERS) + " "))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _delimiters(text: str) -> str:
    text = re.sub(r"(?<!\\)\$\$(.*?)\$\$", r"\\[\1\\]", text, flags=re.DOTALL)
    return re.sub(r"(?<!\\)\$(.*?)(?<!\\)\$", r"\\(\1\\)", text, flags=re.DOTALL)


def _latex_math(math: str) -> str:
    math = math.replace("\\frac", "\\dfrac").replace("=", "\\,=\\,").replace("\\cdot", "\\;\\cdot\\;")
    return re.sub(r"(?<!\\)\(", r"\\left(", re.sub(r"(?<!\\)\)", r"\\right)", math))


def _latex(text: str) -> str:
    """`\\dfrac` for `\\frac`, `\\left(`/`\\right)` and thin spaces, inside formulas only."""
    return _MATH.sub(lambda m: _latex_math(m.group(0)), text)


def _whitespace(text: str) -> str:
    return "  " + re.sub(r" ", "   ", text).replace(". ", ".\n\n") + " \n"


def planted(item: Item, kind: str, rng: random.Random) -> str:
    """One contaminated copy of `item` of the given kind (see the module docstring)."""
    text = item.problem
    numbering = rng.choice(
        ["3. ", "9.6. ", "## Task B-1.3.\n\n", "Problem 4. ", "2. (6 points) ", "Example 2 "]
    )
    prompt = rng.choice(
        [
            "\n\nPlease reason step by step, and put your final answer within \\boxed{}.",
            " Let's think step by step and output the final answer within \\boxed{}.",
        ]
    )
    transforms: dict[str, Callable[[str], str]] = {
        "verbatim": lambda t: t,
        "whitespace": _whitespace,
        "case": lambda t: t.upper() if rng.random() < 0.5 else t.lower(),
        "delimiters": _delimiters,
        "latex": _latex,
        "numbering": lambda t: numbering + t,
        "prompt": lambda t: t + prompt,
        "formatting": lambda t: numbering + _whitespace(_latex(_delimiters(t.lower()))) + prompt,
        "embedded": lambda t: rng.choice(_INTROS) + "\n\n" + t + "\n\n" + rng.choice(_OUTROS),
        "reworded": lambda t: reword(t, rng),
    }
    return transforms[kind](text)


# ---------------------------------------------------------------------------------------------------------
# Measurement


def measure(clean_count: int = 3000, seed: int = 0, **options: Any) -> dict[str, Any]:
    """Recall per copy kind, variant recall, and the false-positive rate on clean problems; `options` go to
    `ContaminationIndex` (thresholds, detectors)."""
    rng = random.Random(seed)
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed: dict[str, list[str]] = defaultdict(list)
    false_pos: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    flagged_clean: list[str] = []
    templates = clean_problems(clean_count, seed)
    real = realdata_problems()
    full = ContaminationIndex.build(list(benchmarks.NAMES), **options)
    reference = [item for name in benchmarks.NAMES for item in benchmarks.load(name)]
    for name in benchmarks.NAMES:
        index = ContaminationIndex.build([name], **options)
        items = list(benchmarks.canonical(name))
        for kind in KINDS:
            copies = [planted(item, kind, rng) for item in items]
            for item, hit in zip(items, index.match(copies)):
                ok = hit is not None and hit.item.id == item.id
                recall[kind][0] += ok
                recall[kind][1] += 1
                if not ok:
                    missed[kind].append(f"{name} {item.id}")
        wordings = benchmarks.variants(name)
        for item, hit in zip(wordings, index.match([w.problem for w in wordings])):
            recall["variants"][0] += hit is not None and hit.item.id == item.id
            recall["variants"][1] += 1
        for parity in (0, 1):
            # the benchmark's own other problems: same competition, same phrasing, different problems
            indexed = {item.id for k, item in enumerate(items) if k % 2 == parity}
            half = ContaminationIndex(
                [w for w in benchmarks.load(name) if w.id in indexed], reference, **options
            )
            rest = [item.problem for k, item in enumerate(items) if k % 2 != parity]
            for problem, hit in zip(rest, half.match(rest)):
                false_pos["same benchmark"][0] += hit is not None
                false_pos["same benchmark"][1] += 1
                if hit is not None:
                    flagged_clean.append(f"[{name} half] {hit.detail()} :: {problem[:100]!r}")
        others = [
            i.problem for other in benchmarks.NAMES if other != name for i in benchmarks.canonical(other)
        ]
        for problem, hit in zip(others, index.match(others)):
            false_pos["other benchmarks"][0] += hit is not None
            false_pos["other benchmarks"][1] += 1
            if hit is not None:
                flagged_clean.append(f"[vs {name}] {hit.detail()} :: {problem[:100]!r}")
    for label, problems in (("templates", templates), ("realdata", real)):
        for problem, hit in zip(problems, full.match(problems)):
            false_pos[label][0] += hit is not None
            false_pos[label][1] += 1
            if hit is not None:
                flagged_clean.append(f"{hit.detail()} :: {problem[:100]!r}")
    total_fp = sum(v[0] for v in false_pos.values())
    total_clean = sum(v[1] for v in false_pos.values())
    return {
        "recall": {k: {"caught": v[0], "total": v[1], "rate": v[0] / v[1]} for k, v in recall.items()},
        "false_positives": {
            k: {"flagged": v[0], "total": v[1], "rate": v[0] / v[1]} for k, v in false_pos.items()
        },
        "false_positive_rate": total_fp / total_clean,
        "clean_total": total_clean,
        "missed": dict(missed),
        "flagged_clean": flagged_clean,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", type=int, default=3000, help="template-made clean problems")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", action="store_true", help="list missed copies and flagged clean rows")
    args = parser.parse_args(argv)
    result = measure(args.clean, args.seed)
    print(f"{'copy kind':<16}{'caught':>8}{'total':>8}{'recall':>9}")
    for kind, value in result["recall"].items():
        print(f"{kind:<16}{value['caught']:>8}{value['total']:>8}{value['rate']:>9.2%}")
    print(f"\n{'clean set':<18}{'flagged':>8}{'total':>8}{'rate':>9}")
    for label, value in result["false_positives"].items():
        print(f"{label:<18}{value['flagged']:>8}{value['total']:>8}{value['rate']:>9.2%}")
    print(f"{'all clean':<18}{'':>8}{result['clean_total']:>8}{result['false_positive_rate']:>9.2%}")
    if args.show:
        for kind, names in result["missed"].items():
            print(f"missed {kind}: {', '.join(names)}")
        for line in result["flagged_clean"]:
            print("flagged:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
