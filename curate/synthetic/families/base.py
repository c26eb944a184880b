"""What every problem family returns, the word lists the families draw from, and how answers are typeset.

A family draws its parameters from the row's random generator and returns the problem text, the exact
answer (raw LaTeX, no `$`, as OpenR1 stores it), the derivation a solver would write (`steps`), checks a
solver would run (`checks`), a short human solution (the NuminaMath `solution` column) and plausible wrong
answers. Families keep several wide numeric parameters and word slots spread through the text, so two rows
of one family almost never share their text or come close to it: the sample must not hold duplicates that
are not planted on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from random import Random


@dataclass(frozen=True)
class Problem:
    text: str
    answer: str
    problem_type: str
    gist: str
    steps: tuple[str, ...]
    checks: tuple[str, ...]
    solution: str
    wrong: tuple[str, ...]
    family: str
    question_type: str = "math-word-problem"


NAMES = (
    "Li Ming",
    "Xiao Hua",
    "Wang Fang",
    "Zhang Wei",
    "Anna",
    "Bridgit",
    "Carol",
    "Mateen",
    "Petra",
    "Ivan",
    "Marko",
    "Tom",
    "Alice",
    "Bob",
    "Liu Yang",
    "Chen Jie",
    "Maria",
    "Lucas",
    "Sofia",
    "Mihai",
    "Elena",
    "Kenji",
    "Pablo",
    "Nadia",
    "Omar",
    "Vasya",
    "Petya",
    "Masha",
    "Dasha",
    "Kolya",
    "Ahmed",
    "Lena",
    "Sasha",
    "Zhao Lei",
    "Sun Li",
    "Hannah",
    "Jonas",
    "Greta",
    "Ilya",
    "Tanya",
)
PLACES = (
    "$A$",
    "$B$",
    "the village",
    "the station",
    "the school",
    "the factory",
    "the park",
    "the city",
    "the harbour",
    "the library",
    "the market",
    "the museum",
    "the farm",
    "the bridge",
    "the camp",
)
ITEMS = (
    ("pen", "pens"),
    ("notebook", "notebooks"),
    ("apple", "apples"),
    ("pear", "pears"),
    ("ball", "balls"),
    ("ticket", "tickets"),
    ("book", "books"),
    ("toy car", "toy cars"),
    ("cup", "cups"),
    ("kite", "kites"),
    ("ruler", "rulers"),
    ("eraser", "erasers"),
    ("flower pot", "flower pots"),
    ("jar of honey", "jars of honey"),
)
CURRENCIES = ("yuan", "dollars", "rubles", "euros", "kuna", "lei")
COLOURS = ("red", "white", "blue", "green", "yellow", "black")


def tex(value: Fraction | int) -> str:
    """A rational number as OpenR1 writes answers: `7`, `-3`, `\\frac{5}{12}`, `-\\frac{1}{3}`."""
    if isinstance(value, int):
        return str(value)
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def plain(value: Fraction | int) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def decimal(value: Fraction) -> str:
    """A terminating rational as a decimal without trailing zeros (`2996.25`, `1350`)."""
    whole, rest = divmod(abs(value.numerator) * 10**6 // value.denominator, 10**6)
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}" + (f".{rest:06d}".rstrip("0") if rest else "")


def surd(coef: Fraction, radicand: int) -> str:
    """`coef * sqrt(radicand)` simplified: `3\\sqrt{7}`, `\\frac{5\\sqrt{2}}{4}`, or a rational."""
    outside, inside = 1, radicand
    f = 2
    while f * f <= inside:
        while inside % (f * f) == 0:
            inside //= f * f
            outside *= f
        f += 1
    coef = Fraction(coef) * outside
    if inside == 1:
        return tex(coef)
    num = "" if abs(coef.numerator) == 1 else str(abs(coef.numerator))
    sign = "-" if coef < 0 else ""
    body = f"{num}\\sqrt{{{inside}}}"
    return f"{sign}{body}" if coef.denominator == 1 else f"{sign}\\frac{{{body}}}{{{coef.denominator}}}"


def poly_tex(coeffs: Sequence[int | Fraction]) -> str:
    """A polynomial from its coefficients, highest power first, as OpenR1 problems typeset it:
    `[5, -19, 0]` -> `5 x^{2}-19 x`."""
    terms = []
    top = len(coeffs) - 1
    for i, c in enumerate(coeffs):
        power = top - i
        if c == 0:
            continue
        body = "" if power == 0 else ("x" if power == 1 else f"x^{{{power}}}")
        number = "" if abs(c) == 1 and power else tex(-c if c < 0 else c)
        space = " " if number and body else ""
        terms.append(("-" if c < 0 else "+") + number + space + body)
    return "".join(terms).lstrip("+") or "0"


def wrongs(r: Random, value: Fraction | int, count: int = 4) -> tuple[str, ...]:
    """Plausible slips: off by one, doubled, halved, sign or reciprocal errors; never the answer itself."""
    if isinstance(value, int):
        ints = [value + 1, value - 1, value * 2, value + 2, value - 2, value + 10]
        if value % 2 == 0:
            ints.append(value // 2)
        texts = [str(v) for v in dict.fromkeys(ints) if v != value]
        r.shuffle(texts)
        return tuple(texts[:count])
    value = Fraction(value)
    candidates = [value + 1, value - 1, value * 2, value + 2, value - 2, value + 10]
    if value.denominator > 1 or value.numerator % 2 == 0:
        candidates.append(value / 2)
    if value.denominator > 1:
        candidates.append(1 / value)
    seen: list[str] = []
    for cand in candidates:
        text = tex(cand)
        if cand != value and text not in seen:
            seen.append(text)
    r.shuffle(seen)
    return tuple(seen[:count])


def pick(r: Random, options: tuple[str, ...]) -> str:
    return options[r.randrange(len(options))]
