"""`language_mix`: drop generations whose reasoning drifts into another writing system.

R1-style models sometimes switch language mid-thought, most often into Chinese ("所以答案是…"), sometimes
into Russian or Korean; a model fine-tuned on such traces learns to switch too. Math traces are full of
non-Latin letters that are not language, though: Greek letters as variables (θ, αβ, Δ), Hebrew aleph, CJK
text inside LaTeX units. So only letters outside math count, and short Greek words count as symbols.

How a generation is read (the whole generation, reasoning and answer):
1. Ignored regions are blanked: LaTeX math (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`, `\\begin{…}…\\end{…}`),
   LaTeX commands (`\\alpha`), code blocks and inline code.
2. Words are maximal runs of letters of one Unicode script. Latin letters are always allowed (English, but
   also variable names and function names: the filter sees scripts, not which Latin-script language is
   written). Every other script is foreign unless listed in `allowed_scripts` or, with
   `allow_problem_scripts`, written by the problem itself (2 or more counted words outside its math).
3. Counted foreign words: in scripts written without spaces (Han, Hiragana, Katakana, Bopomofo, Thai, Lao,
   Khmer, Myanmar, Yi) every character is a word; in Greek only words of 4 or more letters (shorter ones are
   variables and products such as `αβγ`); in Hangul every word; in other scripts words of 2 or more letters
   (one letter is a symbol).
4. A run is a stretch of counted foreign words with no Latin word of 2 or more letters between them
   (punctuation, digits, symbols and one-letter variables do not break a run: "设x为正数" is one run).

Drops: `script_switch` when a run has more than `max_run` words, `script_share` when counted foreign words
are more than `max_share` of all words (Latin words of 2+ letters plus counted foreign words) and more than
`max_run` in all (so two names in a short trace are not a share). The detail
names the script, the run's length and position and quotes it. Text that is pure ASCII, or has no letter
outside Latin/Common/Inherited, is kept without further work, which is nearly every generation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import regex
from pydantic import Field, field_validator

from curate.filters import KEEP, Drop, FilterParams, Trace, TraceFilter, Verdict, register

# Scripts a run is named by; a letter in none of them is "Other" (still foreign, never allowed by name).
SCRIPTS = (
    "Han", "Hiragana", "Katakana", "Bopomofo", "Hangul", "Cyrillic", "Greek", "Arabic", "Hebrew",
    "Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam",
    "Sinhala", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan", "Georgian", "Armenian", "Ethiopic",
    "Mongolian", "Syriac", "Thaana", "Yi", "Coptic",
)  # fmt: skip
UNSPACED = frozenset({"Han", "Hiragana", "Katakana", "Bopomofo", "Thai", "Lao", "Khmer", "Myanmar", "Yi"})
# Fewest letters a word needs to count: Greek words up to 3 letters are variables (θ, αβγ); one letter of
# an alphabet is a symbol (א, Д); a Hangul letter is a syllable block, a word on its own (이, 한).
MIN_LETTERS = {"Greek": 4, "Hangul": 1}
MIN_LETTERS_OTHER = 2
PROBLEM_MIN_WORDS = 2
_EXCERPT = 60

# Letters (and their marks) of any script but Latin; Common and Inherited hold digits, symbols, math letters.
_FOREIGN = regex.compile(r"[[\p{L}\p{M}]--[\p{Latin}\p{Common}\p{Inherited}]]+", regex.V1)
_LATIN_WORD = regex.compile(r"\p{Latin}{2,}")
_IGNORED = regex.compile(
    r"```.*?```"
    r"|`[^`\n]*`"
    r"|\$\$.{0,20000}?\$\$"
    r"|\$(?:[^$\n]|\n(?!\n)){1,2000}?\$"
    r"|\\\(.{0,5000}?\\\)"
    r"|\\\[.{0,20000}?\\\]"
    r"|\\begin\{([A-Za-z*]+)\}.*?\\end\{\1\}"
    r"|\\[A-Za-z]+",
    regex.S,
)
_SCRIPT_PATTERNS = {name: regex.compile(rf"\p{{Script={name}}}") for name in SCRIPTS}


@cache
def script_of(char: str) -> str:
    for name, pattern in _SCRIPT_PATTERNS.items():
        if pattern.match(char):
            return name
    return "Other"


class LanguageMixParams(FilterParams):
    max_run: int = Field(3, ge=0, description="most foreign words in a row (CJK: characters) that are kept")
    max_share: float = Field(
        0.005, ge=0.0, le=1.0, description="largest share of foreign words among all words that is kept"
    )
    allowed_scripts: list[str] = Field(
        default_factory=list,
        description="Unicode scripts allowed besides Latin, e.g. [Han] for a Chinese set",
    )
    allow_problem_scripts: bool = Field(
        True,
        description="allow the scripts the problem itself is written in (a Chinese problem, Chinese reasoning)",
    )

    @field_validator("allowed_scripts")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in SCRIPTS and name != "Latin"]
        if unknown:
            raise ValueError(f"unknown script {unknown[0]!r}; known: {', '.join(SCRIPTS)}")
        return value


@dataclass(frozen=True)
class Word:
    script: str
    start: int
    end: int
    count: int  # counted words: 1, or its characters for unspaced scripts


@dataclass(frozen=True)
class Mix:
    """The foreign text of one generation."""

    words: int  # all counted words, Latin included
    foreign: int
    scripts: dict[str, int]
    run: int = 0
    run_script: str = ""
    run_start: int = 0
    run_end: int = 0

    @property
    def share(self) -> float:
        return self.foreign / self.words if self.words else 0.0


def blank_ignored(text: str) -> str:
    """`text` with math, LaTeX commands and code replaced by spaces (positions unchanged)."""
    return _IGNORED.sub(lambda m: " " * len(m.group()), text)


def foreign_words(text: str, allowed: frozenset[str]) -> list[Word]:
    """Counted words of scripts not in `allowed`, in order, from text whose ignored regions are blanked."""
    out = []
    for match in _FOREIGN.finditer(text):
        for script, start, end, letters in _by_script(match.group()):
            if script in allowed:
                continue
            at = match.start()
            if script in UNSPACED:
                out.append(Word(script, at + start, at + end, letters))
            elif letters >= MIN_LETTERS.get(script, MIN_LETTERS_OTHER):
                out.append(Word(script, at + start, at + end, 1))
    return out


def _by_script(piece: str) -> list[list[Any]]:
    """[script, start, end, letters] of each stretch of one script in a match ("日本語のテキスト" has three);
    a combining mark belongs to the letter before it."""
    groups: list[list[Any]] = []
    for i, char in enumerate(piece):
        if not char.isalpha():
            if groups:
                groups[-1][2] = i + 1
            continue
        script = script_of(char)
        if groups and groups[-1][0] == script and groups[-1][2] == i:
            groups[-1][2] = i + 1
            groups[-1][3] += 1
        else:
            groups.append([script, i, i + 1, 1])
    return groups


def problem_scripts(problem: str) -> frozenset[str]:
    counts: Counter[str] = Counter()
    for word in foreign_words(blank_ignored(problem), frozenset()):
        counts[word.script] += word.count
    return frozenset(script for script, n in counts.items() if n >= PROBLEM_MIN_WORDS)


def measure(text: str, allowed: frozenset[str] = frozenset()) -> Mix:
    """Foreign words of `text` (scripts outside Latin and `allowed`) and its longest run of them."""
    if text.isascii() or not _FOREIGN.search(text):
        return Mix(0, 0, {})
    clean = blank_ignored(text)
    found = foreign_words(clean, allowed)
    latin = len(_LATIN_WORD.findall(clean))
    scripts: Counter = Counter()
    for word in found:
        scripts[word.script] += word.count
    best: tuple[int, int, int, str] = (0, 0, 0, "")
    run_start, run, previous_end = 0, 0, -1
    for i, word in enumerate(found):
        if previous_end < 0 or _LATIN_WORD.search(clean, previous_end, word.start):
            run_start, run = i, 0
        run += word.count
        previous_end = word.end
        if run > best[0]:
            best = (run, found[run_start].start, word.end, found[run_start].script)
    total = sum(scripts.values())
    return Mix(latin + total, total, dict(scripts), best[0], best[3], best[1], best[2])


def _quote(text: str, start: int, end: int) -> str:
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= _EXCERPT else piece[: _EXCERPT - 3] + "..."


@register("language_mix")
class LanguageMix(TraceFilter[LanguageMixParams]):
    """Drop generations that switch into another script (a run of Chinese in an English trace, a Cyrillic
    paragraph), ignoring math, code and Greek variables; the problem's own script may be allowed."""



    def _allowed(self, problem: str) -> frozenset[str]:
        p = self.params
        allowed = frozenset(p.allowed_scripts)
        if p.allow_problem_scripts and not (problem.isascii() or not _FOREIGN.search(problem)):
            allowed |= problem_scripts(problem)
        return allowed

    def filter(self, trace: Trace) -> Verdict:
        text = trace.text
        if text.isascii() or not _FOREIGN.search(text):
            return KEEP
        p, g = self.params, trace.index
        allowed = self._allowed(trace.problem)
        mix = measure(text, allowed)
        info = {
            "generation": g,
            "foreign_words": mix.foreign,
            "words": mix.words,
            "share": round(mix.share, 4),
            "scripts": mix.scripts,
            "run": mix.run,
            "run_script": mix.run_script,
            "run_start": mix.run_start,
            "allowed": sorted(allowed),
        }
        if mix.run > p.max_run:
            return Drop(
                "script_switch",
                f"generation {g}: {mix.run} {mix.run_script} words in a row at character {mix.run_start:,} "
                f"(at most {p.max_run}): {_quote(text, mix.run_start, mix.run_end)!r}",
                info,
            )
        if mix.share > p.max_share and mix.foreign > p.max_run:
            names = ", ".join(f"{s} {n}" for s, n in sorted(mix.scripts.items(), key=lambda x: (-x[1], x[0])))
            return Drop(
                "script_share",
                f"generation {g}: {mix.foreign} of {mix.words} words are in another script ({names}): "
                f"{mix.share:.2%} > {p.max_share:.2%}",
                info,
            )
        return KEEP

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any] | None:
        """Drops per reason and per script, with a few examples."""
        reasons = Counter(d.reason for _, d in drops)
        scripts: Counter = Counter()
        for _, drop in drops:
            for script, n in ((drop.info or {}).get("scripts") or {}).items():
                scripts[script] += n
        examples = [{"uuid": uuid, "reason": d.reason, "detail": d.detail} for uuid, d in drops[:10]]
        return {
            "settings": self.params.model_dump(mode="json"),
            "dropped": dict(sorted(reasons.items())),
            "foreign_words_by_script": dict(sorted(scripts.items())),
            "examples": examples,
        }
