"""Measure the `decontaminate` filter: recall per copy family and false drops, on both halves of the benchmarks.

Copies. Every canonical problem of every bundled benchmark is copied once per family of the taxonomy in
`perturb_heldout.py` (formatting only, re-typeset, edited, template), by two independent generators:
`perturb_tuning.py` (what the thresholds were chosen with) and `perturb_heldout.py` (written from the
taxonomy before any threshold was chosen, never changed after). Each benchmark's problems are split in two
halves by position (even: the tuning half, odd: the held-out half); the defaults of `decontaminate` were
chosen on the tuning half with the tuning generators (`--sweep` prints that search), and the held-out half
is reported with both generators. A copy counts as caught when the filter flags it as a copy of its own
problem; for `numbers_changed` the tier matters (`template_copy` is the right one; `contaminated` means the
copy kept 90% of the numbers).

Real other wordings. `curate/data/benchmarks/variants/` holds other publishers' typesetting of the same
problems (MathArena, LLM-eval, OpenCompass, rLLM); here they are checked against an index of the canonical
wordings only (in production they are indexed too, so they are caught exactly).

Clean problems (false drops, each split by position into the same two halves): every problem of the other
benchmarks (each benchmark against an index of the six others), and as hard negatives the same problems cut
short (two ways) and renumbered, which look like partial and template copies without being copies of any
indexed problem; each benchmark's own problems against the
other half of the same benchmark (same competition, same phrasing, different problems); the real OpenR1
problems of `tests/data` (and the 10 real R1 rows of `openr1_r1_traces.jsonl` where present), less the one
that paraphrases a MATH-500 problem (reported on its own line); and a few thousand competition-style
problems made from templates that reuse the benchmarks' stock phrases. A flag of either tier is a false drop
(template copies are dropped by default).

Run: `python scripts/measure_decontam.py [--show] [--sweep]` (`--show` lists every miss and every flagged
clean row; `--sweep` tries thresholds on the tuning half). Speed is measured by `scripts/measure_dedup.py`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curate import benchmarks
from curate.textnorm import normalize
from filters.decontam import ContaminationIndex

sys.path.insert(0, str(Path(__file__).resolve().parent))
import perturb_heldout
import perturb_tuning

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT / "tests" / "data" / "openr1_problems_with_regenerations.jsonl"
R1_TRACES = [ROOT / "tests" / "data" / "openr1_r1_traces.jsonl", Path("/work/shared/realdata/openr1_r1_traces.jsonl")]
# A real OpenR1 problem that paraphrases MATH-500 intermediate_algebra/1388: contamination, not a clean row.
KNOWN_COPY = "test/intermediate_algebra/1388.json"
GENERATORS = {"tuning": perturb_tuning, "heldout": perturb_heldout}
HALVES = ("tuning", "held-out")

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
    """The real OpenR1 problems at hand: tests/data's 54, plus the real R1 rows' problems where present."""
    problems = [json.loads(line)["user_prompt"] for line in REALDATA.read_text(encoding="utf-8").splitlines() if line]
    for path in R1_TRACES:
        if path.exists():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            problems += [row["messages"][0]["content"] for row in rows]
            break
    return list(dict.fromkeys(problems))


PARTIAL = ("partial_words", "partial_sentence", "combined")  # combined: formatting, then a cut or a paraphrase
# A partial copy is a copy when it holds most of the problem: a cut that leaves "Evaluate" of "Evaluate
# $(1+2i)6-3i$." holds nothing of it. Copies holding less are counted on a line of their own.
MOST = 0.6


def content_share(copy: str, original: str) -> float:
    """Share of the original's normalised tokens that a partial copy (a prefix of it) still holds."""
    return len(normalize(copy).split()) / max(1, len(normalize(original).split()))


def halves(items: Sequence[Any]) -> dict[str, list[Any]]:
    """Items at even positions (the tuning half) and at odd positions (the held-out half)."""
    return {"tuning": list(items[0::2]), "held-out": list(items[1::2])}


