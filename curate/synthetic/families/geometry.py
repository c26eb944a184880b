"""Geometry: right triangles, Heron, chords, rectangles (answers with simplified square roots)."""

from __future__ import annotations

import math
from fractions import Fraction
from random import Random

from curate.synthetic.families.base import Problem, pick, plain, surd, wrongs


def _letters(r: Random, k: int) -> list[str]:
    return r.sample("ABCDEFKLMNPQ", k)


def right_triangle(r: Random) -> Problem:
    a, b = r.randint(2, 120), r.randint(2, 120)
    c2 = a * a + b * b
    v1, v2, v3 = _letters(r, 3)
    kind = r.randrange(3)
    hyp = surd(Fraction(1), c2)
    if kind == 0:
        answer, what = hyp, f"the length of the hypotenuse ${v1}{v2}$"
        step = f"So ${v1}{v2} = \\sqrt{{{c2}}} = {hyp}$."
    elif kind == 1:
        answer, what = (
            surd(Fraction(a * b, c2), c2),
            f"the length of the altitude from ${v3}$ to the hypotenuse",
        )
        step = (
            f"The area is ${a} \\cdot {b}/2 = {plain(Fraction(a * b, 2))}$, and also $\\frac{{1}}{{2}} \\cdot "
            f"{v1}{v2} \\cdot h$, so $h = {a * b}/\\sqrt{{{c2}}} = {answer}$."
        )
    else:
        answer, what = surd(Fraction(1, 2), c2), "the radius of its circumscribed circle"
        step = f"The hypotenuse is a diameter of the circumcircle, so $R = \\sqrt{{{c2}}}/2 = {answer}$."
    text = (
        f"In the right triangle ${v1}{v2}{v3}$ with the right angle at ${v3}$, the legs are ${v1}{v3}={a}$ and "
        f"${v2}{v3}={b}$. Find {what}."
    )
    steps = (
        f"Hypotenuse: ${v1}{v2} = \\sqrt{{{a}^2 + {b}^2}} = \\sqrt{{{a * a} + {b * b}}} = \\sqrt{{{c2}}}$.",
        f"Simplify the root: $\\sqrt{{{c2}}} = {hyp}$.",
        step,
    )
    checks = (
        f"Numerically the hypotenuse is about {math.sqrt(c2):.4f}, longer than both legs {a} and {b}. Good.",
        f"Check: ${a}^2 = {a * a}$ and ${b}^2 = {b * b}$, sum {c2}.",
    )
    solution = f"${v1}{v2}=\\sqrt{{{a}^{{2}}+{b}^{{2}}}}={hyp}$, and the required length is ${answer}$."
    wrong = (
        surd(Fraction(1), a * a + b * b + 1),
        str(a + b),
        surd(Fraction(1, 2), a * b),
        surd(Fraction(2), c2),
    )
    return Problem(text, answer, "Geometry", what, steps, checks, solution, wrong, "right_triangle")


