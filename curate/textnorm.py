"""Canonical problem text, shared by deduplication and decontamination.

Two copies of a problem that differ only in how they were typed (Unicode forms, case, spacing, LaTeX
delimiters and spacing macros, a contest's numbering, an evaluation prompt around it) must normalise to the
same string, or exact dedup misses them and decontamination has to guess. `normalize` applies the rules below
in order and returns the problem as a sequence of tokens joined by single spaces, so that spacing inside
formulas stops mattering (`AD=4` and `AD = 4` both become `ad = 4`).

Rules, each with an example (input -> effect):

1. Unicode NFKC, then a few math symbols to their LaTeX names: `ｘ²` -> `x2`, `−3` -> `-3`, `a≤b` -> `a \\le b`,
   `90°` -> `90^\\circ`.
2. Markdown images, figure code and control characters are removed: `![](https://cdn.mathpix.com/...)`,
   `[asy]draw((0,0)--(1,1));[/asy]`, `\\begin{tikzpicture}...\\end{tikzpicture}` -> nothing.
3. Leading numbering and labels, repeatedly: `3. (6 points) A company...`, `9.6. Find...`,
   `## Task B-1.3.`, `Problem 4.`, `Example 2`, `Four, (50 points)`, `1B.`, `(9th Canadian Mathematical
   Competition)` -> removed.
4. Evaluation prompts: a trailing instruction sentence that asks for step-by-step reasoning, a final answer or
   a `\\boxed{}` answer (`Please reason step by step, and put your final answer within \\boxed{}.`), and a
   leading one (`Solve the following math problem step by step...` up to its paragraph break) -> removed.
5. LaTeX delimiters `$`, `$$`, `\\(`, `\\)`, `\\[`, `\\]` -> space: `$\\frac{1}{2}$` and `\\(\\frac{1}{2}\\)` agree.
6. LaTeX spacing and sizing: `\\,` `\\;` `\\:` `\\!` `\\ ` `~` `\\quad` `\\qquad` -> space; `\\left(` -> `(`,
   `\\bigl[` -> `[`; `\\displaystyle` -> nothing.
7. LaTeX synonyms: `\\dfrac`/`\\tfrac`/`\\cfrac` -> `\\frac`, `\\dbinom` -> `\\binom`, `\\leq`/`\\leqslant` -> `\\le`,
   `\\geq` -> `\\ge`, `\\neq` -> `\\ne`, `\\ldots`/`\\cdots` -> `\\dots`; `\\frac12` -> `\\frac{1}{2}`;
   text wrappers `\\text{...}`, `\\mathrm{...}`, `\\textbf{...}` keep only their content.
8. Braces are dropped (`x^{2}` = `x^2`), thousands separators joined (`1{,}000` = `1,000` = `1000`).
9. Case folding, then tokens: LaTeX commands (`\\frac`), runs of letters, runs of digits (`2x` -> `2 x`), and
   single symbols (`=`, `(`, `_`), joined by single spaces: `Find $m+n$.` -> `find m + n .`
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_CONTROLS = {code: " " for code in [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)]}
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_SYMBOLS = str.maketrans(
    {
        **_CONTROLS,
        "\u2212": "-",  # minus sign
        "\u2013": "-",
        "\u2014": "-",
        "\u2264": " \\le ",
        "\u2265": " \\ge ",
        "\u2260": " \\ne ",
        "\u00d7": " \\times ",
        "\u00b7": " \\cdot ",
        "\u22c5": " \\cdot ",
        "\u00f7": " \\div ",
        "\u00b0": "^\\circ ",
        "\u03c0": " \\pi ",
        "\u221e": " \\infty ",
        "\u221a": " \\sqrt ",
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u3001": ",",
    }
)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_FIGURE = re.compile(
    r"\[asy\].*?(?:\[/asy\]|$)|<asy>.*?(?:</asy>|$)|\\begin\{(tikzpicture|asy)\}.*?(?:\\end\{\1\}|$)",
    re.DOTALL | re.IGNORECASE,
)

# Leading labels: one anchored alternation, matched in a loop ("3. (6 points) ..." carries two).
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty"
)
_LABEL_WORDS = (
    r"problem\s+statement|problems?|tasks?|examples?|exercises?|questions?|zadatak|aufgabe|задача|problème|"
    r"problema|ejercicio|übung"
)
_SOURCE_WORDS = (
    r"competition|olympiad|olympic|contest|cup|mathematical|mathematics|math|exam|examination|amc|aime|imo|"
    r"usamo|test|league|tournament|round|grade|class|question from|problem from|selection"
)
_LEADING = re.compile(
    "|".join(
        [
            r"#{1,6}",  # markdown heading marks
            r"\*\*(?=\S)",
            # "Problem 4.", "Task B-1.3.", "Example 2", "Problem Statement", "Question 3:"
            rf"(?i:(?:{_LABEL_WORDS})\b\.?\s*(?:[a-z]{{1,2}}\s*-\s*)?(?:[ivx]+\b|\d+(?:[.\-]\d+)*[a-z]?\b)?"
            r"\s*[.:)]?\**(?=\s|$|\())",
            r"\d+(?:\.\d+)*\.(?=\s|$)",  # "3.", "9.6.", "11.005."
            r"\d+\.\d+(?=\s+[A-Z$\\(])",  # "8.59 For each..."
            r"\d+[A-Za-z]?\)(?=\s)",  # "2)", "3b)"
            r"\d+[A-Z]\.(?=\s)",  # "1B."
            r"\(\d+[a-z]?\)(?=\s)",  # "(3)"
            r"[IVX]+\s*-\s*\d+\.?(?=\s)",  # "V-2", "I-10."
            rf"(?i:(?:{_NUMBER_WORDS})\s*[,.](?=\s))",  # "Four, (50 points)"
            r"[一二三四五六七八九十]+\s*[,.、]",
            # "(6 points)", "[8 points]", "(1p)"
            r"(?i:[(\[]\s*\d+(?:\.\d+)?\s*(?:points?|pts?\.?|marks?|p|分|баллов|bodova|punkte|puntos)\s*[)\]])",
            # "(9th Canadian Mathematical Competition)", "(2004 AMC 12)"
            rf"(?i:\((?=[^()]{{0,160}}\))[^()]*\b(?:{_SOURCE_WORDS})\b[^()]*\))",
        ]
    )
)

# Evaluation prompts around a problem. The regexes only run when a cheap keyword test says they may apply.
# Evaluation prompts around a problem. Each regex runs only where a cheap keyword test says it may apply.
_INSTRUCTION_HINTS = ("step by step", "step-by-step", "boxed", "final answer", "answer:")
_PROMPT_OPENINGS = (
    "solve the following",
    "please solve",
    "answer the following",
    "you will be given a problem",
)
_INSTRUCTION = (
    r"(?:please|let'?s|let us|you (?:should|must|need to|are to)|now|think|reason|solve|put|return|output|"
    r"present|write|give|provide|make sure|remember|show|answer)\b[^\n]*?"
    r"(?:step[- ]by[- ]step|\\boxed|final answer|answer\s*:)[^\n]*"
)
_TRAILING = re.compile(rf"(?:^|(?<=[.!?:)])\s+|\s*\n\s*){_INSTRUCTION}$", re.IGNORECASE)
# Machine-translation leftovers common in OpenR1 problems.
_TRANSLATION_NOTE = re.compile(
    r"(?:\s*\n\s*-{3,})?\s*(?:translate\s+the\s+above\s+text\s+into\s+english|the\s+translation\s+preserves)[\s\S]*$",
    re.IGNORECASE,
)
# "Solve the following math problem..." is a prompt; "Solve the following equation for $x$:" is the problem.
_LEADING_PROMPT = re.compile(
    r"^(?:(?:please )?solve the following (?:math |mathematics |competition )?problem|answer the following "
    r"question|you will be given a problem)[^\n]*(?:\n\s*\n|\n|:\s)",
    re.IGNORECASE,
)
_LEADING_INSTRUCTION = re.compile(rf"^{_INSTRUCTION}\n\s*\n", re.IGNORECASE)

# LaTeX: every command in one pass, through the tables below.
# Keys are lower case: commands are looked up case-insensitively, as the text is case-folded anyway.
_SIZING = frozenset(
    ["left", "right", "middle"]
    + [f"{size}{side}" for size in ("big", "bigg") for side in ("", "l", "r", "m")]
)
_DROPPED = frozenset(
    [
        "displaystyle",
        "textstyle",
        "scriptstyle",
        "limits",
        "nolimits",
        "quad",
        "qquad",
        "enspace",
        "thinspace",
        "medspace",
        "thickspace",
        "hfill",
        "text",
        "textrm",
        "textbf",
        "textit",
        "textnormal",
        "mathrm",
        "mathbf",
        "mathit",
        "mathsf",
        "mathtt",
        "mbox",
        "emph",
        "boldsymbol",
        "bm",
        "operatorname",
    ]
)
_RENAMED = {
    **dict.fromkeys(["dfrac", "tfrac", "cfrac"], "\\frac"),
    **dict.fromkeys(["dbinom", "tbinom"], "\\binom"),
    **dict.fromkeys(["leq", "leqslant"], "\\le"),
    **dict.fromkeys(["geq", "geqslant"], "\\ge"),
    "neq": "\\ne",
    **dict.fromkeys(["ldots", "cdots", "dotsb", "dotsc", "dotsm"], "\\dots"),
}
_ESCAPES = {
    "(": " ",
    ")": " ",
    "[": " ",
    "]": " ",
    "$": " ",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": " ",
    " ": " ",
    "\n": " ",
    "{": " ",
    "}": " ",
    "%": "%",
    "&": "&",
    "#": "#",
    "_": "_",
}
_COMMAND = re.compile(r"\\(?:(\\)(?:\[[^\]]{0,12}\])?|([a-zA-Z]+)\*?(\s*\.)?|(.))", re.DOTALL)
_SPACE_COMMAND = re.compile(r"\\[hv]space\*?\s*\{[^}]*\}")
_SHORT_FRACTION = re.compile(r"\\([dtc]?frac|[dt]?binom)\s*(\d)\s*(\d)", re.IGNORECASE)
# Thousands separators: the literal comes first so the regex engine scans for it instead of testing every
# position.
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}(?!\d))")
_THOUSANDS_BRACED = re.compile(r"\{,\}(?<=\d\{,\})(?=\d{3}(?!\d))")

# A LaTeX command or a run of letters, a run of digits, or any other single non-space character.
_TOKEN = re.compile(r"\\?[^\W\d_]+|\d+|\S")
_ASCII_TOKEN = re.compile(r"\\?[a-z]+|[0-9]+|[^\sa-z0-9]")  # the same on ASCII text, faster


def _command(match: re.Match[str]) -> str:
    linebreak, name, dot, char = match.groups()
    if linebreak:
        return " "
    if name is not None:
        key = name.lower()
        if key in _SIZING:
            return " "  # `\left.` is an invisible delimiter: the dot goes too
        if key in _DROPPED:
            return " " + (dot or "")
        return _RENAMED.get(key, f"\\{name}") + " " + (dot or "")
    return _ESCAPES.get(char, match.group(0))


def _markup_to_spaces(text: str) -> str:
    return text.replace("{", " ").replace("}", " ").replace("$", " ").replace("~", " ")


def _strip_labels(text: str) -> str:
    for _ in range(8):
        match = _LEADING.match(text)
        if match is None or not match.group(0):
            break
        text = text[match.end() :].lstrip()
    return text


def _strip_prompts(text: str) -> str:
    lowered = text.lower()
    instruction = any(hint in lowered for hint in _INSTRUCTION_HINTS)
    translation = "translat" in lowered
    opening = lowered.startswith(_PROMPT_OPENINGS)
    if not (instruction or translation or opening):
        return text
    for _ in range(4):
        before = text
        if instruction:
            text = _TRAILING.sub("", text).rstrip()
            text = _LEADING_INSTRUCTION.sub("", text, count=1).lstrip()
        if translation:
            text = _TRANSLATION_NOTE.sub("", text).rstrip()
        if opening:
            text = _LEADING_PROMPT.sub("", text, count=1).lstrip()
        if text == before:
            break
    return text


def normalize(text: str) -> str:
    """The canonical form of a problem: see the module docstring for every rule, with examples."""
    if text.isascii():
        text = _ASCII_CONTROL.sub(" ", text)
    else:
        text = unicodedata.normalize("NFKC", text).translate(_SYMBOLS)
    if "![" in text:
        text = _IMAGE.sub(" ", text)
    if "asy" in text or "ASY" in text or "tikzpicture" in text or "TIKZPICTURE" in text:
        text = _FIGURE.sub(" ", text)
    text = text.strip()
    stripped = _strip_prompts(_strip_labels(text))
    if stripped:  # a text that is nothing but a label keeps it, rather than colliding with every such text
        text = stripped
    text = _THOUSANDS.sub("", text)
    if "{,}" in text:
        text = _THOUSANDS_BRACED.sub("", text)
    if "\\" in text:
        if "space" in text:
            text = _SPACE_COMMAND.sub(" ", text)
        text = _SHORT_FRACTION.sub(r"\\\1{\2}{\3}", text)
        text = _COMMAND.sub(_command, text)
    text = _markup_to_spaces(text).casefold()
    return " ".join((_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text))


def normalize_many(texts: Iterable[str | None]) -> list[str]:
    """`normalize` over a column; a missing text normalises to the empty string."""
    return [normalize(t) if t else "" for t in texts]