class Tally:
    """Counts per (half, group, family), with the examples that went wrong."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        self.examples: dict[tuple[str, str, str], list[str]] = defaultdict(list)

    def add(self, half: str, group: str, family: str, hit: bool, other: bool = False, example: str = "") -> None:
        cell = self.counts[(half, group, family)]
        cell[0] += hit
        cell[1] += 1
        cell[2] += other
        if example:
            self.examples[(half, group, family)].append(example)

    def rate(self, half: str, group: str, family: str) -> float:
        hit, total, _ = self.counts[(half, group, family)]
        return hit / total if total else float("nan")


def copies_caught(index: ContaminationIndex, tally: Tally, seed: int, tuning_only: bool = False) -> None:
    """Recall per family: every canonical problem, both generators, both halves (`tuning_only`: the tuning
    half with the tuning generators, what the thresholds were chosen on)."""
    for name in benchmarks.NAMES:
        for half, items in halves(benchmarks.canonical(name)).items():
            if tuning_only and half != "tuning":
                continue
            for generator, module in GENERATORS.items():
                if tuning_only and generator != "tuning":
                    continue
                for family in perturb_heldout.FAMILIES:
                    chosen = [i for i in items if perturb_heldout.applies(family, i.problem)]
                    rng = random.Random(f"{seed}/{generator}/{name}/{family}")
                    texts = [module.copy(family, item.problem, rng) for item in chosen]
                    if family == "numbers_changed":  # numbers only in figure code, which no one reads
                        kept = [normalize(t) != normalize(i.problem) for i, t in zip(chosen, texts)]
                        chosen = [i for i, k in zip(chosen, kept) if k]
                        texts = [t for t, k in zip(texts, kept) if k]
                    for item, text, hit in zip(chosen, texts, index.match(texts)):
                        if family in PARTIAL and content_share(text, item.problem) < MOST:
                            tally.add(half, generator, f"{family}: holds < 60%", hit is not None)
                            continue
                        right = hit is not None and (hit.item.benchmark, hit.item.id) == (item.benchmark, item.id)
                        tier_ok = right and (hit.tier == "template_copy") == (family == "numbers_changed")
                        miss = "" if right else f"{name} {item.id}: {text[:160]!r}"
                        tally.add(half, generator, family, right, right and not tier_ok, miss)


def variants_caught(tally: Tally, **options: Any) -> None:
    """Other publishers' wordings against an index of the canonical wordings only."""
    canonical = [item for name in benchmarks.NAMES for item in benchmarks.canonical(name)]
    reference = [item for name in benchmarks.NAMES for item in benchmarks.load(name)]
    index = ContaminationIndex(canonical, reference, **options)
    for name in benchmarks.NAMES:
        ids = halves([item.id for item in benchmarks.canonical(name)])
        wordings = benchmarks.variants(name)
        for wording, hit in zip(wordings, index.match([w.problem for w in wordings])):
            half = "tuning" if wording.id in ids["tuning"] else "held-out"
            right = hit is not None and (hit.item.benchmark, hit.item.id) == (wording.benchmark, wording.id)
            tally.add(half, "variants", "other published wordings", right, example="" if right else f"{wording.wording} {wording.id}")


def clean_flagged(
    tally: Tally, clean_count: int, seed: int, tuning_only: bool = False, **options: Any
) -> dict[str, Any]:
    """False drops on clean problems of four kinds; the real paraphrase of MATH-500 on its own."""
    reference = [item for name in benchmarks.NAMES for item in benchmarks.load(name)]
    full = ContaminationIndex.build(list(benchmarks.NAMES), **options)

    def check(index: ContaminationIndex, group: str, half: str, problems: list[str], label: str = "") -> None:
        for problem, hit in zip(problems, index.match(problems)):
            flagged = "" if hit is None else f"[{label or group}] {hit.detail()} :: {problem[:120]!r}"
            tally.add(half, "clean", group, hit is not None, hit is not None and hit.tier == "template_copy", flagged)

    for name in benchmarks.NAMES:
        others = ContaminationIndex.build([n for n in benchmarks.NAMES if n != name], **options)
        for half, items in halves(benchmarks.canonical(name)).items():
            if not (tuning_only and half != "tuning"):
                check(others, "other benchmarks", half, [i.problem for i in items], f"{name} vs the others")
                # Hard negatives: fragments and renumbered copies of competition problems, against benchmarks
                # they are not from (what partial and template copies look like, without being any).
                rng = random.Random(f"{seed}/fragments/{name}/{half}")
                fragments = [
                    perturb_tuning.copy(family, item.problem, rng)
                    for item in items
                    for family in ("partial_words", "partial_sentence", "numbers_changed")
                ]
                check(others, "fragments of others", half, fragments, f"{name} fragment vs the others")
        parts = halves(benchmarks.canonical(name))
        for half, other in (("tuning", "held-out"), ("held-out", "tuning"))[: 1 if tuning_only else 2]:
            indexed = {item.id for item in parts[other]}
            index = ContaminationIndex([w for w in benchmarks.load(name) if w.id in indexed], reference, **options)
            check(index, "same benchmark", half, [i.problem for i in parts[half]], f"{name} half")
    real = realdata_problems()
    known = [p for p, hit in zip(real, full.match(real)) if hit is not None and hit.item.id == KNOWN_COPY]
    real = [p for p in real if p not in known]
    for half, problems in halves(real).items():
        check(full, "real OpenR1", half, problems)
    for half, problems in halves(clean_problems(clean_count, seed)).items():
        check(full, "stock-phrase templates", half, problems)
    return {"known_copy_caught": bool(known)}


