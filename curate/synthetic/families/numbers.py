"""Number theory: remainders of powers, divisors, counting multiples, gcd and lcm, last digits, bases."""

from __future__ import annotations

import math
from random import Random

from curate.synthetic.families.base import Problem, wrongs


def power_remainder(r: Random) -> Problem:
    a, n, m = r.randint(2, 99), r.randint(50, 99999), r.choice((7, 9, 11, 13, 17, 19, 37, 100, 101, 1000))
    cycle = []
    value = 1
    for _ in range(m + 1):
        value = value * a % m
        if value in cycle:
            break
        cycle.append(value)
    answer = pow(a, n, m)
    shown = ", ".join(f"{a}^{k + 1} \\equiv {v}" for k, v in enumerate(cycle[:8]))
    text = f"Find the remainder when ${a}^{{{n}}}$ is divided by ${m}$."
    steps = (
        f"Compute successive powers of {a} modulo {m}: ${shown}$.",
        f"The residues start repeating after {len(cycle)} steps (the residue that comes back is "
        f"{cycle[-1] * a % m}).",
        f"Reduce the exponent: ${n} = {len(cycle)} \\cdot {n // len(cycle)} + {n % len(cycle)}$ when the cycle "
        f"starts at the first power.",
        f"Therefore ${a}^{{{n}}} \\bmod {m} = {answer}$.",
    )
    checks = (
        f"Double-check with fast exponentiation: squaring repeatedly modulo {m} also gives {answer}.",
        f"{answer} is between 0 and {m - 1}, so it is a valid remainder.",
    )
    solution = f"The powers of ${a}$ modulo ${m}$ are periodic; ${a}^{{{n}}} \\equiv {answer} \\pmod{{{m}}}$."
    return Problem(
        text,
        str(answer),
        "Number Theory",
        f"the remainder of ${a}^{{{n}}}$ modulo {m}",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "power_remainder",
    )


PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


