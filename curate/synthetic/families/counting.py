"""Combinatorics and tournaments: committees, lattice paths, arrangements, probability, round robins."""

from __future__ import annotations

import math
from fractions import Fraction
from random import Random

from curate.synthetic.families.base import COLOURS, NAMES, Problem, pick, plain, tex, wrongs


def committee(r: Random) -> Problem:
    men, women = r.randint(4, 80), r.randint(3, 80)
    k = r.randint(3, 12)
    group = pick(r, ("class", "club", "school team", "research group", "choir", "company", "chess club"))
    boys, girls = r.choice((("boys", "girls"), ("men", "women"), ("juniors", "seniors")))
    total = math.comb(men + women, k)
    kind = r.randrange(3)
    if kind == 0:
        answer = total - math.comb(men, k)
        condition = f"it must include at least one of the {girls}"
        steps = (
            f"All committees: $\\binom{{{men + women}}}{{{k}}} = {total}$.",
            f"Committees with none of the {girls}: $\\binom{{{men}}}{{{k}}} = {math.comb(men, k)}$.",
            f"Subtract: ${total} - {math.comb(men, k)} = {answer}$.",
        )
    else:
        j = r.randint(1, min(k - 1, women))
        answer = math.comb(women, j) * math.comb(men, k - j)
        condition = f"it must contain exactly {j} of the {girls}"
        steps = (
            f"Choose the {girls}: $\\binom{{{women}}}{{{j}}} = {math.comb(women, j)}$.",
            f"Choose the other {k - j} members from the {boys}: $\\binom{{{men}}}{{{k - j}}} = {math.comb(men, k - j)}$.",
            f"Multiply: ${math.comb(women, j)} \\cdot {math.comb(men, k - j)} = {answer}$.",
        )
    text = (
        f"A {group} has {men} {boys} and {women} {girls}. In how many ways can a committee of {k} people be "
        f"chosen if {condition}?"
    )
    checks = (
        f"For comparison, with no condition there would be $\\binom{{{men + women}}}{{{k}}} = {total}$ committees.",
    )
    solution = steps[-1].replace("Subtract: ", "").replace("Multiply: ", "")
    return Problem(
        text,
        str(answer),
        "Combinatorics",
        "the number of committees",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "committee",
    )


def grid_paths(r: Random) -> Problem:
    m, n = r.randint(4, 24), r.randint(4, 24)
    a, b = r.randint(1, m - 1), r.randint(1, n - 1)
    name, letter = pick(r, NAMES), pick(r, ("P", "Q", "M", "K", "X"))
    total = math.comb(m + n, m)
    through = math.comb(a + b, a) * math.comb(m - a + n - b, m - a)
    avoid = r.random() < 0.6
    count = total - through if avoid else through
    modulus = 1000 if count >= 10**7 else None
    answer = count % 1000 if modulus else count
    verb = "avoid" if avoid else "pass through"
    ask = (
        f"Let $N$ be the number of such routes that {verb} ${letter}$. What are the last three digits of $N$?"
        if modulus
        else f"How many such routes {verb} ${letter}$?"
    )
    marker = pick(r, ("a café", "a puddle", "roadworks", "a traffic light", "a fountain", "a kiosk"))
    form = r.randrange(3)
    if form == 0:
        text = (
            f"{name} walks along the lines of a grid from the corner $(0,0)$ to the corner $({m},{n})$, each step "
            f"going one unit to the right or one unit up. The lattice point ${letter}=({a},{b})$ has {marker}. {ask}"
        )
    elif form == 1:
        text = (
            f"A city has a rectangular street grid. {name} goes from the crossing $(0,0)$ to $({m},{n})$ by a "
            f"shortest route, moving east or north one block at a time; the crossing ${letter}=({a},{b})$ has "
            f"{marker}. {ask}"
        )
    else:
        text = (
            f"On a ${m} \\times {n}$ board of unit squares, a path runs along grid lines from the bottom-left "
            f"corner to the opposite corner using only up and right moves. Mark the point ${letter}$ at "
            f"$({a},{b})$, where {name} left {marker}. {ask}"
        )
    steps = (
        f"All routes: $\\binom{{{m + n}}}{{{m}}} = {total}$.",
        f"Routes through ${letter}$: $\\binom{{{a + b}}}{{{a}}} \\cdot \\binom{{{m - a + n - b}}}{{{m - a}}} = "
        f"{math.comb(a + b, a)} \\cdot {math.comb(m - a + n - b, m - a)} = {through}$.",
        (
            f"Avoiding it: ${total} - {through} = {count}$."
            if avoid
            else f"So {through} routes pass through it."
        )
        + (f" Its last three digits are {answer:03d}." if modulus else ""),
    )
    checks = (f"Sanity: {through} is less than {total}, as it must be.",)
    solution = f"$\\binom{{{m + n}}}{{{m}}}={total}$ routes in all, ${through}$ through ${letter}$; the answer is ${answer}$."
    return Problem(
        text,
        str(answer),
        "Combinatorics",
        "the number of routes",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "grid_paths",
    )


