"""Logic and puzzles: ages, heads and legs, digit sums."""

from __future__ import annotations

from random import Random

from curate.synthetic.families.base import NAMES, Problem, pick, wrongs


def ages(r: Random) -> Problem:
    child, name = r.randint(3, 50), pick(r, NAMES)
    k = r.randint(2, 6)
    parent = k * child
    years = r.randint(1, 80)
    relative = pick(
        r, ("father", "mother", "grandfather", "grandmother", "aunt", "uncle", "teacher", "coach")
    )
    future_p, future_c = parent + years, child + years
    text = (
        f"This year {name}'s {relative} is {k} times as old as {name}. In {years} years the sum of their ages "
        f"will be {future_p + future_c}. How old is {name} now?"
    )
    steps = (
        f"Let {name} be $x$ years old; the {relative} is ${k}x$.",
        f"In {years} years: $(x + {years}) + ({k}x + {years}) = {future_p + future_c}$, so ${k + 1}x = "
        f"{future_p + future_c - 2 * years}$.",
        f"Thus $x = {child}$.",
    )
    checks = (
        f"Now: {child} and {parent}. In {years} years: {future_c} and {future_p}, sum {future_c + future_p}.",
    )
    solution = f"${k + 1} x+{2 * years}={future_p + future_c}$, $x={child}$."
    return Problem(
        text,
        str(child),
        "Logic and Puzzles",
        f"{name}'s age",
        steps,
        checks,
        solution,
        wrongs(r, child),
        "ages",
    )


def heads_legs(r: Random) -> Problem:
    a1, a2 = r.choice((("chickens", "rabbits"), ("ducks", "sheep"), ("geese", "goats"), ("hens", "pigs")))
    x, y = r.randint(3, 999), r.randint(3, 999)
    heads, legs = x + y, 2 * x + 4 * y
    if r.random() < 0.5:
        text = (
            f"A farm has some {a1} and {a2}. Together they have {heads} heads and {legs} legs. How many {a2} "
            f"are there?"
        )
    else:
        who = pick(r, NAMES)
        text = (
            f"{who} counted the {a1} and {a2} in a yard: {heads} heads and {legs} legs in all. Find the number "
            f"of {a2}."
        )
    steps = (
        f"If all {heads} animals were {a1}, there would be {2 * heads} legs.",
        f"The extra {legs} - {2 * heads} = {legs - 2 * heads} legs come from the {a2}, 2 extra each.",
        f"So there are {legs - 2 * heads}/2 = {y} {a2}.",
    )
    checks = (f"{x} {a1} and {y} {a2}: {2 * x} + {4 * y} = {legs} legs and {heads} heads.",)
    solution = f"$({legs}-2 \\times {heads}) \\div 2={y}$."
    return Problem(
        text,
        str(y),
        "Logic and Puzzles",
        f"the number of {a2}",
        steps,
        checks,
        solution,
        wrongs(r, y),
        "heads_legs",
    )


def digit_sum(r: Random) -> Problem:
    n, b = r.randint(5, 400), r.randint(2, 9999)
    number = 10**n - b
    answer = sum(int(ch) for ch in str(number))
    text = f"Find the sum of the digits of the number $10^{{{n}}}-{b}$."
    head = str(10 ** len(str(b)) - b).zfill(len(str(b)))
    steps = (
        f"$10^{{{n}}} - {b}$ is a string of {n - len(str(b))} nines followed by the digits of "
        f"$10^{{{len(str(b))}}} - {b} = {head}$.",
        f"The nines contribute $9 \\cdot {n - len(str(b))} = {9 * (n - len(str(b)))}$.",
        f"The last digits {head} contribute {sum(int(ch) for ch in head)}.",
        f"Total: {answer}.",
    )
    checks = (
        f"Small case: $10^{{{len(str(b)) + 1}}} - {b} = {10 ** (len(str(b)) + 1) - b}$, digit sum "
        f"{sum(int(ch) for ch in str(10 ** (len(str(b)) + 1) - b))}, which fits the pattern.",
    )
    solution = (
        f"The number consists of ${n - len(str(b))}$ nines followed by ${head}$; the digit sum is ${answer}$."
    )
    return Problem(
        text, str(answer), "Other", "the digit sum", steps, checks, solution, wrongs(r, answer), "digit_sum"
    )