def measure(clean_count: int = 3000, seed: int = 0, tuning_only: bool = False, **options: Any) -> dict[str, Any]:
    """Recall per family and generator, variant recall, and false drops on clean problems, per half; `options`
    go to `ContaminationIndex` (thresholds, detectors)."""
    tally = Tally()
    index = ContaminationIndex.build(list(benchmarks.NAMES), **options)
    copies_caught(index, tally, seed, tuning_only)
    if not tuning_only:
        variants_caught(tally, **options)
    extra = clean_flagged(tally, clean_count, seed, tuning_only, **options)
    return {"tally": tally, **extra}


def false_drop_rate(tally: Tally, half: str) -> tuple[int, int]:
    flagged = sum(v[0] for (h, g, _), v in tally.counts.items() if h == half and g == "clean")
    total = sum(v[1] for (h, g, _), v in tally.counts.items() if h == half and g == "clean")
    return flagged, total


def print_report(result: dict[str, Any], show: bool = False) -> None:
    tally: Tally = result["tally"]
    print(f"{'family':<26}" + "".join(f"{h + ' / ' + g:>24}" for h in HALVES for g in GENERATORS))
    for family in [*perturb_heldout.FAMILIES, *(f"{p}: holds < 60%" for p in PARTIAL)]:
        cells = []
        for half in HALVES:
            for generator in GENERATORS:
                hit, total, wrong_tier = tally.counts[(half, generator, family)]
                note = f" ({wrong_tier} other tier)" if wrong_tier else ""
                cells.append(f"{hit}/{total} {hit / total:.1%}{note}" if total else "-")
        print(f"{family:<26}" + "".join(f"{c:>24}" for c in cells))
    for half in HALVES:
        hit, total, _ = tally.counts[(half, "variants", "other published wordings")]
        print(f"variants ({half} half), canonical-only index: {hit}/{total} {hit / total:.1%}")
    print(f"\n{'clean set':<26}" + "".join(f"{h:>24}" for h in HALVES))
    for group in ("other benchmarks", "fragments of others", "same benchmark", "real OpenR1", "stock-phrase templates"):
        cells = []
        for half in HALVES:
            flagged, total, template = tally.counts[(half, "clean", group)]
            cells.append(f"{flagged}/{total} {flagged / total:.2%}" + (f" ({template} tmpl)" if template else ""))
        print(f"{group:<26}" + "".join(f"{c:>24}" for c in cells))
    cells = []
    for half in HALVES:
        flagged, total = false_drop_rate(tally, half)
        cells.append(f"{flagged}/{total} {flagged / total:.2%}")
    print(f"{'all clean':<26}" + "".join(f"{c:>24}" for c in cells))
    print(f"real OpenR1 paraphrase of MATH-500 {KNOWN_COPY}: {'caught' if result['known_copy_caught'] else 'missed'}")
    if show:
        for key, examples in sorted(tally.examples.items()):
            for example in examples:
                print(f"{' / '.join(key)}: {example}")


SWEEP = {
    "containment": [0.7, 0.75, 0.8, 0.85, 0.9],
    "partial": [0.35, 0.4, 0.45, 0.5, 0.55],
    "template": [0.7, 0.75, 0.8, 0.85, 0.9],
}


def sweep(clean_count: int, seed: int) -> None:
    """One threshold at a time around the defaults, on the tuning half with the tuning generators only."""
    from filters.decontam import Thresholds

    base = Thresholds()
    for field, values in SWEEP.items():
        for value in values:
            thresholds = Thresholds(**{**base.__dict__, field: value})
            result = measure(clean_count, seed, tuning_only=True, thresholds=thresholds)
            tally: Tally = result["tally"]
            rates = {f: tally.rate("tuning", "tuning", f) for f in perturb_heldout.FAMILIES if f != "numbers_changed"}
            worst = min((rate, f) for f, rate in rates.items())
            edited = " ".join(f"{f} {rates[f]:.1%}" for f in ("partial_words", "partial_sentence", "combined"))
            flagged, total = false_drop_rate(tally, "tuning")
            print(
                f"{field}={value}: worst family {worst[1]} {worst[0]:.1%} ({edited}), template "
                f"{tally.rate('tuning', 'tuning', 'numbers_changed'):.1%}, false drops {flagged}/{total}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", type=int, default=3000, help="template-made clean problems")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", action="store_true", help="list missed copies and flagged clean rows")
    parser.add_argument("--sweep", action="store_true", help="try thresholds on the tuning half")
    args = parser.parse_args(argv)
    if args.sweep:
        sweep(args.clean, args.seed)
        return 0
    print_report(measure(args.clean, args.seed), args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
