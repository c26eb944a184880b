"""Algebra: motion, work rates, linear systems, Vieta, functions, sequences, arithmetic, logarithms, percentages."""

from __future__ import annotations

import math
from fractions import Fraction
from random import Random

from curate.synthetic.families.base import (
    CURRENCIES,
    ITEMS,
    NAMES,
    PLACES,
    Problem,
    decimal,
    pick,
    plain,
    tex,
    wrongs,
)

VEHICLES = (
    ("drives", 30, 120),
    ("cycles", 10, 30),
    ("runs", 6, 16),
    ("rides a motorbike", 25, 90),
    ("rows a boat", 4, 15),
)


def round_trip(r: Random) -> Problem:
    name = pick(r, NAMES)
    a, b = r.sample(PLACES, 2)
    verb, low, high = r.choice(VEHICLES)
    while True:
        v1, v2 = r.sample(range(low, high + 1), 2)
        den = v1 * v2 // math.gcd(60 * (v1 + v2), v1 * v2)
        top = (12 * v1 * v2 // (v1 + v2)) // den
        if top >= 1:
            break
    d = den * r.randint(1, top)
    minutes = Fraction(60 * d * (v1 + v2), v1 * v2)
    hours, mins = divmod(int(minutes), 60)
    span = f"{hours} hours" + (f" {mins} minutes" if mins else "")
    if r.random() < 0.5:
        answer, gist, ask = Fraction(d), f"the distance between {a} and {b}", "the distance"
        question = f"Find the distance between {a} and {b} in kilometres."
    else:
        answer, gist, ask = (
            Fraction(2 * v1 * v2, v1 + v2),
            "the average speed over the round trip",
            "the average speed",
        )
        question = "What is the average speed for the whole journey, in $\\mathrm{km/h}$?"
    if r.random() < 0.5:
        text = (
            f"{name} {verb} from {a} to {b} at a constant speed of ${v1} \\mathrm{{~km/h}}$ and returns along "
            f"the same road at ${v2} \\mathrm{{~km/h}}$. The whole trip takes {span}. {question}"
        )
    else:
        text = (
            f"On the way from {a} to {b}, {name} {verb} at ${v1} \\mathrm{{~km/h}}$; on the way back the speed "
            f"is ${v2} \\mathrm{{~km/h}}$, and {name} is away for {span} in total, with no stops. {question}"
        )
    t_total = plain(minutes / 60)
    steps = (
        f"Let the distance be $d$ kilometres. Going takes $d/{v1}$ hours and coming back takes $d/{v2}$ hours.",
        f"The trip takes {span}, which is {t_total} hours, so $\\frac{{d}}{{{v1}}} + \\frac{{d}}{{{v2}}} = {t_total}$.",
        f"Combining, $d \\cdot \\frac{{{v1 + v2}}}{{{v1 * v2}}} = {t_total}$.",
        f"That gives $d = {t_total} \\cdot {v1 * v2} / {v1 + v2} = {d}$ kilometres.",
        f"The average speed is the total distance over the total time: $2d/t = {2 * d}/({t_total}) = "
        f"{plain(Fraction(2 * v1 * v2, v1 + v2))}$.",
        f"So {ask} is {plain(answer)}.",
    )
    checks = (
        f"Check: going takes {d}/{v1} = {plain(Fraction(d, v1))} hours and returning takes {d}/{v2} = "
        f"{plain(Fraction(d, v2))} hours, together {t_total} hours. Good.",
        f"The average speed is not the plain average ({v1} + {v2})/2 = {plain(Fraction(v1 + v2, 2))}; it is the "
        f"harmonic mean $2 \\cdot {v1} \\cdot {v2}/({v1} + {v2})$.",
    )
    solution = (
        f"Let the distance be $d$. Then $\\frac{{d}}{{{v1}}}+\\frac{{d}}{{{v2}}}={t_total}$, so "
        f"$d={d}$ km. The total distance is ${2 * d}$ km.\n\nAnswer: ${tex(answer)}$."
    )
    return Problem(
        text, tex(answer), "Algebra", gist, steps, checks, solution, wrongs(r, answer), "round_trip"
    )


def pipes(r: Random) -> Problem:
    while True:
        a, b = r.sample(range(2, 61), 2)
        c = r.randint(a + b, 240)
        rate = Fraction(1, a) + Fraction(1, b) - Fraction(1, c)
        if rate > 0:
            break
    time = 1 / rate
    name = pick(r, ("pool", "tank", "reservoir", "cistern", "water tower", "basin", "fish pond", "barrel"))
    unit = pick(r, ("hours", "minutes"))
    pipe, drain = r.choice(
        (("pipe", "outlet pipe"), ("tap", "drain"), ("valve", "drain valve"), ("hose", "pump"))
    )
    form = r.randrange(3)
    if form == 0:
        text = (
            f"A {name} has two inlet {pipe}s and one {drain}. The first inlet {pipe} alone fills the empty {name} "
            f"in {a} {unit}, the second alone in {b} {unit}, and the {drain} alone empties the full {name} in "
            f"{c} {unit}. If all three are opened at the same time when the {name} is empty, how many {unit} "
            f"will it take to fill it?"
        )
    elif form == 1:
        who = pick(r, NAMES)
        text = (
            f"{who} fills an empty {name} using two {pipe}s: one would fill it alone in {a} {unit}, the other in "
            f"{b} {unit}. Unnoticed, a {drain} that empties a full {name} in {c} {unit} is open the whole time. "
            f"How long, in {unit}, does filling take?"
        )
    else:
        text = (
            f"Working alone, {pipe} $A$ fills a {name} in {a} {unit} and {pipe} $B$ in {b} {unit}, while the "
            f"{drain} $C$ empties it in {c} {unit}. Starting from an empty {name} with $A$, $B$ and $C$ all "
            f"open, find the time needed to fill the {name} completely (in {unit})."
        )
    steps = (
        f"The first {pipe} fills $1/{a}$ of the {name} per unit of time, the second $1/{b}$, and the {drain} "
        f"removes $1/{c}$.",
        f"Net rate: $\\frac{{1}}{{{a}}} + \\frac{{1}}{{{b}}} - \\frac{{1}}{{{c}}} = {tex(rate)}$ of the {name} "
        f"per unit.",
        f"The time is the reciprocal, $1 / ({plain(rate)}) = {plain(time)}$ {unit}.",
    )
    checks = (
        f"In {plain(time)} {unit} the inlets add {plain(time / a)} and {plain(time / b)} of the {name}, the "
        f"{drain} removes {plain(time / c)}; {plain(time / a)} + {plain(time / b)} - {plain(time / c)} = 1. Correct.",
        f"Since {c} is larger than both {a} and {b}, the net rate is positive, so the {name} does fill.",
    )
    solution = (
        f"Per unit of time the net filling rate is $\\frac{{1}}{{{a}}}+\\frac{{1}}{{{b}}}-\\frac{{1}}{{{c}}}="
        f"{tex(rate)}$ of the {name}. Hence it takes ${tex(time)}$ {unit}."
    )
    return Problem(
        text,
        tex(time),
        "Algebra",
        f"the time needed to fill the {name}",
        steps,
        checks,
        solution,
        wrongs(r, time),
        "pipes",
    )


def purchase_system(r: Random) -> Problem:
    (s1, p1), (s2, p2) = r.sample(ITEMS, 2)
    cur = pick(r, CURRENCIES)
    while True:
        x, y = r.randint(2, 60), r.randint(2, 60)
        a, b, c, d = (r.randint(1, 12) for _ in range(4))
        if a * d - b * c != 0 and x != y:
            break
    e1, e2 = a * x + b * y, c * x + d * y
    name = pick(r, NAMES)
    text = (
        f"{name} bought {a} {p1 if a > 1 else s1} and {b} {p2 if b > 1 else s2} for {e1} {cur}. Another "
        f"customer paid {e2} {cur} for {c} {p1 if c > 1 else s1} and {d} {p2 if d > 1 else s2} at the same "
        f"prices. How many {cur} does one {s1} cost?"
    )
    det = a * d - b * c
    steps = (
        f"Let one {s1} cost $x$ and one {s2} cost $y$. Then ${a}x + {b}y = {e1}$ and ${c}x + {d}y = {e2}$.",
        f"Multiply the first equation by {d} and the second by {b}: ${a * d}x + {b * d}y = {e1 * d}$ and "
        f"${b * c}x + {b * d}y = {e2 * b}$.",
        f"Subtracting, $({a * d} - {b * c})x = {e1 * d} - {e2 * b}$, so ${det}x = {e1 * d - e2 * b}$ and $x = {x}$.",
        f"Then ${b}y = {e1} - {a * x} = {e1 - a * x}$, so $y = {y}$.",
    )
    checks = (
        f"Check the second purchase: {c} times {x} is {c * x}, plus {d} times {y} is {d * y}, total {e2}. Yes.",
        f"And the first: {a * x} + {b * y} = {e1}. Both equations hold.",
    )
    solution = (
        f"Let the prices be $x$ and $y$. From ${a}x+{b}y={e1}$ and ${c}x+{d}y={e2}$ we get $x={x}$, $y={y}$.\n"
        f"Answer: {x} {cur}."
    )
    return Problem(
        text, str(x), "Algebra", f"the price of one {s1}", steps, checks, solution, wrongs(r, x), "purchase"
    )


def vieta(r: Random) -> Problem:
    while True:
        x1, x2 = r.randint(-500, 500), r.randint(-500, 500)
        if x1 and x2 and x1 != x2 and x1 + x2 != 0:
            break
    k = r.randint(1, 12)
    s, p = x1 + x2, x1 * x2
    b_coef, c_coef = -k * s, k * p
    poly = f"{k if k > 1 else ''}x^{{2}}{'+' if b_coef >= 0 else '-'}{abs(b_coef)} x{'+' if c_coef >= 0 else '-'}{abs(c_coef)}=0"
    kind = r.randrange(3)
    if kind == 0:
        answer, what = Fraction(s * s - 2 * p), "x_{1}^{2}+x_{2}^{2}"
        formula = f"$(x_1 + x_2)^2 - 2x_1x_2 = {s}^2 - 2 \\cdot ({p}) = {s * s} - ({2 * p})$"
    elif kind == 1:
        answer, what = Fraction(s, p), "\\frac{1}{x_{1}}+\\frac{1}{x_{2}}"
        formula = f"$\\frac{{x_1 + x_2}}{{x_1 x_2}} = \\frac{{{s}}}{{{p}}}$"
    else:
        answer, what = Fraction(s**3 - 3 * s * p), "x_{1}^{3}+x_{2}^{3}"
        formula = f"$(x_1+x_2)^3 - 3x_1x_2(x_1+x_2) = {s}^3 - 3 \\cdot ({p}) \\cdot ({s})$"
    form = r.randrange(3)
    if form == 0:
        text = f"Let $x_{{1}}, x_{{2}}$ be the roots of the equation ${poly}$. Find the value of ${what}$."
    elif form == 1:
        text = (
            f"The quadratic equation ${poly}$ has two real roots $x_{{1}}$ and $x_{{2}}$. Without solving the "
            f"equation, compute ${what}$."
        )
    else:
        text = f"Given that $x_{{1}}$ and $x_{{2}}$ are the two roots of ${poly}$, then ${what}=$ $\\qquad$ ."
    steps = (
        f"By Vieta's formulas, $x_1 + x_2 = {s}$ and $x_1 x_2 = {p}$ (dividing by the leading coefficient {k}).",
        f"The expression is symmetric, so write it through the sum and product: {formula}.",
        f"That evaluates to {plain(answer)}.",
        f"Actually the roots are {x1} and {x2}, since ${x1} + {x2} = {s}$ and ${x1} \\cdot {x2} = {p}$.",
    )
    checks = (
        f"Plugging $x = {x1}$: ${k} \\cdot {x1 * x1} {'+' if b_coef >= 0 else '-'} {abs(b_coef * x1)} "
        f"{'+' if c_coef >= 0 else '-'} {abs(c_coef)}$, and {k * x1 * x1} + ({b_coef * x1}) + ({c_coef}) = "
        f"{k * x1 * x1 + b_coef * x1 + c_coef}. So {x1} is a root.",
        f"Direct computation with {x1} and {x2} gives the same {plain(answer)}.",
    )
    solution = (
        f"By Vieta's theorem $x_{{1}}+x_{{2}}={s}$, $x_{{1}} x_{{2}}={p}$. Hence ${what}={tex(answer)}$."
    )
    return Problem(
        text,
        tex(answer),
        "Algebra",
        f"the value of ${what}$",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "vieta",
    )


def composition(r: Random) -> Problem:
    a, b = r.randint(2, 15), r.randint(-30, 30)
    c, k, m = r.randint(1, 60), r.randint(-12, 12), r.randint(-12, 12)

    def f(x: int) -> int:
        return a * x + b

    def g(x: int) -> int:
        return x * x - c

    answer = f(g(k)) + g(f(m))
    bsign = "+" if b >= 0 else "-"
    text = (
        f"The functions $f$ and $g$ are defined by $f(x)={a} x{bsign}{abs(b)}$ and $g(x)=x^{{2}}-{c}$. "
        f"Compute $f(g({k}))+g(f({m}))$."
    )
    steps = (
        f"First $g({k}) = {k}^2 - {c} = {k * k} - {c} = {g(k)}$.",
        f"Then $f(g({k})) = f({g(k)}) = {a} \\cdot {g(k)} {bsign} {abs(b)} = {f(g(k))}$.",
        f"Next $f({m}) = {a} \\cdot {m} {bsign} {abs(b)} = {f(m)}$.",
        f"And $g(f({m})) = g({f(m)}) = {f(m)}^2 - {c} = {f(m) ** 2} - {c} = {g(f(m))}$.",
        f"Adding, ${f(g(k))} + {g(f(m))} = {answer}$.",
    )
    checks = (
        f"Recheck $f({m})$: {a} times {m} is {a * m}, then {bsign}{abs(b)} gives {f(m)}. Right.",
        f"Recheck $g({k})$: {k} squared is {k * k}, minus {c} is {g(k)}.",
    )
    solution = (
        f"$g({k})={g(k)}$, so $f(g({k}))={f(g(k))}$; $f({m})={f(m)}$, so $g(f({m}))={g(f(m))}$. "
        f"The sum is ${answer}$."
    )
    return Problem(
        text,
        str(answer),
        "Algebra",
        f"the value of $f(g({k}))+g(f({m}))$",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "composition",
    )


def arithmetic_sum(r: Random) -> Problem:
    a1, d = r.randint(-50, 80), r.choice([x for x in range(-9, 13) if x])
    p, q = sorted(r.sample(range(2, 25), 2))
    n = r.randint(q + 3, 90)
    ap, aq = a1 + (p - 1) * d, a1 + (q - 1) * d
    total = n * (2 * a1 + (n - 1) * d) // 2
    text = (
        f"In the arithmetic sequence $\\left\\{{a_{{n}}\\right\\}}$, $a_{{{p}}}={ap}$ and $a_{{{q}}}={aq}$. "
        f"Find the sum of the first {n} terms $S_{{{n}}}$."
    )
    steps = (
        f"We have $a_{{{q}}} - a_{{{p}}} = ({q} - {p}) d$, so ${aq} - ({ap}) = {q - p} d$ and $d = {d}$.",
        f"Then $a_1 = a_{{{p}}} - {p - 1} d = {ap} - ({(p - 1) * d}) = {a1}$.",
        f"$S_{{{n}}} = \\frac{{{n}}}{{2}} (2 a_1 + {n - 1} d) = \\frac{{{n}}}{{2}} ({2 * a1} + {(n - 1) * d})$.",
        f"So $S_{{{n}}} = {n} \\cdot {2 * a1 + (n - 1) * d} / 2 = {total}$.",
    )
    checks = (
        f"The last term is $a_{{{n}}} = {a1} + {n - 1} \\cdot {d} = {a1 + (n - 1) * d}$, and "
        f"$S_{{{n}}} = {n}({a1} + {a1 + (n - 1) * d})/2 = {total}$ as well.",
        f"Check $a_{{{p}}}$: {a1} + {p - 1} times {d} = {ap}. Matches the given value.",
    )
    solution = f"$d=\\frac{{{aq}-({ap})}}{{{q - p}}}={d}$, $a_{{1}}={a1}$, $S_{{{n}}}={total}$."
    return Problem(
        text,
        str(total),
        "Algebra",
        f"the sum of the first {n} terms",
        steps,
        checks,
        solution,
        wrongs(r, total),
        "arithmetic_sum",
    )


def geometric_term(r: Random) -> Problem:
    a1, q = r.randint(1, 2000) * r.choice((1, -1)), r.choice((2, 3, -2, -3, 4, 5))
    i, j = sorted(r.sample(range(1, 7), 2))
    k = r.randint(j + 1, j + 5)
    ai, aj, ak = a1 * q ** (i - 1), a1 * q ** (j - 1), a1 * q ** (k - 1)
    text = (
        f"In a geometric sequence $\\left\\{{a_{{n}}\\right\\}}$ with {'positive' if q > 0 and a1 > 0 else 'real'}"
        f" ratio, $a_{{{i}}}={ai}$ and $a_{{{j}}}={aj}$. Then $a_{{{k}}}=$ $\\qquad$ ."
    )
    steps = (
        f"The ratio satisfies $q^{{{j - i}}} = a_{{{j}}}/a_{{{i}}} = {aj}/{ai} = {q ** (j - i)}$.",
        f"So $q = {q}$" + (" (the sign follows from the terms)." if q < 0 else "."),
        f"Then $a_{{{k}}} = a_{{{j}}} q^{{{k - j}}} = {aj} \\cdot {q ** (k - j)} = {ak}$.",
    )
    checks = (
        f"Also $a_1 = {a1}$ and $a_1 q^{{{k - 1}}} = {a1} \\cdot {q ** (k - 1)} = {ak}$. Consistent.",
        f"Check the ratio: {ai} times {q} to the power {j - i} is {ai * q ** (j - i)} = {aj}.",
    )
    solution = f"$q^{{{j - i}}}=\\frac{{{aj}}}{{{ai}}}$, $q={q}$, so $a_{{{k}}}={ak}$."
    return Problem(
        text, str(ak), "Algebra", f"the term $a_{{{k}}}$", steps, checks, solution, wrongs(r, ak), "geometric"
    )


def calculation(r: Random) -> Problem:
    a, b = r.randint(1, 19), r.randint(2, 24)
    c, d = r.randint(1, 19), r.randint(2, 24)
    e, f_, g = r.randint(2, 30), r.randint(1, 99), r.randint(2, 12)
    value = Fraction(a, b) + Fraction(c, d) * e - Fraction(f_, g)
    text = f"Calculate: $\\frac{{{a}}}{{{b}}}+\\frac{{{c}}}{{{d}}} \\times {e}-{f_} \\div {g}=$ $\\qquad$ ."
    steps = (
        f"Multiplication and division first: $\\frac{{{c}}}{{{d}}} \\times {e} = {tex(Fraction(c, d) * e)}$.",
        f"And ${f_} \\div {g} = {tex(Fraction(f_, g))}$.",
        f"Now $\\frac{{{a}}}{{{b}}} + {tex(Fraction(c, d) * e)} = {tex(Fraction(a, b) + Fraction(c, d) * e)}$.",
        f"Subtract: ${tex(Fraction(a, b) + Fraction(c, d) * e)} - {tex(Fraction(f_, g))} = {tex(value)}$.",
    )
    checks = (
        f"As decimals: {a}/{b} is about {a / b:.4f}, {c}/{d} times {e} is about {c * e / d:.4f}, {f_}/{g} is "
        f"about {f_ / g:.4f}; the total is about {float(value):.4f}, which matches {plain(value)}.",
    )
    solution = f"Original expression $={tex(Fraction(a, b))}+{tex(Fraction(c, d) * e)}-{tex(Fraction(f_, g))}={tex(value)}$."
    return Problem(
        text,
        tex(value),
        "Algebra",
        "the value of the expression",
        steps,
        checks,
        solution,
        wrongs(r, value),
        "calculation",
    )


def logarithms(r: Random) -> Problem:
    base = r.choice((2, 3, 5, 6, 7))
    i, j = r.randint(1, 9), r.randint(0, 6)
    t = r.choice([x for x in range(2, 1000) if x % base])
    m = r.randint(2, 12)
    value = i + m * j
    x = base**i * t
    text = f"Compute $\\log _{{{base}}} {x}-\\log _{{{base}}} {t}+{m} \\log _{{{base}}} {base**j}$."
    steps = (
        f"Combine the first two: $\\log_{{{base}}} {x} - \\log_{{{base}}} {t} = \\log_{{{base}}} ({x}/{t}) = "
        f"\\log_{{{base}}} {base**i} = {i}$.",
        f"Next, ${base**j} = {base}^{{{j}}}$, so ${m} \\log_{{{base}}} {base**j} = {m} \\cdot {j} = {m * j}$.",
        f"Total: ${i} + {m * j} = {value}$.",
    )
    checks = (f"Check: ${base}^{{{i}}} = {base**i}$ and ${base**i} \\cdot {t} = {x}$. Good.",)
    solution = f"$\\log _{{{base}}} \\frac{{{x}}}{{{t}}}+{m} \\cdot {j}={i}+{m * j}={value}$."
    return Problem(
        text,
        str(value),
        "Algebra",
        "the value of the logarithmic expression",
        steps,
        checks,
        solution,
        wrongs(r, value),
        "logarithms",
    )


def percent(r: Random) -> Problem:
    price = r.randint(4, 2000) * 5
    up, down = r.choice(range(5, 55, 5)), r.choice(range(5, 55, 5))
    item = pick(r, ("jacket", "bicycle", "television", "phone", "sofa", "lamp", "camera", "watch"))
    cur = pick(r, CURRENCIES)
    final = Fraction(price) * (100 + up) / 100 * (100 - down) / 100
    shop = pick(r, ("A shop", "A store", "An online shop", "A market stall", "A department store"))
    if r.random() < 0.5:
        text = (
            f"The price of a {item} was {price} {cur}. It was first raised by ${up} \\%$, and later the new "
            f"price was reduced by ${down} \\%$. What is the final price of the {item}, in {cur}?"
        )
    else:
        text = (
            f"{shop} sold a {item} for {price} {cur}. In spring it put the price up by ${up} \\%$; in autumn "
            f"it cut the new price by ${down} \\%$. How many {cur} did the {item} cost after the cut?"
        )
    after = Fraction(price) * (100 + up) / 100
    steps = (
        f"After the increase the price is ${price} \\times {1 + up / 100:g} = {plain(after)}$.",
        f"After the decrease it is ${plain(after)} \\times {1 - down / 100:g} = {plain(final)}$.",
        f"Overall factor: ${(100 + up) / 100:g} \\times {(100 - down) / 100:g} = {float(final / price):g}$.",
    )
    checks = (
        f"So the final price is {decimal(final)} {cur}, "
        f"{'more' if final > price else 'less'} than the original {price}.",
    )
    answer = decimal(final)
    solution = f"${price} \\times {(100 + up) / 100:g} \\times {(100 - down) / 100:g}={answer}$ ({cur})."
    return Problem(
        text,
        answer,
        "Algebra",
        f"the final price of the {item}",
        steps,
        checks,
        solution,
        tuple(decimal(w) for w in (final + 1, Fraction(price), final * 2, after)),
        "percent",
    )