def arrangements(r: Random) -> Problem:
    c1, c2, c3 = r.sample(COLOURS, 3)
    x, y, z = r.randint(1, 12), r.randint(1, 12), r.randint(1, 12)
    things = pick(r, ("balls", "flags", "beads", "cubes", "cards"))
    others = y + z
    steps: tuple[str, ...]
    if r.random() < 0.5:
        answer = math.factorial(x + y + z) // (math.factorial(x) * math.factorial(y) * math.factorial(z))
        text = (
            f"There are {x} identical {c1} {things}, {y} identical {c2} {things} and {z} identical {c3} {things}. In how "
            f"many different ways can all of them be arranged in a row?"
        )
        steps = (
            f"Total {things}: {x + y + z}. Arrangements of a multiset: ${x + y + z}!/({x}!\\,{y}!\\,{z}!)$.",
            f"${math.factorial(x + y + z)} / ({math.factorial(x)} \\cdot {math.factorial(y)} \\cdot "
            f"{math.factorial(z)}) = {answer}$.",
        )
    else:
        answer = math.comb(others + 1, x) * math.factorial(others) // (math.factorial(y) * math.factorial(z))
        text = (
            f"There are {x} identical {c1} {things}, {y} identical {c2} {things} and {z} identical {c3} {things}. In how "
            f"many ways can they be arranged in a row so that no two {c1} {things} are adjacent?"
        )
        steps = (
            f"First arrange the {others} other {things}: ${others}!/({y}!\\,{z}!) = "
            f"{math.factorial(others) // (math.factorial(y) * math.factorial(z))}$ ways.",
            f"That leaves {others + 1} gaps; choose {x} of them for the {c1} {things}: "
            f"$\\binom{{{others + 1}}}{{{x}}} = {math.comb(others + 1, x)}$.",
            f"Multiply: {answer}.",
        )
    checks = (f"The count {answer} is an integer, as it must be.",)
    solution = f"The number of arrangements is ${answer}$."
    return Problem(
        text,
        str(answer),
        "Combinatorics",
        "the number of arrangements",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "arrangements",
    )


def draw_probability(r: Random) -> Problem:
    c1, c2, c3 = r.sample(COLOURS, 3)
    x, y, z = r.randint(2, 40), r.randint(2, 40), r.randint(1, 40)
    n = x + y + z
    same = math.comb(x, 2) + math.comb(y, 2) + math.comb(z, 2)
    answer = Fraction(same, math.comb(n, 2))
    text = (
        f"A bag contains {x} {c1}, {y} {c2} and {z} {c3} balls. Two balls are drawn at random without "
        f"replacement. What is the probability that they have the same colour?"
    )
    steps = (
        f"Total pairs: $\\binom{{{n}}}{{2}} = {math.comb(n, 2)}$.",
        f"Same-colour pairs: $\\binom{{{x}}}{{2}} + \\binom{{{y}}}{{2}} + \\binom{{{z}}}{{2}} = {math.comb(x, 2)} + "
        f"{math.comb(y, 2)} + {math.comb(z, 2)} = {same}$.",
        f"Probability: ${same}/{math.comb(n, 2)} = {tex(answer)}$.",
    )
    checks = (
        f"Sequentially: ({x}/{n})({x - 1}/{n - 1}) + ({y}/{n})({y - 1}/{n - 1}) + ({z}/{n})({z - 1}/{n - 1}) "
        f"= {plain(answer)}.",
    )
    solution = f"$P=\\frac{{{same}}}{{{math.comb(n, 2)}}}={tex(answer)}$."
    return Problem(
        text,
        tex(answer),
        "Combinatorics",
        "the probability of drawing the same colour",
        steps,
        checks,
        solution,
        wrongs(r, answer),
        "probability",
    )


CITIES = (
    "Zagreb",
    "Kazan",
    "Wuhan",
    "Brno",
    "Cluj",
    "Tartu",
    "Porto",
    "Lyon",
    "Graz",
    "Minsk",
    "Xi'an",
    "Hefei",
    "Split",
    "Varna",
    "Poznan",
    "Turin",
    "Kyoto",
    "Osijek",
    "Novi Sad",
    "Debrecen",
)


def tournament(r: Random) -> Problem:
    teams, rounds = r.randint(6, 60), r.choice((1, 2))
    sport = pick(r, ("football", "hockey", "handball", "water polo", "basketball", "rugby"))
    city, win, year = pick(r, CITIES), r.choice((3, 3, 4, 5)), r.randint(1985, 2024)
    event = pick(r, ("cup", "tournament", "championship", "festival", "memorial"))
    games = rounds * teams * (teams - 1) // 2
    draws = r.randint(1, games - 1)
    points = win * games - (win - 2) * draws
    times = "exactly once" if rounds == 1 else "twice (home and away)"
    if r.random() < 0.5:
        text = (
            f"At the {year} {city} {sport} {event}, {teams} teams played each other {times}. A win brought {win} points, a "
            f"draw 1 point and a loss 0 points. When the {event} ended, the teams had collected {points} points "
            f"altogether. How many games ended in a draw?"
        )
    else:
        text = (
            f"{teams} clubs took part in the {year} {sport} {event} in {city}; every pair of clubs met {times}. Each win "
            f"was worth {win} points and each draw 1 point to both sides. The final table shows {points} points "
            f"in total. Find the number of drawn matches."
        )
    steps = (
        f"Number of games: ${rounds} \\cdot \\binom{{{teams}}}{{2}} = {games}$.",
        f"A decisive game gives {win} points in total, a draw gives 2. With $x$ draws the total is "
        f"${win}({games} - x) + 2x = {win * games} - {win - 2}x$.",
        f"So ${win * games} - {win - 2}x = {points}$, hence $x = {draws}$.",
    )
    checks = (
        f"{games - draws} decisive games give {win * (games - draws)} points, {draws} draws give {2 * draws}; "
        f"the sum is {points}.",
    )
    solution = f"There were ${games}$ games, and ${win * games}-{points}={(win - 2) * draws}$, so there were ${draws}$ draws."
    return Problem(
        text,
        str(draws),
        "Logic and Puzzles",
        "the number of drawn games",
        steps,
        checks,
        solution,
        wrongs(r, draws),
        "tournament",
    )
