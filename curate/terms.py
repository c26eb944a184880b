"""Terms whose swap makes another problem: "a square has side 8" and "a rhombus has side 8" differ in one word,
as a copy with one word retyped does, yet they ask different questions.

Each kind below lists concepts; a concept is a set of words that mean the same in a problem statement
(`largest`, `greatest` and `maximum` are one concept; `smallest` is another of the same kind; a word may
belong to two kinds, as `median` does). Two problems contrast when one names a concept of a kind and the
other names a different concept of that same kind in its place: the terms one problem has more of than the
other include a concept of some kind, and the terms the other has more of include a different concept of the
same kind. A word added or removed ("area" against "surface area", "triangle" against "equilateral
triangle") is not a swap, nor is a synonym.

Only words with one meaning in problem statements are listed. "total" (a sum, or "in total"), "second" (time,
or the second term), "quarter" (a coin, or a fourth), "tangent" (a line, or the function), "length" and
"natural" are left out, as are the names of people and things ("balls" for "marbles" keeps the problem), so
an unlisted word never keeps two copies apart.

Three kinds are read from the problem rather than from a list:

- Spelled words: a word of five or more capitals in a problem that also has lower-case letters is the object
  of the problem ("arrangements of the letters of MISSISSIPPI" against "... of BANANA"). A copy typed all in
  capitals or all in lower case has none, so it is not kept apart from its original.
- Antonyms by prefix: a word against the same word with `un`, `in`, `im`, `il`, `ir`, `non` or `dis` before it
  (`distinguishable`/`indistinguishable`, `correctly`/`incorrectly`, `possible`/`impossible`), for words of
  five or more letters after the prefix. `non-negative` and `non negative` read as `nonnegative`.
- Negation: problems that say `not`, `no`, `never`, `neither`, `nor`, `none`, `without`, `cannot` or `n't` a
  different number of times contrast ("is divisible" against "is not divisible", "with replacement" against
  "without replacement"): the one word whose insertion turns a problem into another.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

KINDS: dict[str, tuple[str, ...]] = {
    "figure": (
        "triangle triangles",
        "square squares",
        "rectangle rectangles rectangular",
        "rhombus rhombi rhombuses",
        "parallelogram parallelograms",
        "trapezoid trapezoids trapezium trapeziums",
        "kite kites",
        "pentagon pentagons pentagonal",
        "hexagon hexagons hexagonal",
        "heptagon heptagons",
        "octagon octagons octagonal",
        "nonagon nonagons",
        "decagon decagons",
        "dodecagon dodecagons",
        "circle circles circular",
        "semicircle semicircles semicircular",
        "ellipse ellipses elliptical",
        "parabola parabolas",
        "hyperbola hyperbolas",
        "cube cubes",
        "cuboid cuboids",
        "sphere spheres spherical",
        "hemisphere hemispheres hemispherical",
        "cone cones conical",
        "cylinder cylinders cylindrical",
        "prism prisms",
        "pyramid pyramids",
        "tetrahedron tetrahedra tetrahedrons",
        "octahedron octahedra octahedrons",
        "dodecahedron dodecahedra dodecahedrons",
        "icosahedron icosahedra icosahedrons",
    ),
    "triangle type": ("equilateral", "isosceles", "scalene", "acute", "obtuse"),
    "triangle center": (
        "incenter incentre",
        "circumcenter circumcentre",
        "centroid",
        "orthocenter orthocentre",
    ),
    "extremum": (
        "largest greatest biggest maximum maximal max most",
        "smallest least minimum minimal min fewest",
    ),
    "parity": ("even", "odd"),
    "sign": ("positive", "negative", "nonnegative", "nonpositive"),
    "number type": (
        "integer integers",
        "rational rationals",
        "irrational",
        "real reals",
        "complex",
        "imaginary",
    ),
    "primality": ("prime primes", "composite composites"),
    "operation": (
        "sum sums plus add added adding addition",
        "product products times multiplied multiply multiplication",
        "quotient quotients divided divide division",
        "difference differences minus subtract subtracted subtraction",
        "remainder remainders",
        "mean average means averages",
        "median medians",
        "mode modes",
    ),
    "measure": (
        "area areas",
        "perimeter perimeters",
        "volume volumes",
        "circumference circumferences",
        "side sides edge edges",
        "diagonal diagonals",
        "altitude altitudes height heights",
        "median medians",
        "hypotenuse",
        "leg legs",
        "radius radii",
        "diameter diameters",
        "chord chords",
    ),
    "divisibility": ("divisor divisors factor factors", "multiple multiples"),
    "sequence": ("arithmetic", "geometric", "harmonic"),
    "degree": ("linear", "quadratic", "cubic", "quartic", "quintic"),
    "order": ("ordered", "unordered"),
    "monotone": ("increasing", "decreasing", "nondecreasing", "nonincreasing"),
    "position": ("inside interior", "outside exterior"),
    "incidence": ("inscribed", "circumscribed"),
    "direction": ("parallel", "perpendicular"),
    "line": ("horizontal", "vertical"),
    "side of": ("left", "right"),
    "rotation": ("clockwise", "counterclockwise anticlockwise"),
    "height of": ("above", "below"),
    "logic": ("and", "or"),
    "proportion": ("directly", "inversely"),
    "interval": ("open", "closed"),
    "function set": ("domain", "range"),
    "conic point": ("focus foci", "vertex vertices"),
    "trigonometric": ("sine", "cosine"),
    "outcome": (
        "win wins won winning gain gains gained earn earns earned profit profits",
        "lose loses lost losing loss losses",
    ),
    "coin": ("penny pennies", "nickel nickels", "dime dimes"),
    "color": (
        "red",
        "blue",
        "green",
        "yellow",
        "white",
        "black",
        "orange",
        "purple",
        "pink",
        "brown",
        "gray grey",
        "violet",
    ),
    "time unit": ("minute minutes", "hour hours", "day days", "week weeks", "month months", "year years"),
    "length unit": (
        "millimeter millimeters millimetre millimetres",
        "centimeter centimeters centimetre centimetres",
        "meter meters metre metres",
        "kilometer kilometers kilometre kilometres",
        "inch inches",
        "foot feet",
        "yard yards",
        "mile miles",
    ),
    "mass unit": (
        "gram grams",
        "kilogram kilograms",
        "pound pounds",
        "ounce ounces",
        "ton tons tonne tonnes",
    ),
    "capacity unit": (
        "milliliter milliliters millilitre millilitres",
        "liter liters litre litres",
        "gallon gallons",
        "quart quarts",
        "pint pints",
    ),
    "money": ("dollar dollars", "cent cents", "euro euros", "yuan", "rupee rupees"),
}

Term = tuple[str, str]

# word -> the (kind, concept's first word) it names
_TERMS: dict[str, list[Term]] = {}
for _kind, _concepts in KINDS.items():
    for _concept in _concepts:
        for _word in _concept.split():
            _TERMS.setdefault(_word, []).append((_kind, _concept.split()[0]))

SPELLED = "spelled word"
NEGATION = ("negation", "not")
_NEGATIONS = frozenset(["not", "no", "never", "neither", "nor", "none", "without", "cannot"])
_CONTRACTED = re.compile(r"n ' t\b")  # "doesn't", tokenised by `textnorm.normalize` as "doesn ' t"
_JOINED = re.compile(r"\b(non|un|counter|anti) (?:- )?(?=[a-z])")  # "non - negative" -> "nonnegative"
_PREFIXES = ("non", "dis", "un", "in", "im", "il", "ir")
_STEM = 5  # letters an antonym's stem needs: "in" + "side" is not one
_CAPITALS = re.compile(r"(?<![A-Za-z\\])[A-Z]{5,}(?![A-Za-z])")
_LOWER = re.compile(r"[a-z]")


def spelled(problem: str) -> list[str]:
    """The spelled words of a problem as typed (five or more capitals, in a problem with lower-case letters),
    lower-cased, in order."""
    if not _LOWER.search(problem):
        return []
    return [word.lower() for word in _CAPITALS.findall(problem)]


class Named(NamedTuple):
    """What `contrast` reads of a problem: the concepts it names, with their counts (listed terms, spelled
    words, negations), and its words (for antonyms by prefix)."""

    concepts: Counter[Term]
    words: Counter[str]


def terms(normalized: str, spelled_words: Sequence[str] = ()) -> Named:
    """The concepts and words of a normalised problem (`textnorm.normalize`) and its spelled words (`spelled`);
    a LaTeX command counts as its word (`\\triangle ABC` names a triangle)."""
    text = _JOINED.sub(r"\1", normalized)
    words = Counter(token.lstrip("\\") for token in text.split(" "))
    concepts: Counter[Term] = Counter((SPELLED, word) for word in spelled_words)
    for word, count in words.items():
        for term in _TERMS.get(word, ()):
            concepts[term] += count
    negations = sum(words[word] for word in _NEGATIONS) + len(_CONTRACTED.findall(text))
    if negations:
        concepts[NEGATION] = negations
    return Named(concepts, words)


def contrast(a: Named, b: Named) -> bool:
    """Whether two problems say different things where a copy would not: one names a concept where the other
    names a different concept of the same kind, or a word where the other has its antonym by prefix, or they
    negate a different number of times."""
    if a.concepts[NEGATION] != b.concepts[NEGATION]:
        return True
    only_a = {kind for kind, _ in a.concepts - b.concepts}
    if only_a and any(kind in only_a for kind, _ in b.concepts - a.concepts):
        return True
    words_a, words_b = a.words - b.words, b.words - a.words
    return _antonym(words_a, words_b) or _antonym(words_b, words_a)


def _antonym(words: Counter[str], others: Counter[str]) -> bool:
    """Whether a word of `words` is a word of `others` with a negating prefix."""
    for word in words:
        for prefix in _PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= _STEM and word[len(prefix) :] in others:
                return True
    return False