def heron(r: Random) -> Problem:
    while True:
        a, b, c = r.randint(3, 40), r.randint(3, 40), r.randint(3, 40)
        p16 = (a + b + c) * (-a + b + c) * (a - b + c) * (a + b - c)
        if p16 > 0:
            break
    v = _letters(r, 3)
    area = surd(Fraction(1, 4), p16)
    text = (
        f"In triangle ${''.join(v)}$ the sides are ${v[1]}{v[2]}={a}$, ${v[2]}{v[0]}={b}$ and ${v[0]}{v[1]}={c}$."
        f" Find the area of the triangle."
    )
    s2 = a + b + c
    steps = (
        f"Semi-perimeter: $s = ({a} + {b} + {c})/2 = {plain(Fraction(s2, 2))}$.",
        f"Heron: $S = \\sqrt{{s(s-a)(s-b)(s-c)}}$, and $16 S^2 = (a+b+c)(-a+b+c)(a-b+c)(a+b-c) = {s2} \\cdot "
        f"{-a + b + c} \\cdot {a - b + c} \\cdot {a + b - c} = {p16}$.",
        f"So $S = \\sqrt{{{p16}}}/4 = {area}$.",
    )
    checks = (
        f"Triangle inequality: {a} < {b} + {c}, {b} < {a} + {c}, {c} < {a} + {b}. Fine.",
        f"Numerically the area is about {math.sqrt(p16) / 4:.4f}.",
    )
    solution = f"By Heron's formula $S=\\frac{{1}}{{4}} \\sqrt{{{p16}}}={area}$."
    wrong = (
        surd(Fraction(1, 2), p16),
        surd(Fraction(1, 4), p16 + 4),
        str(a * b // 2),
        surd(Fraction(1), p16),
    )
    return Problem(
        text, area, "Geometry", "the area of the triangle", steps, checks, solution, wrong, "heron"
    )


def chord(r: Random) -> Problem:
    radius = r.randint(5, 200)
    dist = r.randint(1, radius - 1)
    centre, p, q = _letters(r, 3)
    half2 = radius * radius - dist * dist
    answer = surd(Fraction(2), half2)
    text = (
        f"In a circle with centre ${centre}$ and radius ${radius}$, the chord ${p}{q}$ is at distance ${dist}$ "
        f"from ${centre}$. Find the length of ${p}{q}$."
    )
    steps = (
        f"The perpendicular from ${centre}$ bisects ${p}{q}$; half the chord is $\\sqrt{{{radius}^2 - {dist}^2}}$.",
        f"${radius * radius} - {dist * dist} = {half2}$.",
        f"So ${p}{q} = 2\\sqrt{{{half2}}} = {answer}$.",
    )
    checks = (
        f"Numerically the chord is about {2 * math.sqrt(half2):.4f}, less than the diameter {2 * radius}.",
    )
    solution = f"Half of the chord is $\\sqrt{{{radius}^{{2}}-{dist}^{{2}}}}$; ${p}{q}={answer}$."
    wrong = (
        surd(Fraction(1), half2),
        surd(Fraction(2), radius * radius + dist * dist),
        str(2 * (radius - dist)),
    )
    return Problem(
        text, answer, "Geometry", f"the length of the chord ${p}{q}$", steps, checks, solution, wrong, "chord"
    )


def rectangle(r: Random) -> Problem:
    w, extra = r.randint(3, 300), r.randint(1, 200)
    length = w + extra
    cut1, cut2 = r.randint(1, min(15, w - 1)), r.randint(1, min(15, length - 1))
    diff = length * w - (length - cut2) * (w - cut1)
    thing = pick(r, ("rectangle", "rectangular garden", "rectangular sheet of paper", "rectangular field"))
    if r.random() < 0.5:
        text = (
            f"The length of a {thing} is {extra} cm more than its width. If the width is decreased by {cut1} cm "
            f"and the length by {cut2} cm, the area decreases by ${diff} \\mathrm{{~cm}}^{{2}}$. Find the area of "
            f"the original {thing} in square centimetres."
        )
    else:
        text = (
            f"A {thing} is {extra} cm longer than it is wide. Cutting {cut2} cm off its length and {cut1} cm off "
            f"its width removes ${diff} \\mathrm{{~cm}}^{{2}}$ of area. What was the area before the cut, in "
            f"square centimetres?"
        )
    area = length * w
    steps = (
        f"Let the width be $w$; the length is $w + {extra}$.",
        f"New area: $(w - {cut1})(w + {extra} - {cut2})$. The decrease is "
        f"$w(w+{extra}) - (w-{cut1})(w+{extra - cut2}) = {cut1 + cut2}w + {cut1 * (extra - cut2)}$.",
        f"So ${cut1 + cut2} w + {cut1 * (extra - cut2)} = {diff}$, giving $w = {w}$.",
        f"The rectangle is {w} by {length}, area {area}.",
    )
    checks = (
        f"New sides {w - cut1} and {length - cut2}: area {(w - cut1) * (length - cut2)}, and "
        f"{area} - {(w - cut1) * (length - cut2)} = {diff}. Correct.",
    )
    solution = f"$w={w}$ cm, the length is ${length}$ cm and the area ${area} \\mathrm{{~cm}}^{{2}}$."
    return Problem(
        text,
        str(area),
        "Geometry",
        "the area of the original rectangle",
        steps,
        checks,
        solution,
        wrongs(r, area),
        "rectangle",
    )
