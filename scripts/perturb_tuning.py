"""The copies the detectors' thresholds were chosen with (on the tuning half of the benchmark problems).

One generator per family of the taxonomy in `perturb_heldout.py`, written separately from those: other word
lists, other cut points, other random streams. The measurement scripts report the held-out half with these
generators and with `perturb_heldout`'s, so a threshold that only fits this module's quirks shows.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

_MATH = re.compile(r"(\$\$.*?\$\$|\$.*?\$|\\\[.*?\\\]|\\\(.*?\\\))", re.DOTALL)
_FILLERS = ["really", "then", "also", "exactly", "now", "given", "here", "just", "all", "indeed"]
_SUBSTITUTES = {
    "find": "determine",
    "compute": "calculate",
    "what": "which",
    "number": "count",
    "positive": "nonnegative",
    "integers": "whole numbers",
    "integer": "whole number",
    "real": "actual",
    "let": "suppose",
    "each": "every",
    "sum": "total",
    "value": "amount",
    "such": "so",
    "that": "which",
    "is": "equals",
    "are": "were",
    "the": "a",
    "of": "for",
    "and": "as well as",
    "in": "inside",
    "on": "upon",
    "with": "having",
    "points": "dots",
    "point": "dot",
    "triangle": "trigon",
    "circle": "ring",
    "minutes": "mins",
    "probability": "chance",
    "largest": "greatest",
    "smallest": "least",
    "many": "much",
}
_INTROS = [
    "The following problem was given at a regional contest last spring and many students found it hard.",
    "Here is a problem from my homework that I could not solve, any help is appreciated.",
    "Consider the following question, which tests careful counting and some algebra.",
]
_OUTROS = [
    "Give your answer as an integer and justify each step of the argument.",
    "$\\textbf{(A)}\\ 12 \\qquad\\textbf{(B)}\\ 18 \\qquad\\textbf{(C)}\\ 24 \\qquad\\textbf{(D)}\\ 36 "
    "\\qquad\\textbf{(E)}\\ 48$",
    "Remark: this problem has a short solution using symmetry.",
]
_NUMBERINGS = ["3. ", "9.6. ", "## Task B-1.3.\n\n", "Problem 4. ", "2. (6 points) ", "Example 2 "]
_PROMPTS = [
    "\n\nPlease reason step by step, and put your final answer within \\boxed{}.",
    " Let's think step by step and output the final answer within \\boxed{}.",
]


def _words_outside_math(text: str) -> list[tuple[int, int]]:
    """Spans of plain alphabetic words that are not inside a formula."""
    spans = []
    pieces = _MATH.split(text)
    offset = 0
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            spans.extend(
                (offset + m.start(), offset + m.end()) for m in re.finditer(r"\b[A-Za-z]{2,}\b", piece)
            )
        offset += len(piece)
    return spans


def reword(text: str, rng: random.Random) -> str:
    """A few words substituted (synonym or filler) and a few inserted, outside formulas, order kept: one
    substitution per 15 words (1 to 3) and one insertion per 25 words (1 or 2)."""
    spans = _words_outside_math(text)
    if not spans:
        return text
    count = len(text.split())
    subs = min(3, max(1, count // 15))
    inserts = min(2, max(1, count // 25))
    chosen = rng.sample(range(len(spans)), min(len(spans), subs + inserts))
    edits = []
    for k, index in enumerate(chosen):
        start, end = spans[index]
        word = text[start:end]
        if k < subs:
            edits.append((start, end, _SUBSTITUTES.get(word.lower(), rng.choice(_FILLERS))))
        else:
            edits.append((start, start, rng.choice(_FILLERS) + " "))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _delimiters(text: str) -> str:
    text = re.sub(r"(?<!\\)\$\$(.*?)\$\$", r"\\[\1\\]", text, flags=re.DOTALL)
    return re.sub(r"(?<!\\)\$(.*?)(?<!\\)\$", r"\\(\1\\)", text, flags=re.DOTALL)


def _latex_math(math: str) -> str:
    math = math.replace("\\frac", "\\dfrac").replace("=", "\\,=\\,").replace("\\cdot", "\\;\\cdot\\;")
    return re.sub(r"(?<!\\)\(", r"\\left(", re.sub(r"(?<!\\)\)", r"\\right)", math))


def _latex(text: str) -> str:
    """`\\dfrac` for `\\frac`, `\\left(`/`\\right)` and thin spaces, inside formulas only."""
    return _MATH.sub(lambda m: _latex_math(m.group(0)), text)


def _whitespace(text: str) -> str:
    return "  " + re.sub(r" ", "   ", text).replace(". ", ".\n\n") + " \n"


_PLAIN = [
    ("\\le ", "≤ "),
    ("\\ge ", "≥ "),
    ("\\leq", "≤"),
    ("\\geq", "≥"),
    ("\\pi", "π"),
    ("\\cdots", "…"),
    ("\\cdot", "⋅"),
    ("\\times", "×"),
    ("^2", "²"),
    ("^3", "³"),
    ("^{2}", "²"),
    ("\\sqrt", "√"),
    ("\\infty", "∞"),
    ("\\alpha", "α"),
    ("\\theta", "θ"),
]


def _retypeset(text: str) -> str:
    def plain(math: str) -> str:
        inner = math.strip("$")
        if inner.startswith(("\\(", "\\[")):
            inner = inner[2:-2]
        for latex, unicode in _PLAIN:
            inner = inner.replace(latex, unicode)
        return re.sub(r"\\d?frac\{(\w+)\}\{(\w+)\}", r"\1/\2", inner)

    return _MATH.sub(lambda m: plain(m.group(0)), text)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+(?=[A-Z])", text) if s]


_LABEL = re.compile(r"^(?:#+ )?(?:(?:Problem|Example|Task|Question)\s+[\w.\-]+\.?|\d+(?:\.\d+)*\.)(?:\s*\([^()]*\))?\s*")


def _reorder(text: str, rng: random.Random) -> str:
    """Two neighbouring sentences swapped (a leading contest label stays in front)."""
    label = _LABEL.match(text)
    head, body = (text[: label.end()], text[label.end() :]) if label else ("", text)
    parts = _sentences(body)
    if len(parts) < 2:
        return text
    k = rng.randrange(len(parts) - 1)
    parts[k], parts[k + 1] = parts[k + 1], parts[k]
    return head + " ".join(parts)


def _partial(text: str, rng: random.Random, low: float = 0.65, high: float = 0.85) -> str:
    words = text.split(" ")
    return " ".join(words[: max(1, int(len(words) * rng.uniform(low, high)))])


def _drop_last_sentence(text: str, rng: random.Random) -> str:
    parts = _sentences(text)
    return " ".join(parts[:-1]) if len(parts) > 1 else _partial(text, rng)


def _choices(text: str, rng: random.Random) -> str:
    at = text.find("$\\textbf{(A)")
    if at < 0:
        at = text.find("(A)")
    if at > len(text) // 3:
        return text[:at].rstrip()
    return text + " " + rng.choice(_OUTROS[1:2])


def _numbers(text: str, rng: random.Random) -> str:
    """About half the distinct numbers (at least one) replaced by other numbers."""
    numbers = sorted(set(re.findall(r"\d+", text)))
    if not numbers:
        return text
    chosen = set(rng.sample(numbers, max(1, len(numbers) // 2)))
    replacement = {n: str(int(n) + rng.randint(1, 9)) for n in sorted(chosen)}
    return re.sub(r"\d+", lambda m: replacement.get(m.group(), m.group()), text)


def _substitution(text: str, rng: random.Random) -> str:
    """One word (two in problems over 40 words) replaced by a filler."""
    spans = _words_outside_math(text)
    if not spans:
        return text
    count = 1 if len(text.split()) <= 40 else 2
    for start, end in sorted(rng.sample(spans, min(count, len(spans))), reverse=True):
        text = text[:start] + rng.choice(_FILLERS) + text[end:]
    return text


GENERATORS: dict[str, Callable[[str, random.Random], str]] = {
    "verbatim": lambda t, rng: t,
    "layout": lambda t, rng: _whitespace(t),
    "case": lambda t, rng: t.upper() if rng.random() < 0.5 else t.lower(),
    "delimiters": lambda t, rng: _delimiters(t),
    "latex_style": lambda t, rng: _latex(t),
    "labels": lambda t, rng: rng.choice(_NUMBERINGS) + t,
    "instructions": lambda t, rng: t + rng.choice(_PROMPTS),
    "retypeset": lambda t, rng: _retypeset(t),
    "partial_words": _partial,
    "partial_sentence": _drop_last_sentence,
    "reordered": _reorder,
    "paraphrase": reword,
    "embedded": lambda t, rng: rng.choice(_INTROS) + "\n\n" + t + "\n\n" + rng.choice(_OUTROS),
    "choices": _choices,
    "combined": lambda t, rng: rng.choice(_NUMBERINGS) + _whitespace(_latex(_delimiters(reword(t, rng)))),
    "numbers_changed": _numbers,
    "substitution": _substitution,
}


def copy(family: str, text: str, rng: random.Random) -> str:
    return GENERATORS[family](text, rng)
