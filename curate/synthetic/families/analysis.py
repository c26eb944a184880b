"""Calculus, inequalities and proofs: derivatives, integrals, limits, AM-GM extrema, proof problems."""

from __future__ import annotations

import math
from fractions import Fraction
from random import Random

from curate.synthetic.families.base import Problem, plain, poly_tex, surd, tex, wrongs


def derivative(r: Random) -> Problem:
    coeffs = [r.randint(-15, 15) for _ in range(4)]
    coeffs[0] = coeffs[0] or 2
    x0 = r.randint(-10, 10)
    deg = 3
    poly = poly_tex(coeffs).replace(" ", "")
    d = sum(c * (deg - i) * x0 ** (deg - i - 1) for i, c in enumerate(coeffs) if deg - i > 0)
    text = f"Let $f(x)={poly}$. Find $f^{{\\prime}}({x0})$."
    steps = (
        f"Differentiate term by term: $f'(x) = {poly_tex([3 * coeffs[0], 2 * coeffs[1], coeffs[2]])}$.",
        f"At $x = {x0}$: ${3 * coeffs[0]} \\cdot {x0 * x0} + ({2 * coeffs[1]}) \\cdot ({x0}) + ({coeffs[2]}) = {d}$.",
    )
    checks = (f"Recompute: {3 * coeffs[0] * x0 * x0} + {2 * coeffs[1] * x0} + {coeffs[2]} = {d}.",)
    solution = f"$f^{{\\prime}}(x)={poly_tex([3 * coeffs[0], 2 * coeffs[1], coeffs[2]])}$, so $f^{{\\prime}}({x0})={d}$."
    return Problem(
        text,
        str(d),
        "Calculus",
        f"the derivative at {x0}",
        steps,
        checks,
        solution,
        wrongs(r, d),
        "derivative",
    )


def integral(r: Random) -> Problem:
    a, b, c = r.randint(1, 20), r.randint(-40, 40), r.randint(-40, 40)
    lo, hi = sorted(r.sample(range(-6, 10), 2))

    def anti(x: int) -> Fraction:
        return Fraction(a, 3) * x**3 + Fraction(b, 2) * x**2 + c * x

    value = anti(hi) - anti(lo)
    antiderivative = poly_tex([Fraction(a, 3), Fraction(b, 2), Fraction(c), Fraction(0)])
    text = f"Evaluate the integral $\\int_{{{lo}}}^{{{hi}}}\\left({poly_tex([a, b, c])}\\right) d x$."
    steps = (
        f"An antiderivative is $F(x) = {antiderivative}$.",
        f"$F({hi}) = {plain(anti(hi))}$ and $F({lo}) = {plain(anti(lo))}$.",
        f"The integral is ${plain(anti(hi))} - ({plain(anti(lo))}) = {plain(value)}$.",
    )
    checks = (f"As a decimal that is about {float(value):.4f}.",)
    solution = f"$\\left.\\left({antiderivative}\\right)\\right|_{{{lo}}} ^{{{hi}}}={tex(value)}$."
    return Problem(
        text,
        tex(value),
        "Calculus",
        "the value of the integral",
        steps,
        checks,
        solution,
        wrongs(r, value),
        "integral",
    )


def sequence_limit(r: Random) -> Problem:
    p, q = r.randint(1, 60), r.randint(1, 60)
    a, b = r.randint(2, 60), r.randint(2, 60)
    value = Fraction(a, b)
    text = (
        "## Problem Statement\n\nCalculate the limit of the numerical sequence:\n\n"
        f"$\\lim _{{n \\rightarrow \\infty}} \\frac{{{a} n^{{3}}+{p} n-{q}}}{{{b} n^{{3}}-{q} n^{{2}}+{p}}}$"
    )
    steps = (
        "Divide numerator and denominator by $n^3$.",
        f"The numerator becomes ${a} + {p}/n^2 - {q}/n^3 \\to {a}$ and the denominator ${b} - {q}/n + {p}/n^3 \\to {b}$.",
        f"So the limit is ${a}/{b} = {plain(value)}$.",
    )
    checks = (
        f"For n = 1000 the ratio is about {(a * 1e9 + p * 1e3 - q) / (b * 1e9 - q * 1e6 + p):.5f}, "
        f"close to {float(value):.5f}.",
    )
    solution = f"Dividing by $n^{{3}}$: the limit equals $\\frac{{{a}}}{{{b}}}={tex(value)}$."
    return Problem(
        text, tex(value), "Calculus", "the limit", steps, checks, solution, wrongs(r, value), "limit"
    )


