"""Canonical problem text, shared by deduplication and decontamination.

Two copies of a problem that differ only in how they were typed (Unicode forms, case, spacing, LaTeX
delimiters and spacing macros, a contest's numbering, an evaluation prompt around it) must normalise to the
same string, or exact dedup misses them and decontamination has to guess. `normalize` applies the rules below
in order and returns the problem as a sequence of tokens joined by single spaces, so that spacing inside
formulas stops mattering (`AD=4` and `AD = 4` both become `ad = 4`).

Rules, each with an example (input -> effect):

1. Math typed in Unicode to its LaTeX form, then Unicode NFKC: superscripts and subscripts (`x²` -> `x^2`,
   `a₁₀` -> `a_10`), Greek letters (`α` -> `\\alpha`), operators and relations (`−3` -> `-3`, `a≤b` ->
   `a \\le b`, `2×3`, `x∈A`, `∠ABC`, `△ABC`, `≈`, `±`), `90°` -> `90^\\circ`, `½` -> `1/2`; so a problem typed
   in Unicode and the same problem in LaTeX agree.
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
   `\\geq` -> `\\ge`, `\\neq` -> `\\ne`, `\\ldots`/`\\cdots` -> `\\dots`; fractions as a slash between
   groups, as plain text writes them: `\\frac12` and `\\frac{1}{2}` -> `(1)/(2)`; text wrappers `\\text{...}`, `\\mathrm{...}`, `\\textbf{...}` keep only their content.
8. A subscript or superscript without braces takes one character, as LaTeX reads it (`\\log_264` =
   `\\log_{2}64`); then braces are dropped (`x^{2}` = `x^2`), thousands separators joined (`1{,}000` =
   `1,000` = `1000`).
9. Case folding, then tokens: LaTeX commands (`\\frac`), runs of letters, runs of digits (`2x` -> `2 x`), and
   single symbols (`=`, `(`, `_`), joined by single spaces: `Find $m+n$.` -> `find m + n .`
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

_CONTROLS = {code: " " for code in [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)]}
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "ρ": "rho",
    "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip
_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ]+")
_SUBSCRIPT = re.compile("[₀₁₂₃₄₅₆₇₈₉₊₋]+")
_SCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ₀₁₂₃₄₅₆₇₈₉₊₋", "0123456789+-n0123456789+-")
_SYMBOLS = str.maketrans(
    {
        **_CONTROLS,
        **{letter: f" \\{name} " for letter, name in _GREEK.items()},
        "\u2044": "/",  # fraction slash (NFKC writes `½` as `1⁄2`)
        "\u2217": "*",
        "\u00b1": " \\pm ",
        "\u2213": " \\mp ",
        "\u2248": " \\approx ",
        "\u2261": " \\equiv ",
        "\u2245": " \\cong ",
        "\u223c": " \\sim ",
        "\u2208": " \\in ",
        "\u2209": " \\notin ",
        "\u2282": " \\subset ",
        "\u2286": " \\subseteq ",
        "\u222a": " \\cup ",
        "\u2229": " \\cap ",
        "\u2205": " \\emptyset ",
        "\u2220": " \\angle ",
        "\u25b3": " \\triangle ",
        "\u2206": " \\triangle ",
        "\u22a5": " \\perp ",
        "\u2225": " \\parallel ",
        "\u2192": " \\to ",
        "\u21d2": " \\rightarrow ",
        "\u2211": " \\sum ",
        "\u220f": " \\prod ",
        "\u222b": " \\int ",
        "\u2026": " \\dots ",
        "\u230a": " \\lfloor ",
        "\u230b": " \\rfloor ",
        "\u2308": " \\lceil ",
        "\u2309": " \\rceil ",
        "\u2218": "^\\circ ",
        "\u221b": " \\sqrt[3] ",
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
            r"[.:,;]+(?=\s)",  # punctuation a removed label left behind ("Task 5 (4 pts). ...")
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
# A trailing instruction follows the end of a sentence, a line break, or (appended to a problem that ends in
# a blank, "... the value of $x$ is") a space before its capital letter.
_TRAILING = re.compile(
    rf"(?:^|(?<=[.!?:)])\s+|\s*\n\s*|\s+(?=(?-i:[A-Z]))){_INSTRUCTION}$", re.IGNORECASE
)
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
# A fraction whose parts hold no brace, or braces one level deep (`\frac{1}{x^{2} - 1}`); deeper nesting is
# rewritten from the inside out, one level per pass.
_FRACTION = re.compile(
    r"\\[dtc]?frac\s*\{((?:[^{}]|\{[^{}]*\})*)\}\s*\{((?:[^{}]|\{[^{}]*\})*)\}", re.IGNORECASE
)
_FRACTION_DEPTH = 4  # nested fractions rewritten, innermost first
# Thousands separators: the literal comes first so the regex engine scans for it instead of testing every
# position.
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}(?!\d))")
_SCRIPT_DIGIT = re.compile(r"([_^])(\d)(?=\d)")
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
        text = _SUPERSCRIPT.sub(lambda m: "^{" + m.group().translate(_SCRIPT_DIGITS) + "}", text)
        text = _SUBSCRIPT.sub(lambda m: "_{" + m.group().translate(_SCRIPT_DIGITS) + "}", text)
        text = unicodedata.normalize("NFKC", text.translate(_SYMBOLS)).translate(_SYMBOLS)
    if "![" in text:
        text = _IMAGE.sub(" ", text)
    if "asy" in text or "ASY" in text or "tikzpicture" in text or "TIKZPICTURE" in text:
        text = _FIGURE.sub(" ", text)
    text = text.strip()
    stripped = _strip_labels(_strip_prompts(_strip_labels(text)))  # a prompt may sit before the label
    if stripped:  # a text that is nothing but a label keeps it, rather than colliding with every such text
        text = stripped
    text = _THOUSANDS.sub("", text)
    if "{,}" in text:
        text = _THOUSANDS_BRACED.sub("", text)
    if "_" in text or "^" in text:
        text = _SCRIPT_DIGIT.sub(r"\1{\2} ", text)
    if "\\" in text:
        if "space" in text:
            text = _SPACE_COMMAND.sub(" ", text)
        text = _SHORT_FRACTION.sub(r"\\\1{\2}{\3}", text)
        for _ in range(_FRACTION_DEPTH):
            if "frac" not in text.lower():
                break
            text = _FRACTION.sub(r"(\1)/(\2)", text)
        text = _COMMAND.sub(_command, text)
    text = _markup_to_spaces(text).casefold()
    return " ".join((_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text))


def normalize_many(texts: Iterable[str | None]) -> list[str]:
    """`normalize` over a column; a missing text normalises to the empty string."""
    return [normalize(t) if t else "" for t in texts]


_DIGITS = re.compile(r"\d+")
_NUMBER_RUN = re.compile(r"\d+(?: \d+)*")


def mask_numbers(normalized: str) -> str:
    """A normalised text with every number replaced by `#`: the wording a problem shares with its copies that
    change the numbers (`find the remainder when 2 ^ 100 is divided by 7` -> `... # ^ # ... by #`). Digit runs
    are tokens of their own after `normalize`, so this never splits a word; numbers next to each other are one
    `#`, so `x^{11}` and `x^11` (read as `x^1 1`) have the same wording."""
    return _NUMBER_RUN.sub("#", normalized)


def numbers(normalized: str) -> list[str]:
    """The numbers of a normalised text, in order (`2.5 kg` gives `2` and `5`: the decimal point is a token)."""
    return _DIGITS.findall(normalized)


_GROUPING = re.compile(r"(?<!\S)[()](?!\S) ?")


def without_grouping(normalized: str) -> str:
    """A normalised text without its parenthesis tokens, for similarity (never for equality): `(1)/(2)`,
    `1/2`, `\\sqrt{242}` and `√(242)` share their grams once grouping is gone."""
    return _GROUPING.sub("", normalized).strip()


def number_places(view: str) -> dict[str, frozenset[str]]:
    """Where a problem's numbers stand: the set of numbers found in each context of two tokens before and one
    after (numbers in the context masked). `ab = 5 , bc = 8 .` gives `{"ab = _ ,": {"5"}, "bc = _ .": {"8"}}`."""
    plain = view.split(" ")
    tokens = ["#" if t.isdigit() else t for t in plain]
    places: dict[str, set[str]] = defaultdict(set)
    for k, token in enumerate(plain):
        if token.isdigit():
            places[" ".join([*tokens[max(0, k - 2) : k], "_", *tokens[k + 1 : k + 2]])].add(token)
    return {context: frozenset(found) for context, found in places.items()}


def same_places(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> bool:
    """Whether two problems put their numbers in the same places: in every context both have, the numbers of
    one are among the other's (a copy cut short holds some of them). `radii 8 and 2` / `radii 2 and 8` and
    `x^5 + sqrt(x^2+8)` / `x^8 + sqrt(x^2+5)` do not; a context only one of them has (a word next to a number
    was edited) says nothing."""
    return all(a[c] <= b[c] or b[c] <= a[c] for c in a.keys() & b.keys())