def divisors(r: Random) -> Problem:
    while True:
        primes = sorted(r.sample(PRIMES, r.choice((3, 4, 5))))
        exps = [r.randint(1, 8) for _ in primes]
        n = math.prod(p**e for p, e in zip(primes, exps))
        if n < 10**12:
            break
    kind = r.randrange(4)
    factor = " \\cdot ".join(f"{p}^{{{e}}}" for p, e in zip(primes, exps))
    if kind == 0:
        answer = math.prod(e + 1 for e in exps)
        text = f"How many positive divisors does the number ${n}$ have?"
        formula = " \\cdot ".join(f"({e}+1)" for e in exps)
        gist = f"the number of divisors of {n}"
    elif kind == 1:
        answer = math.prod((p ** (e + 1) - 1) // (p - 1) for p, e in zip(primes, exps))
        text = f"Find the sum of all positive divisors of ${n}$."
        formula = " \\cdot ".join(f"\\frac{{{p}^{{{e + 1}}}-1}}{{{p}-1}}" for p, e in zip(primes, exps))
        gist = f"the sum of the divisors of {n}"
    elif kind == 2:
        answer = math.prod(e // 2 + 1 for e in exps)
        text = f"How many divisors of ${n}$ are perfect squares?"
        formula = " \\cdot ".join(f"(\\lfloor {e}/2 \\rfloor+1)" for e in exps)
        gist = f"the number of square divisors of {n}"
    else:
        p0 = primes[0]
        answer = exps[0] * math.prod(e + 1 for e in exps[1:])
        text = f"How many positive divisors of ${n}$ are multiples of ${p0}$?"
        formula = f"{exps[0]} \\cdot " + " \\cdot ".join(f"({e}+1)" for e in exps[1:])
        gist = f"the number of divisors of {n} divisible by {p0}"
    steps = (
        f"Factor {n}: ${n} = {factor}$.",
        f"Count with the exponents: ${formula}$.",
        f"That is {answer}.",
    )
    checks = (f"Check the factorisation: {' * '.join(f'{p}^{e}' for p, e in zip(primes, exps))} = {n}. Yes.",)
    solution = f"${n}={factor}$, so the answer is ${formula}={answer}$."
    return Problem(
        text, str(answer), "Number Theory", gist, steps, checks, solution, wrongs(r, answer), "divisors"
    )


def inclusion_exclusion(r: Random) -> Problem:
    while True:
        a, b, c = r.sample((2, 3, 4, 5, 6, 7, 9, 10, 11, 13), 3)
        if a % c and b % c and a % b and b % a:
            break
    n = r.randint(200, 99999)

    def count(*ds: int) -> int:
        return n // math.lcm(*ds)

    union = count(a) + count(b) - count(a, b)
    with_c = count(a, c) + count(b, c) - count(a, b, c)
    answer = union - with_c
    text = f"How many integers from 1 to {n} are divisible by {a} or by {b}, but not by {c}?"
    steps = (
        f"Multiples of {a}: $\\lfloor {n}/{a} \\rfloor = {count(a)}$; of {b}: {count(b)}; of both (lcm "
        f"{math.lcm(a, b)}): {count(a, b)}.",
        f"So {count(a)} + {count(b)} - {count(a, b)} = {union} numbers are divisible by {a} or {b}.",
        f"Among them, those divisible by {c}: {count(a, c)} + {count(b, c)} - {count(a, b, c)} = {with_c}.",
        f"Answer: {union} - {with_c} = {answer}.",
    )
    checks = (
        f"lcm({a}, {c}) = {math.lcm(a, c)} and lcm({b}, {c}) = {math.lcm(b, c)}, lcm of all three "
        f"{math.lcm(a, b, c)}; the floor divisions give {count(a, c)}, {count(b, c)}, {count(a, b, c)}.",
    )
    solution = f"By inclusion-exclusion: $({count(a)}+{count(b)}-{count(a, b)})-({count(a, c)}+{count(b, c)}-{count(a, b, c)})={answer}$."
    return Problem(
        text,
        str(answer),
        "Number Theory",
        f"how many integers up to {n} qualify",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "inclusion_exclusion",
    )


def gcd_lcm(r: Random) -> Problem:
    g = r.randint(2, 200)
    while True:
        u, v = r.randint(2, 150), r.randint(2, 150)
        if math.gcd(u, v) == 1 and u != v:
            break
    x, y, lcm = g * u, g * v, g * u * v
    text = (
        f"The greatest common divisor of two positive integers is {g} and their least common multiple is "
        f"{lcm}. One of the numbers is {x}. Find the other number."
    )
    steps = (
        f"For any two positive integers, $\\gcd \\cdot \\operatorname{{lcm}} = $ product, so {g} times {lcm} is "
        f"{g * lcm}.",
        f"The other number is ${g * lcm} / {x} = {y}$.",
    )
    checks = (
        f"gcd({x}, {y}): {x} = {g} * {u}, {y} = {g} * {v}, and {u}, {v} are coprime, so the gcd is {g}.",
        f"lcm({x}, {y}) = {g} * {u} * {v} = {lcm}. Correct.",
    )
    solution = f"Since $\\gcd(a,b) \\cdot \\operatorname{{lcm}}(a,b)=ab$, the other number is $\\frac{{{g} \\cdot {lcm}}}{{{x}}}={y}$."
    return Problem(
        text, str(y), "Number Theory", "the other number", steps, checks, solution, wrongs(r, y), "gcd_lcm"
    )


def last_digits(r: Random) -> Problem:
    a, n = r.choice([x for x in range(3, 999) if x % 10]), r.randint(100, 99999)
    last2 = pow(a, n, 100)
    kind = r.randrange(2)
    if kind == 0:
        answer, text = last2 // 10, f"What is the tens digit of ${a}^{{{n}}}$?"
        gist = f"the tens digit of {a}^{n}"
    else:
        answer, text = last2 % 10, f"What is the units digit of ${a}^{{{n}}}$?"
        gist = f"the last digit of {a}^{n}"
    steps = (
        f"We need ${a}^{{{n}}} \\bmod 100$. Euler: $\\varphi(100) = 40$"
        + (f", and gcd({a}, 100) = 1, so reduce {n} mod 40 = {n % 40}." if math.gcd(a, 100) == 1 else "."),
        f"Working it out, ${a}^{{{n}}} \\equiv {last2:02d} \\pmod{{100}}$.",
        f"So the last two digits are {last2:02d}.",
    )
    checks = (f"Units digit check: powers of {a % 10} cycle, and {n} fits that cycle giving {last2 % 10}.",)
    solution = f"${a}^{{{n}}} \\equiv {last2:02d} \\pmod{{100}}$, hence the answer is ${answer}$."
    return Problem(
        text, str(answer), "Number Theory", gist, steps, checks, solution, wrongs(r, answer), "last_digits"
    )


def base_number(r: Random) -> Problem:
    b = r.randint(11, 40)
    digits = [r.randint(1, b - 1), *(r.randint(0, b - 1) for _ in range(r.choice((3, 4))))]
    top = len(digits) - 1
    n = sum(d * b ** (top - i) for i, d in enumerate(digits))
    shown = "".join(str(d) if d < 10 else f"({d})" for d in digits)
    text = (
        f"A positive integer $N$ has the base-$b$ representation $\\overline{{{shown}}}_{{b}}$, where the "
        f"digits in brackets are single digits, and in decimal notation $N={n}$. Find the base $b$."
    )
    poly = " + ".join(f"{d} b^{{{top - i}}}" for i, d in enumerate(digits))
    steps = (
        f"So ${poly} = {n}$.",
        f"The leading digit is {digits[0]}, so $b^{top}$ is about {n}/{digits[0]} = {n // digits[0]}, giving b near "
        f"{round((n / digits[0]) ** (1 / top), 2)}.",
        f"Try $b = {b}$: {' + '.join(str(d * b ** (top - i)) for i, d in enumerate(digits))} = {n}. It works.",
    )
    checks = (f"Digits must be less than the base; the largest digit is {max(digits)} < {b}. Fine.",)
    solution = f"${poly}={n}$ has the unique solution $b={b}$ with all digits less than $b$."
    return Problem(
        text, str(b), "Number Theory", "the base $b$", steps, checks, solution, wrongs(r, b), "base"
    )