def am_gm_min(r: Random) -> Problem:
    a, c = r.randint(1, 99), r.randint(1, 300)
    b = a * r.randint(1, 40) ** 2 if r.random() < 0.6 else r.randint(1, 400)
    ab = a * b
    root = math.isqrt(ab)
    low = surd(Fraction(2), ab)
    answer = low if a * c == 0 else (str(2 * root + a * c) if root * root == ab else f"{low}+{a * c}")
    text = f"Find the minimum value of the function $y={a} x+\\frac{{{b}}}{{x-{c}}}$ for $x>{c}$."
    steps = (
        f"Write $y = {a}(x - {c}) + \\frac{{{b}}}{{x - {c}}} + {a * c}$.",
        f"By AM-GM, ${a}(x-{c}) + \\frac{{{b}}}{{x-{c}}} \\ge 2\\sqrt{{{a} \\cdot {b}}} = 2\\sqrt{{{ab}}} = {low}$.",
        f"So $y \\ge {low} + {a * c}$, i.e. the minimum is ${answer}$.",
        f"Equality when ${a}(x-{c})^2 = {b}$, i.e. $x = {c} + \\sqrt{{{plain(Fraction(b, a))}}}$.",
    )
    checks = (f"Derivative check: $y' = {a} - {b}/(x-{c})^2 = 0$ gives the same point, and $y'' > 0$ there.",)
    solution = f"$y={a}(x-{c})+\\frac{{{b}}}{{x-{c}}}+{a * c} \\geqslant {low}+{a * c}$, so the minimum is ${answer}$."
    if root * root == ab:
        wrong: tuple[str, ...] = (
            str(2 * root + a * c + 1),
            str(2 * root),
            str(root + a * c),
            str(2 * ab + a * c),
        )
    else:
        wrong = (f"{low}+{a * c + 1}", low, f"{surd(Fraction(1), ab)}+{a * c}", str(a + b + a * c))
    return Problem(text, answer, "Inequalities", "the minimum value", steps, checks, solution, wrong, "am_gm")


def max_product(r: Random) -> Problem:
    a, k, s = r.randint(1, 20), r.randint(2, 40), r.randint(4, 2000)
    value = Fraction(s * s, 4 * a * k)
    text = f"Positive real numbers $x, y$ satisfy ${a if a > 1 else ''}x+{k} y={s}$. Find the maximum value of $x y$."
    steps = (
        f"$xy = \\frac{{1}}{{{a * k}}} \\cdot ({a}x) \\cdot ({k}y) \\le \\frac{{1}}{{{a * k}}} "
        f"\\left(\\frac{{{a}x + {k}y}}{{2}}\\right)^2 = \\frac{{{s}^2}}{{{4 * a * k}}}$.",
        f"That is {plain(value)}, attained at $x = {plain(Fraction(s, 2 * a))}$, $y = {plain(Fraction(s, 2 * k))}$.",
    )
    checks = (
        f"Check: {a} * {plain(Fraction(s, 2 * a))} + {k} * {plain(Fraction(s, 2 * k))} = {s}, "
        f"product {plain(value)}.",
    )
    solution = f"By AM-GM, $x y=\\frac{{1}}{{{a * k}}} \\cdot {a} x \\cdot {k} y \\leqslant \\frac{{{s}^{{2}}}}{{{4 * a * k}}}={tex(value)}$."
    return Problem(
        text,
        tex(value),
        "Inequalities",
        "the maximum of $xy$",
        steps,
        checks,
        solution,
        wrongs(r, value),
        "max_product",
    )


def proof_divisibility(r: Random) -> Problem:
    exp, div = r.choice(((3, 6), (5, 30), (7, 42)))
    k1, k2, k3 = r.randint(1, 200), r.randint(1, 200), r.randint(1, 200)
    text = (
        f"Prove that for every integer $n$ the number $n^{{{exp}}}+{div * k1} n^{{3}}-n+{div * k2} n+{div * k3}$"
        f" is divisible by ${div}$."
    )
    steps = (
        f"The terms ${div * k1} n^3$, ${div * k2} n$ and ${div * k3}$ are multiples of {div}, so it suffices to "
        f"show ${div} \\mid n^{{{exp}}} - n$.",
        f"By Fermat's little theorem, $n^{{{exp}}} \\equiv n$ modulo every prime dividing {div}.",
        f"{div} is squarefree, so the congruences combine by the Chinese remainder theorem.",
    )
    checks = (f"Try n = 2: $2^{{{exp}}} - 2 = {2**exp - 2}$, divisible by {div}. Good.",)
    solution = f"$n^{{{exp}}}-n$ is divisible by each prime factor of ${div}$, hence by ${div}$; the other terms are multiples of ${div}$."
    return Problem(
        text,
        "proof",
        "Number Theory",
        f"a proof that {div} divides the expression",
        steps,
        checks,
        solution,
        ("0", str(div)),
        "proof_divisibility",
        "proof",
    )


def proof_inequality(r: Random) -> Problem:
    k, m, t = r.randint(2, 120), r.randint(2, 999), r.randint(1, 30)
    text = (
        f"Let $a, b, c$ be positive real numbers with $a b c={k**3}$. Prove that "
        f"${t if t > 1 else ''}(a+b+c)+\\frac{{{m}}}{{a b c}} \\geqslant {3 * k * t}+\\frac{{{m}}}{{{k**3}}}$."
    )
    steps = (
        f"By AM-GM, $a + b + c \\ge 3\\sqrt[3]{{abc}} = 3 \\cdot {k} = {3 * k}$, so ${t}(a+b+c) \\ge {3 * k * t}$.",
        f"And $\\frac{{{m}}}{{abc}} = \\frac{{{m}}}{{{k**3}}}$ is fixed.",
        f"Adding gives the claim, with equality at $a = b = c = {k}$.",
    )
    checks = (f"At a = b = c = {k}: the left side is {3 * k * t} + {m}/{k**3}, equal to the right side.",)
    solution = f"By AM-GM $a+b+c \\geqslant 3 \\sqrt[3]{{a b c}}={3 * k}$; adding $\\frac{{{m}}}{{a b c}}=\\frac{{{m}}}{{{k**3}}}$ proves it."
    return Problem(
        text,
        "proof",
        "Inequalities",
        "a proof of the inequality",
        steps,
        checks,
        solution,
        ("0",),
        "proof_inequality",
        "proof",
    )
