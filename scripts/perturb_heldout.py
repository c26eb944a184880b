"""How real copies of a problem differ from it: the taxonomy, and the generators the filters are judged by.

This module builds the *evaluation* copies. It was written from the taxonomy below before the detectors'
thresholds were chosen, and shares no code, word list or random stream with `perturb_tuning.py`, the
generators the thresholds were chosen with; `measure_decontam.py` and `measure_dedup.py` report both, on
both halves of the benchmark problems. One change was made after the first measurement, a bug fix: the
`retypeset` family turned `\\cdots` into `·s` and swallowed operators after exponents (`5^4-5^3` into
superscripts `⁴⁻⁵³`), garbling the mathematics rather than retypesetting it; and `numbers_changed` looped
forever on a problem with more than nine distinct one-digit numbers (it never reused a new number); and
`reordered` moved a contest label ("3. (6 points)", "Example 1 (...)", "1B.", "V-2") into the middle of the
problem, as if it were a sentence, and split one-sentence problems at a comma inside a formula.

Taxonomy (family: what changes; a real example of the route):

Formatting only (the problem is the same text, typed differently):
- `verbatim`: nothing (a benchmark file pasted into a training set).
- `layout`: line breaks and spacing (a copy split over lines, a PDF extraction, a chat template's wrapping).
- `case`: letter case (an all-caps heading, a lower-cased scrape).
- `delimiters`: `$...$` / `\\(...\\)`, `$$...$$` / `\\[...\\]`, or no delimiters around simple math.
- `latex_style`: `\\dfrac` for `\\frac`, `\\leq` for `\\le`, `\\left(`/`\\right)`, thin spaces, `x^{2}` for `x^2`.
- `labels`: contest numbering, point values and source notes added ("Problem 7 (AIME 2024).").
- `instructions`: an evaluation prompt or answer-format instruction added before or after.
- `retypeset`: LaTeX written as Unicode and plain text (`x²`, `≤`, `√`, `π`, `·`, `a/b`, Greek letters), as
  forum posts and OCR'd books write it.

Edited (the same problem, partly rewritten or partly copied):
- `partial_words`: the statement cut after 70-80% of its words (a truncated scrape).
- `partial_sentence`: the last sentence (often the question) dropped.
- `reordered`: sentences in another order (a rephrased setup: the question first, or givens swapped).
- `paraphrase`: about one word in seven replaced by a synonym or a near-synonym phrase (a light rewording,
  as translation round trips and dataset "rewrites" produce).
- `embedded`: the problem inside other text (a homework post, a worksheet item after an unrelated one).
- `choices`: answer choices removed where the problem has them, added (five options) where it has none.
- `combined`: a formatting change and an edit together (labels + layout + delimiters, then partial or
  paraphrase).

Template (another problem built on the same statement):
- `numbers_changed`: every number of the statement replaced by another with as many digits ("AIME problems
  re-issued with new numbers").

Near-duplicate families for deduplication (`DEDUP_FAMILIES`) are the formatting families, `instructions`,
`reordered`, `retypeset`, `substitution` (one to three words replaced) and `combined`; `numbers_changed`
pairs are the distinct problems that must not be merged unless the recipe asks for it.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable

FORMATTING = ("verbatim", "layout", "case", "delimiters", "latex_style", "labels", "instructions")
RETYPESET = ("retypeset",)
EDITED = ("partial_words", "partial_sentence", "reordered", "paraphrase", "embedded", "choices", "combined")
TEMPLATE = ("numbers_changed",)
FAMILIES = (*FORMATTING, *RETYPESET, *EDITED, *TEMPLATE)
DEDUP_FAMILIES = (
    "layout",
    "case",
    "delimiters",
    "latex_style",
    "labels",
    "instructions",
    "retypeset",
    "reordered",
    "substitution",
    "combined",
)

_MATH_SPAN = re.compile(
    r"(?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL
)
_NUMBER = re.compile(r"(?<![A-Za-z\\])\d+")
# Sentence ends outside formulas: a full stop, question or exclamation mark followed by space and a capital,
# a formula, or the end.
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z$\\(])")


def _outside_math(text: str, edit: Callable[[str], str]) -> str:
    """`edit` applied to the prose between formulas only."""
    out, last = [], 0
    for span in _MATH_SPAN.finditer(text):
        out.append(edit(text[last : span.start()]))
        out.append(span.group())
        last = span.end()
    out.append(edit(text[last:]))
    return "".join(out)


def _inside_math(text: str, edit: Callable[[str], str]) -> str:
    return _MATH_SPAN.sub(lambda span: edit(span.group()), text)


def sentences(text: str) -> list[str]:
    """The problem split into sentences, never inside a formula."""
    masked = _MATH_SPAN.sub(lambda m: "\x00" * len(m.group()), text)
    cuts = [m.end() for m in _SENTENCE_END.finditer(masked)]
    bounds = [0, *cuts, len(text)]
    return [text[a:b].strip() for a, b in itertools.pairwise(bounds) if text[a:b].strip()]


# ------------------------------------------------------------------------------------------- formatting


def layout(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    out = []
    for word in words:
        out.append(word)
        roll = rng.random()
        out.append("\n" if roll < 0.12 else "  " if roll < 0.2 else "\t" if roll < 0.23 else " ")
    return "\n " + "".join(out[:-1]).replace("\n\n", "\n") + "  \n"


def case(text: str, rng: random.Random) -> str:
    return rng.choice([str.upper, str.lower, str.title])(text)


def delimiters(text: str, rng: random.Random) -> str:
    style = rng.randrange(3)

    def swap(span: str) -> str:
        if span.startswith("$$"):
            return "\\[" + span[2:-2] + "\\]"
        if span.startswith("$"):
            inner = span[1:-1]
            if style == 0:
                return "\\(" + inner + "\\)"
            if style == 1 and re.fullmatch(r"[\w+\-=^ ]{1,12}", inner):
                return inner  # simple math typed as plain text
            return "\\(" + inner.strip() + "\\)"
        if span.startswith("\\("):
            return "$" + span[2:-2] + "$"
        return "$$" + span[2:-2] + "$$"

    return _MATH_SPAN.sub(lambda m: swap(m.group()), text)


_STYLE = [
    (r"\\frac(?=\{)", r"\\dfrac"),
    (r"\\le(?![a-z])", r"\\leq"),
    (r"\\ge(?![a-z])", r"\\geq"),
    (r"\^(\w)", r"^{\1}"),
    (r"_(\w)", r"_{\1}"),
    (r"(?<!\\left)\((?=[^()$]{1,30}\))", r"\\left("),
    (r"=", r"\\,=\\,"),
    (r"\\cdot", r"\\,\\cdot\\,"),
]


def latex_style(text: str, rng: random.Random) -> str:
    def restyle(span: str) -> str:
        for pattern, replacement in _STYLE:
            if rng.random() < 0.7:
                span = re.sub(pattern, replacement, span)
        return _balance_left(span) if "\\left(" in span else span

    return _inside_math(text, restyle)


def _balance_left(span: str) -> str:
    """Turn the `)` that closes each `\\left(` into `\\right)`."""
    out, stack = [], []
    i = 0
    while i < len(span):
        if span.startswith("\\left(", i):
            stack.append(True)
            out.append("\\left(")
            i += 6
            continue
        ch = span[i]
        if ch == "(":
            stack.append(False)
        elif ch == ")" and stack:
            out.append("\\right)" if stack.pop() else ")")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_LABELS = [
    "Problem {n}.",
    "{n}.",
    "{n}. ({p} points)",
    "Question {n}:",
    "## Problem {n}",
    "Exercise {n}.{m}",
    "({y} Regional Olympiad)",
    "Task {n} ({p} pts).",
]


def labels(text: str, rng: random.Random) -> str:
    label = rng.choice(_LABELS).format(n=rng.randint(1, 25), m=rng.randint(1, 9), p=rng.randint(2, 12),
                                       y=rng.randint(1995, 2023))
    return label + rng.choice([" ", "\n", "\n\n"]) + text


_INSTRUCTIONS_AFTER = [
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "Return your final answer as \\boxed{answer}.",
    "Think step by step. Write the final answer in the form \\boxed{...}.",
    "Show your work and give the final answer at the end.",
]
_INSTRUCTIONS_BEFORE = [
    "Solve the following math problem. Make sure to put the answer (and only answer) inside \\boxed{}.\n\n",
    "Answer the following question.\n",
]


def instructions(text: str, rng: random.Random) -> str:
    if rng.random() < 0.7:
        return text + rng.choice(["\n\n", " ", "\n"]) + rng.choice(_INSTRUCTIONS_AFTER)
    return rng.choice(_INSTRUCTIONS_BEFORE) + text


# -------------------------------------------------------------------------------------------- retypeset

_UNICODE = [
    (r"\\leq?(?![a-z])", "≤"),
    (r"\\geq?(?![a-z])", "≥"),
    (r"\\neq?(?![a-z])", "≠"),
    (r"\\ldots|\\cdots|\\dots", "…"),
    (r"\\cdot", "·"),
    (r"\\times", "×"),
    (r"\\div", "÷"),
    (r"\\pm", "±"),
    (r"\\infty", "∞"),
    (r"\\angle", "∠"),
    (r"\\triangle", "△"),
    (r"\\circ", "°"),
    (r"\\pi", "π"),
    (r"\\theta", "θ"),
    (r"\\alpha", "α"),
    (r"\\beta", "β"),
    (r"\\gamma", "γ"),
    (r"\\omega", "ω"),
    (r"\\in(?![a-z])", "∈"),
    (r"\\cup", "∪"),
    (r"\\cap", "∩"),
    (r"\\sqrt\{([^{}]+)\}", r"√(\1)"),
    (r"\\sqrt(\d)", r"√\1"),
    (r"\\d?frac\{([^{}]+)\}\{([^{}]+)\}", r"(\1)/(\2)"),
]
_SUPERSCRIPTS = str.maketrans("0123456789+-n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ")
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def retypeset(text: str, rng: random.Random) -> str:
    def plain(span: str) -> str:
        inner = re.sub(r"^\$\$|\$\$$|^\$|\$$|^\\[(\[]|\\[)\]]$", "", span)
        for pattern, replacement in _UNICODE:
            inner = re.sub(pattern, replacement, inner)
        inner = re.sub(r"\^(?:\{([0-9]{1,3}|n)\}|([0-9n]))", lambda m: (m.group(1) or m.group(2)).translate(_SUPERSCRIPTS), inner)
        inner = re.sub(r"_(?:\{([0-9]{1,2})\}|([0-9]))", lambda m: (m.group(1) or m.group(2)).translate(_SUBSCRIPTS), inner)
        inner = re.sub(r"\(([A-Za-z0-9])\)/\(([A-Za-z0-9])\)", r"\1/\2", inner)
        inner = inner.replace("\\left", "").replace("\\right", "").replace("\\,", " ").replace("\\ ", " ")
        inner = re.sub(r"\\(?:text|mathrm|textbf|mathbf)\{([^{}]*)\}", r"\1", inner)
        return inner

    return _MATH_SPAN.sub(lambda m: plain(m.group()), text)


# ---------------------------------------------------------------------------------------------- edited


def partial_words(text: str, rng: random.Random) -> str:
    words = text.split()
    keep = max(1, round(len(words) * rng.uniform(0.70, 0.80)))
    return " ".join(words[:keep])


def partial_sentence(text: str, rng: random.Random) -> str:
    parts = sentences(text)
    if len(parts) < 2:
        return partial_words(text, rng)
    return " ".join(parts[:-1])


_LEADING_LABEL = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:(?:Problem|Example|Task|Exercise|Question|Zadatak)\b[^.(\n]{0,12}[.:]?|\d+(?:\.\d+)*[A-Z]?\.|"
    r"[IVX]+-\d+\.?|[A-Z][a-z]+,)(?:\s*\([^()\n]{0,80}\))?\s*"
)


def reordered(text: str, rng: random.Random) -> str:
    label = _LEADING_LABEL.match(text)
    if label and label.end() < len(text):  # a contest label is not a sentence: it stays in front
        return text[: label.end()] + reordered(text[label.end() :], rng)
    parts = sentences(text)
    if len(parts) < 2:
        # one sentence: move a leading clause ("If ..., then ...", "Given ..., find ...") to the end
        masked = _MATH_SPAN.sub(lambda m: "\x00" * len(m.group()), text)
        comma = masked.find(", ")  # a comma of the prose, never one inside a formula
        if 0 < comma < len(text) - 2:
            head, tail = text[:comma], text[comma + 2 :]
            return tail[0].upper() + tail[1:].rstrip(".?") + ", " + head[0].lower() + head[1:] + "."
        return text
    order = list(range(len(parts)))
    while order == sorted(order):
        rng.shuffle(order)
    return " ".join(parts[i] for i in order)


_SYNONYMS = {
    "find": ["compute", "determine", "work out"],
    "compute": ["find", "evaluate"],
    "determine": ["find", "establish"],
    "what": ["which"],
    "number": ["amount", "quantity"],
    "integer": ["whole number"],
    "integers": ["whole numbers"],
    "largest": ["biggest", "maximum"],
    "smallest": ["least", "minimum"],
    "greatest": ["largest"],
    "least": ["smallest"],
    "positive": ["strictly positive"],
    "real": ["real-valued"],
    "triangle": ["triangle figure"],
    "circle": ["round circle"],
    "point": ["location"],
    "points": ["locations"],
    "line": ["straight line"],
    "side": ["edge"],
    "sides": ["edges"],
    "length": ["size"],
    "area": ["surface area"],
    "value": ["numerical value"],
    "sum": ["total"],
    "product": ["multiplied total"],
    "probability": ["chance", "likelihood"],
    "randomly": ["at random"],
    "chosen": ["selected", "picked"],
    "given": ["provided"],
    "such": ["so"],
    "each": ["every"],
    "suppose": ["assume"],
    "let": ["take"],
    "if": ["when"],
    "many": ["numerous"],
    "ways": ["arrangements"],
    "distinct": ["different"],
    "different": ["distinct"],
    "equal": ["equivalent"],
    "consecutive": ["successive"],
    "digits": ["numerals"],
    "written": ["expressed"],
    "expressed": ["written"],
    "form": ["shape"],
    "minutes": ["min"],
    "hours": ["hrs"],
    "students": ["pupils"],
    "people": ["persons"],
    "makes": ["creates"],
    "has": ["possesses"],
    "have": ["possess"],
    "also": ["additionally"],
    "then": ["afterwards"],
    "inside": ["within"],
    "on": ["upon"],
    "between": ["among"],
}
_WORD = re.compile(r"[A-Za-z]+")


def paraphrase(text: str, rng: random.Random, rate: float = 1 / 7) -> str:
    """About `rate` of the replaceable words (those with a synonym here) across the prose are replaced."""

    def edit(prose: str) -> str:
        def swap(match: re.Match[str]) -> str:
            word = match.group()
            options = _SYNONYMS.get(word.lower())
            if not options or rng.random() > rate * 2.2:
                return word
            new = rng.choice(options)
            return new.capitalize() if word[0].isupper() else new

        return _WORD.sub(swap, prose)

    out = _outside_math(text, edit)
    if out == text:  # nothing was replaceable: one filler word instead, so every copy is edited
        words = text.split(" ")
        words.insert(rng.randrange(1, len(words) + 1) if len(words) > 1 else 1, "indeed")
        out = " ".join(words)
    return out


_BEFORE = [
    "Hi all, I'm stuck on this one from a practice packet:\n\n",
    "Part (a): Show that the sum of two odd numbers is even.\n\nPart (b): ",
    "The following appeared on a qualifying round.\n",
    "Try this before looking at the hint.\n\n",
]
_AFTER = [
    "\n\nHint: consider small cases first.",
    "\n\nAny help appreciated, thanks!",
    "\n\n(Answer must be simplified.)",
    "",
]


def embedded(text: str, rng: random.Random) -> str:
    return rng.choice(_BEFORE) + text + rng.choice(_AFTER)


_CHOICES = re.compile(
    r"(\s*(?:\$?\\(?:textbf|mathrm|text)\{\s*\(A\)\s*\}|\(A\)|A[.)]\s).*)$", re.DOTALL
)


def choices(text: str, rng: random.Random) -> str:
    found = _CHOICES.search(text)
    if found and found.start() > len(text) // 3:
        return text[: found.start()].rstrip()
    values = rng.sample(range(2, 200), 5)
    options = "  ".join(f"({letter}) {value}" for letter, value in zip("ABCDE", values))
    return text + "\n\n" + options


def combined(text: str, rng: random.Random) -> str:
    formatted = delimiters(layout(labels(text, rng), rng), rng)
    return partial_words(formatted, rng) if rng.random() < 0.5 else paraphrase(formatted, rng)


# ------------------------------------------------------------------------------------------- template


def numbers_changed(text: str, rng: random.Random) -> str:
    """Every number replaced, the same number by the same new one, with as many digits, never itself."""
    mapping: dict[str, str] = {}

    def new(match: re.Match[str]) -> str:
        old = match.group()
        if old not in mapping:
            digits = len(old)
            low = 10 ** (digits - 1) if digits > 1 else 0
            taken = set(mapping.values())
            free = 10**digits - low - len(taken) > 1  # two old numbers may share a new one when none is left
            choice = old
            while choice == old or (free and choice in taken):
                choice = str(rng.randint(low, 10**digits - 1))
            mapping[old] = choice
        return mapping[old]

    return _NUMBER.sub(new, text)


def substitution(text: str, rng: random.Random) -> str:
    """One to three words of the prose replaced by another word (not always a synonym: a typo fix, a word
    choice), the kind of edit two copies of one problem show."""
    masked = _MATH_SPAN.sub(lambda m: "\x00" * len(m.group()), text)
    spans = [m.span() for m in re.finditer(r"[A-Za-z]{3,}", masked)]
    count = min(len(spans), rng.randint(1, 3))
    out = text
    for start, end in sorted(rng.sample(spans, count), reverse=True):
        word = out[start:end]
        options = _SYNONYMS.get(word.lower(), ["such", "given", "exactly", "all", "each"])
        out = out[:start] + rng.choice(options) + out[end:]
    return out


GENERATORS: dict[str, Callable[[str, random.Random], str]] = {
    "verbatim": lambda text, rng: text,
    "layout": layout,
    "case": case,
    "delimiters": delimiters,
    "latex_style": latex_style,
    "labels": labels,
    "instructions": instructions,
    "retypeset": retypeset,
    "partial_words": partial_words,
    "partial_sentence": partial_sentence,
    "reordered": reordered,
    "paraphrase": paraphrase,
    "embedded": embedded,
    "choices": choices,
    "combined": combined,
    "numbers_changed": numbers_changed,
    "substitution": substitution,
}


def applies(family: str, text: str) -> bool:
    """Whether a family can change this problem at all (no numbers: no template copy; one sentence and no
    clause to move: no reordering)."""
    if family == "numbers_changed":
        return _NUMBER.search(text) is not None
    if family == "reordered":
        return reordered(text, random.Random(0)) != text
    return True


def copy(family: str, text: str, rng: random.Random) -> str:
    return GENERATORS[family](text, rng)
