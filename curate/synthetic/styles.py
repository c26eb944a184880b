"""How problems look in OpenR1 by source: numbering prefixes, point values, multiple-choice layouts.

The shapes are the ones seen in the real rows shipped in `data/realdata.jsonl.gz` ("3. (6 points)",
"## Task B-1.3.", "9.6.", "Example 5", "Four, (50 points)", `( )` answer blanks, `$\\textbf{(A)}$` AMC
choices, cn_k12's `A: ...` lines). The source mix follows OpenR1-Math-220k's `all` config roughly.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

# (source, weight): the `all` config is mostly olympiads and cn_k12, then cn_contest and aops_forum.
SOURCES: tuple[tuple[str, float], ...] = (
    ("olympiads", 0.41),
    ("cn_k12", 0.30),
    ("cn_contest", 0.09),
    ("aops_forum", 0.09),
    ("amc_aime", 0.035),
    ("number_theory", 0.035),
    ("inequalities", 0.02),
    ("olympiads_ref", 0.02),
)
SOURCE_NAMES = tuple(name for name, _ in SOURCES)
SOURCE_CUM = tuple(sum(w for _, w in SOURCES[: i + 1]) for i in range(len(SOURCES)))

CHINESE_NUMBERS = ("One", "Two", "Three", "Four", "Five", "Six")
PROPOSERS = (
    "Evan Chen",
    "Michael Ren",
    "James Lin",
    "Christopher Cheng",
    "Ankan Bhattacharya",
    "Vincent Huang",
)
LETTERS = "ABCDE"


def pick_source(r: Random) -> str:
    return r.choices(SOURCE_NAMES, cum_weights=SOURCE_CUM)[0]


def numbering(r: Random, source: str) -> str:
    """A leading label as the source prints it, or '' (many rows have none)."""
    n, points = r.randint(1, 30), r.choice((2, 3, 4, 5, 6, 8, 10, 12, 15, 16, 20, 25, 50))
    a, b = r.randint(1, 12), r.randint(1, 40)
    forms: tuple[str, ...]
    if source == "olympiads":
        forms = (
            f"{n}. ",
            f"{n}. ({points} points) ",
            f"{a}.{b}. ",
            f"{a}.{b:03d}. ",
            f"Problem {n}. ",
            f"Task {n}. ",
            f"## Task B-{r.randint(1, 4)}.{r.randint(1, 7)}.\n\n",
            f"## Problem {n}\n\n",
            f"{n}B. ",
            f"Example {n} ",
            f"{n}. ({points} points) ",
            "",
        )
    elif source == "cn_contest":
        forms = (
            f"{n}. ",
            f"{n}. ({points} points) ",
            f"Example {n} ",
            f"{r.choice(CHINESE_NUMBERS)}, ({points} points) ",
            "",
        )
    elif source == "cn_k12":
        forms = ("", "", "", "", f"{n}. ")
    elif source in ("inequalities", "number_theory"):
        forms = (f"Example {n} ", f"{n}. ", f"{a}.{b}. ", "")
    elif source == "olympiads_ref":
        forms = (f"Problem {n}. ", f"## Problem {n}\n\n", f"{n}. ")
    else:  # aops_forum, amc_aime
        forms = ("",)
    return forms[r.randrange(len(forms))]


def decorate(r: Random, source: str, body: str) -> str:
    """The body with the source's prefix and, rarely, its usual trailing artefacts."""
    text = ("" if body.startswith("#") else numbering(r, source)) + body
    roll = r.random()
    if source == "aops_forum" and roll < 0.25:
        text += f"\n\n[i]Proposed by {r.choice(PROPOSERS)}[/i]"
    elif source in ("cn_contest", "olympiads") and roll < 0.015:
        text += (
            "\n\nTranslate the above text into English, please keep the original text's line breaks and format, "
            "and output the translation result directly."
        )
    return text


@dataclass(frozen=True)
class Choice:
    text: str
    answer: str
    letter: str
    value: str


def multiple_choice(r: Random, source: str, body: str, answer: str, wrong: tuple[str, ...]) -> Choice:
    """Turn a problem with a computed answer into a multiple-choice question in the source's layout.
    OpenR1 stores the letter as the answer for most sources; amc_aime rows often store the value."""
    count = 5 if source == "amc_aime" else 4
    options = [answer, *[w for w in wrong if w != answer][: count - 1]]
    while len(options) < count:
        options.append(f"{answer}+{len(options)}")
    r.shuffle(options)
    letter = LETTERS[options.index(answer)]
    if source == "amc_aime":
        layout = "\\qquad".join(f"\\textbf{{({LETTERS[i]})}}\\ {o}" for i, o in enumerate(options))
        text = f"{body}\n${layout}$"
        stored = answer if r.random() < 0.5 else letter
    elif source == "cn_k12":
        lines = "\n".join(f"{LETTERS[i]}: ${o}$" for i, o in enumerate(options))
        text = f"{body} ( )\n{lines}"
        stored = letter
    else:
        lines = "\n".join(f"({LETTERS[i]}) ${o}$" for i, o in enumerate(options))
        text = f"{body} ( ).\n{lines}"
        stored = letter
    return Choice(text, stored, letter, answer)
