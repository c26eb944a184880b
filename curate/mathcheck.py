"""Final answers of reasoning traces, and math-verify judging that survives a whole dataset.

Shared by the `answer_verify` and `think_format` filters and by the evaluator:

- `extract_boxed`: the answer a generation commits to, i.e. the last top-level `\\boxed{...}` (or `\\fbox`)
  after `</think>`, brace-matched. A generation cut inside its final box has no answer.
- `Verifier`: math-verify on (gold, prediction) pairs in worker processes. math-verify's own timeouts use
  SIGALRM, which works only in a main thread and cannot interrupt long C-level arithmetic (a tower of powers
  such as `2^{2^{2^{2^{2^{2}}}}}` hangs regardless), so each item gets a hard deadline measured by the worker
  itself; a worker past it is killed and replaced and the item is recorded as "timeout". Items travel in
  batches so the per-item cost stays far below math-verify's own (about 1 ms for a short pair).
- `normalize_answer` / `exact_match`: the `--judge exact` rule of the evaluator.

Gold answers (the dataset's `answer`: raw LaTeX without `$`) are wrapped as `$...$` before parsing, and as
`\\boxed{...}` when that yields no mathematical object; predictions (already extracted) the other way round,
`\\boxed{...}` first, both parsed with `LatexExtractionConfig(boxed_match_priority=0)` and
`ExprExtractionConfig()`. Only the extracted answer is ever parsed, never a whole generation.

Multiple-choice answers: math-verify reads a bare `B` as the symbol `b`, so letter against letter works, but a
letter is never equal to a value, and `(C) 12` parses as the product `12c`. Before math-verify, both sides are
checked for a choice: a single capital A-E, alone or as `(B)`, `B)`, `\\text{(B)}`, `\\textbf{(B)}`...,
optionally followed by the option's value (`\\textbf{(C)}\\ 12`). Two choices are judged by their letters. A
choice against a non-choice is compared through the value part when the choice carries one, and is otherwise
wrong: a bare letter cannot be checked against a full answer without the options (OpenR1's Llama labels
accept such pairs; README, "`answer_verify`"), and a value cannot be checked against a bare letter either.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import math
import multiprocessing
import os
import re
import signal
import sqlite3
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import connection as mp_connection
from pathlib import Path
from typing import Any, NamedTuple

import xxhash

from curate.cache import pid_alive

log = logging.getLogger("curate")

# Bump when anything below changes a verdict: wrapping, choice handling, math-verify options, statuses.
JUDGE_VERSION = "2"
STATUSES = ("correct", "wrong", "timeout", "gold_unparsable", "pred_unparsable", "error")

# ---------------------------------------------------------------------------------------------- extraction

_BOX_OPEN = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE_OR_ESCAPE = re.compile(r"\\.|[{}]", re.DOTALL)
THINK_CLOSE = "</think>"
# math-verify's rule for boxes that form one answer (latex2sympy2_extended's `extract_boxed_content`): walking
# back from the last box, a box joins the one after it when fewer than `_JOIN_GAP` characters lie between
# them, or fewer than `_JOIN_FAR` that hold a separator ("and", "or", a comma or a semicolon) and the two
# contents differ.
_JOIN_GAP = 10
_JOIN_FAR = 70
_SEPARATOR = re.compile(r"\b(?:and|or)\b|[,;]")


@dataclass(frozen=True)
class _Box:
    start: int  # where `\boxed` begins
    content: int  # first character inside the braces
    end: int  # the closing brace


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing the group opened just before `start`; -1 when the text ends first.
    A backslash escapes the next character, so `\\{`, `\\}` and `\\\\` never count as braces."""
    depth = 1
    for match in _BRACE_OR_ESCAPE.finditer(text, start):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return match.start()
    return -1


def _final_boxes(text: str, after_think: bool) -> tuple[str, list[_Box]] | None:
    """The answer part of a generation and its top-level boxes, in order; None when there is no answer part
    (no `</think>`) or its last box never closes. One left-to-right scan: matching a box's braces skips
    everything inside it, nested boxes included, so the work is linear in the length of the text."""
    if after_think:
        cut = text.rfind(THINK_CLOSE)
        if cut < 0:
            return None
        text = text[cut + len(THINK_CLOSE) :]
    boxes: list[_Box] = []
    position = 0
    while (opening := _BOX_OPEN.search(text, position)) is not None:
        end = _closing_brace(text, opening.end())
        if end < 0:
            return None
        boxes.append(_Box(opening.start(), opening.end(), end))
        position = end + 1
    return text, boxes


def extract_boxed(text: str, *, after_think: bool = True) -> str | None:
    """Content of the last top-level `\\boxed{...}` / `\\fbox{...}` (boxes nested inside a box belong to it).

    With `after_think`, only the text after the last `</think>` counts, and a text without `</think>` (a
    truncated generation) has no answer. None when there is no box, or when the last box is never closed.
    """
    found = _final_boxes(text, after_think)
    if not found or not found[1]:
        return None
    part, boxes = found
    return part[boxes[-1].content : boxes[-1].end]


_TEXT_WRAPPER = re.compile(r"\\(?:text|textrm|mathrm|mbox)\s*\{([^{}]*)\}")
_PART_TOKEN = re.compile(r"\\left|\\right|\\[{}]|\\[a-zA-Z]+|\\.|[{}()\[\],;]|\b(?:and|or)\b", re.IGNORECASE)
_OPENERS = frozenset(["{", "(", "[", "\\{"])
_CLOSERS = frozenset(["}", ")", "]", "\\}"])


def _depths(text: str) -> list[tuple[str, int, int, int]]:
    """Each bracket and separator of `text`: (token, bracket depth, start, end); linear in the text."""
    out = []
    depth = 0
    for match in _PART_TOKEN.finditer(text):
        token = match.group()
        if token.startswith("\\") and token[1:].isalpha():
            continue  # a command (`\\left`, `\\operatorname`): only keeps "and" inside it from counting
        if token in _CLOSERS:
            depth = max(0, depth - 1)
        out.append((token, depth, match.start(), match.end()))
        if token in _OPENERS:
            depth += 1
    return out


def gold_parts(gold: str) -> int:
    """How many parts a gold answer lists: 2 for `(2, 3)`, `\\{1, 5\\}`, `x=1, y=2` or `6 \\text{ and } 8`; 1 for
    `\\frac{1}{2}`, `f(1, 2)` or `1{,}000`. Commas, semicolons and the words "and"/"or" outside brackets
    separate parts; a tuple, interval or set that is the whole answer counts its elements."""
    text = _TEXT_WRAPPER.sub(r" \1 ", gold.strip().strip("$").strip())
    tokens = _depths(text)
    at_zero = [k for k, (token, depth, _, _) in enumerate(tokens) if token in _CLOSERS and depth == 0]
    whole = (
        len(tokens) >= 2
        and tokens[0][0] in _OPENERS
        and at_zero == [len(tokens) - 1]
        and text[: tokens[0][2]].strip() in ("", "\\left")
        and not text[tokens[-1][3] :].strip()
    )
    level = 1 if whole else 0  # one bracket pair around everything: count inside it
    return 1 + sum(1 for token, depth, _, _ in tokens if depth == level and _is_separator(token))


def _is_separator(token: str) -> bool:
    return token in (",", ";") or token.lower() in ("and", "or")


def extract_answer(text: str, gold: str | None = None, *, after_think: bool = True) -> str | None:
    """The final answer of a generation, to be judged against `gold`.

    The last top-level box after `</think>` (`extract_boxed`), except that when the gold lists several parts
    (`gold_parts`) and the generation gives them in consecutive boxes (`\\boxed{2}, \\boxed{3}`,
    `\\boxed{(2, 2)} and \\boxed{(6, 2)}`), those boxes are joined with commas, as math-verify joins them.
    Which boxes belong together is math-verify's rule: walking back from the last box, the box before joins
    when fewer than 10 characters separate them, or fewer than 70 holding "and", "or", a comma or a semicolon
    (and their contents differ); repeated contents count once. A single-part gold is judged by the last box
    alone, so a generation that boxes an intermediate value before its answer is judged by its answer.
    """
    found = _final_boxes(text, after_think)
    if not found or not found[1]:
        return None
    part, boxes = found
    contents = [part[box.content : box.end] for box in boxes]
    if len(boxes) == 1 or gold is None or gold_parts(gold) < 2:
        return contents[-1]
    run = [len(boxes) - 1]
    for k in range(len(boxes) - 2, -1, -1):
        gap = part[boxes[k].end + 1 : boxes[k + 1].start]
        same = contents[k].strip() == contents[run[-1]].strip()
        if not (len(gap) < _JOIN_GAP or (not same and len(gap) < _JOIN_FAR and _SEPARATOR.search(gap))):
            break
        if not same:
            run.append(k)
    return ", ".join(contents[k].strip() for k in reversed(run))


# ---------------------------------------------------------------------------------------- exact judging

_WRAPPER_OR_BRACE = re.compile(
    r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\s*\{|\\.|[{}]", re.DOTALL
)
# A thin space before a group of exactly three digits is a thousands separator (`1\,000` = 1000).
_THIN_THOUSANDS = re.compile(r"(?<=\d)\\,(?=\d{3}(?!\d))")
_SPACING = re.compile(
    r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\[!,;:> ]|\\q?quad(?![a-zA-Z])|\\displaystyle|~"
)
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°")
_INTEGER = re.compile(r"[+-]?\d+")
# Spacing left after the rules above: dropped, except one space between two digits (`3\quad 4` and `3 4` are
# two numbers, not 34) and after a command name followed by a letter (`\pi r` is not the macro `\pir`).
_WHITESPACE = re.compile(r"(\\[a-zA-Z]+|\d)?\s+(?=(\w)?)")
_ANY_SPACE = re.compile(r"\s")


def _unwrap_text_macros(text: str) -> str:
    """`\\text{...}`-style wrappers replaced by their content wherever that content, its own wrappers
    unwrapped, holds no brace; the others stay. One pass with a stack: nesting depth costs nothing extra (a
    regex applied until nothing changes would be quadratic in it)."""
    out: list[str] = []
    stack: list[list[Any]] = []  # per open group: [index of its opening piece, is a wrapper, holds a brace]
    last = 0
    for match in _WRAPPER_OR_BRACE.finditer(text):
        out.append(text[last : match.start()])
        last = match.end()
        token = match.group()
        if token == "}" and stack:
            opening, wrapper, braced = stack.pop()
            if wrapper and not braced:
                out[opening] = ""  # the wrapper and this brace go, the content stays
                continue
            if stack:
                stack[-1][2] = True
        elif token == "{" or (token[-1] == "{" and len(token) > 2):
            wrapper = token != "{"
            if stack and not wrapper:
                stack[-1][2] = True
            stack.append([len(out), wrapper, False])
        elif token in ("\\{", "\\}") and stack:
            stack[-1][2] = True
        out.append(token)
    out.append(text[last:])
    return "".join(out)


def _peel_braces(text: str) -> str:
    """`{{25}}` -> `25`: braces around the whole answer removed, every brace matched in one scan."""
    if not text.startswith("{"):
        return text
    partner: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACE_OR_ESCAPE.finditer(text):
        if match.group() == "{":
            stack.append(match.start())
        elif match.group() == "}" and stack:
            partner[stack.pop()] = match.start()
    lo, hi = 0, len(text)
    while hi - lo >= 2 and text[lo] == "{" and partner.get(lo) == hi - 1:
        lo, hi = lo + 1, hi - 1
    return text[lo:hi]


def _spacing(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    if before is None:
        return ""
    if before.isdigit():
        return before + (" " if after is not None and after.isdigit() else "")
    return before + (" " if after is not None and after.isalpha() else "")


def normalize_answer(answer: str) -> str:
    """The boxed string as `--judge exact` compares it: formatting removed, content kept.

    Removed: whitespace, `$` delimiters, `\\left`/`\\right`, LaTeX spacing (`\\!`, `\\,`, `\\;`, `\\quad`, `~`),
    `\\displaystyle`, degree marks, one trailing period, braces around the whole answer, and the `\\text{}`-style
    wrappers (their content is kept, so units stay: `5\\text{ cm}` is not `5`; use math-verify for lenient
    judging). Spacing between two digits stays one space (`3\\quad 4`, `3\\ 4`, `3~4`, `3 4` are not `34`), except
    a thin space before three digits, a thousands separator (`1\\,000` is `1000`). `\\dfrac`/`\\tfrac` become
    `\\frac`, `\\%` becomes `%`, and plain integers lose leading zeros and `+` (AIME's `025` is `25`). Every
    step is a single linear pass, so a hostile answer (braces 30,000 deep) costs milliseconds.
    """
    text = answer.strip()
    if "\\" in text or "{" in text:  # most answers are plain numbers: nothing to unwrap
        text = _unwrap_text_macros(text)
    text = _THIN_THOUSANDS.sub("", text)
    text = _SPACING.sub(" ", text)
    text = _DEGREES.sub("", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\%", "%")
    text = re.sub(r"(?<!\\)\$", "", text)
    if _ANY_SPACE.search(text):
        text = _WHITESPACE.sub(_spacing, text).strip()
    if text.endswith(".") and not text.endswith("\\."):
        text = text[:-1]
    text = _peel_braces(text)
    if _INTEGER.fullmatch(text):
        digits = text.lstrip("+-").lstrip("0") or "0"
        text = "-" + digits if text.startswith("-") and digits != "0" else digits
    return text


def exact_match(gold: str, pred: str | None) -> bool:
    """Exact-match judge on normalised strings; a missing prediction is wrong."""
    return pred is not None and normalize_answer(gold) == normalize_answer(pred) != ""


# -------------------------------------------------------------------------------------- multiple choice

_CHOICE_WRAPPER = re.compile(r"^\\(?:text|textbf|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_CHOICE = re.compile(r"^(?:\(\s*([A-E])\s*\)|([A-E])\s*\)|([A-E])$)(.*)$", re.DOTALL)
# What may follow the option: nothing, or a value set apart by space or starting with a digit or a macro;
# never an operator (`(C)+1`, `(B)^2` are expressions in the letter).
_CHOICE_REST = re.compile(r"$|\s|~|\\|\d|\$")
_CHOICE_FILLER = re.compile(r"^(?:\s|\\[ ,;:!]|\\q?quad(?![a-zA-Z])|~|[:.]|\\text\s*\{\s*\})+")


@dataclass(frozen=True)
class Choice:
    """A multiple-choice answer: the option letter, and the option's value when the answer states it."""

    letter: str
    value: str


_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_WHOLE_WRAPPER = re.compile(r"\\(?:boxed|fbox|text|textbf|textrm|mathrm|mathbf|mbox)\s*\{")
_UNWRAP_LEVELS = 8


def _unwrap_answer(text: str) -> str:
    """Math delimiters and boxes or text wrappers around the whole answer removed, layer by layer:
    `\\(\\boxed{\\text{C}}\\)` -> `C`. At most `_UNWRAP_LEVELS` layers, each one linear pass."""
    for _ in range(_UNWRAP_LEVELS):
        before = text = text.strip()
        if text.endswith(".") and not text.endswith("\\."):
            text = text[:-1].rstrip()  # a sentence's full stop after the answer
        for opening, closing in _DELIMITERS:
            if len(text) >= len(opening) + len(closing) and text.startswith(opening) and text.endswith(closing):
                text = text[len(opening) : -len(closing)].strip()
                break
        wrapper = _WHOLE_WRAPPER.match(text)
        if wrapper and _closing_brace(text, wrapper.end()) == len(text) - 1:
            text = text[wrapper.end() : -1]
        if text == before:
            break
    return text


def parse_choice(answer: str) -> Choice | None:
    """`B`, `(B)`, `B)`, `\\text{(B)}`, `\\textbf{(B) }12`, `\\(\\boxed{\\text{C}}\\)`... as a Choice; None for
    anything else."""
    text = _unwrap_answer(answer)
    wrapped = _CHOICE_WRAPPER.match(text)
    if wrapped:
        text = wrapped.group(1).strip() + text[wrapped.end() :]
    match = _CHOICE.match(text)
    if match is None or not _CHOICE_REST.match(match.group(4)):
        return None
    letter = match.group(1) or match.group(2) or match.group(3)
    value = _CHOICE_FILLER.sub("", match.group(4)).strip()
    return Choice(letter, value)


def _resolve_choices(gold: str, pred: str) -> tuple[str | None, str, str]:
    """(decided status, or None with the gold and prediction math-verify should compare)."""
    gold_choice, pred_choice = parse_choice(gold), parse_choice(pred)
    if gold_choice and pred_choice:
        return ("correct" if gold_choice.letter == pred_choice.letter else "wrong"), gold, pred
    if gold_choice:
        return (None, gold_choice.value, pred) if gold_choice.value else ("wrong", gold, pred)
    if pred_choice:
        return (None, gold, pred_choice.value) if pred_choice.value else ("wrong", gold, pred)
    return None, gold, pred


class FastVerdict(NamedTuple):
    """What `fast_verdict` decided: a status (None: math-verify must compare `gold` and `pred`), and the rule
    that decided it ("empty", "choice", "exact")."""

    status: str | None
    gold: str
    pred: str
    rule: str | None = None


def fast_verdict(gold: str, pred: str | None) -> FastVerdict:
    """What is decided without math-verify: empty sides; the choice rule; and answers equal up to the
    formatting `normalize_answer` removes, which are correct without a parse. Most correct generations box the
    gold verbatim, so this skips most math-verify calls, and it accepts answers math-verify cannot parse, like
    `50\\%`. Each rule is a documented equivalence (README, `answer_verify`): none accepts what math-verify
    rejects otherwise (`tests/curate/test_mathcheck.py::test_fast_path_accepts_nothing_math_verify_rejects`)."""
    if pred is None or not pred.strip():
        return FastVerdict("pred_unparsable", gold, pred or "", "empty")
    if not gold.strip():
        return FastVerdict("gold_unparsable", gold, pred, "empty")
    status, gold_judged, pred_judged = _resolve_choices(gold, pred)
    if status is not None:
        return FastVerdict(status, gold_judged, pred_judged, "choice")
    if not gold_judged.strip():
        return FastVerdict("gold_unparsable", gold_judged, pred_judged, "empty")
    if exact_match(gold_judged, pred_judged):
        return FastVerdict("correct", gold_judged, pred_judged, "exact")
    return FastVerdict(None, gold_judged, pred_judged)


# ------------------------------------------------------------------------------------ math-verify judging

_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def _gold_texts(gold: str) -> tuple[str, ...]:
    if _UNESCAPED_DOLLAR.search(gold):  # already delimited, despite the dataset's convention
        return (gold,)
    inline = f"$${gold}$$" if "\n" in gold else f"${gold}$"
    return inline, f"\\boxed{{{gold}}}"


def _pred_texts(pred: str) -> tuple[str, ...]:
    boxed = f"\\boxed{{{pred}}}"
    if _UNESCAPED_DOLLAR.search(pred):
        return boxed, pred
    return boxed, (f"$${pred}$$" if "\n" in pred else f"${pred}$")


class Judge:
    """math-verify on one pair, in the calling process, with no timeout of its own: run it where something
    else enforces the deadline (a `Verifier` worker), or on trusted short inputs. Parsed golds are kept in a
    small LRU, because a dataset row has 2 to 4 generations and a benchmark problem 16 rollouts."""

    GOLD_CACHE = 512

    def __init__(self) -> None:
        from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
        from sympy import Basic, MatrixBase

        self._parse, self._verify = parse, verify
        self._config = (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())
        self._math_types = (Basic, MatrixBase)
        self._golds: OrderedDict[str, list[Any]] = OrderedDict()
        # math-verify warns once that its timeouts are off: here that is the point.
        logging.getLogger("math_verify").setLevel(logging.ERROR)

    def _first_math(self, texts: Iterable[str]) -> list[Any]:
        """The parse of the first wrapping that yields a mathematical object, else of the first that yields
        anything (math-verify then compares strings)."""
        fallback: list[Any] = []
        for text in texts:
            parsed = self._parse(text, list(self._config), parsing_timeout=None)
            if any(isinstance(item, self._math_types) for item in parsed):
                return parsed
            fallback = fallback or parsed
        return fallback

    def parse_gold(self, gold: str) -> list[Any]:
        parsed = self._golds.get(gold)
        if parsed is None:
            parsed = self._first_math(_gold_texts(gold))
            self._golds[gold] = parsed
            if len(self._golds) > self.GOLD_CACHE:
                self._golds.popitem(last=False)
        else:
            self._golds.move_to_end(gold)
        return parsed

    def parse_pred(self, pred: str) -> list[Any]:
        return self._first_math(_pred_texts(pred))

    def compare(self, gold: list[Any], pred: list[Any]) -> bool:
        return bool(self._verify(gold, pred, timeout_seconds=None))

    def check(self, gold: str, pred: str) -> str:
        """The status of an already choice-resolved pair (see `_resolve_choices`)."""
        gold_parsed = self.parse_gold(gold)
        if not gold_parsed:
            return "gold_unparsable"
        pred_parsed = self.parse_pred(pred)
        if not pred_parsed:
            return "pred_unparsable"
        return "correct" if self.compare(gold_parsed, pred_parsed) else "wrong"


# ----------------------------------------------------------------------------------------- worker process

# Shared progress slots, written by the worker before each item: the item's id, its start time on the
# system-wide monotonic clock (0 between items), and its phase (gold parse, prediction parse, comparison).
_ITEM, _STARTED, _PHASE = 0, 1, 2
PHASE_GOLD, PHASE_PRED, PHASE_COMPARE = 1.0, 2.0, 3.0
_READY = "ready"


def _worker_main(conn: mp_connection.Connection, progress: Any, parent_pid: int) -> None:
    """Verify batches until told to stop (None), the pipe closes, or the parent disappears."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it kills us
    judge = Judge()
    judge.check("1", "1")  # compile math-verify's regexes before the first deadline starts
    conn.send(_READY)
    while True:
        if not conn.poll(1.0):
            if not pid_alive(parent_pid):
                return
            continue
        try:
            batch = conn.recv()
        except EOFError:
            return
        if batch is None:
            return
        statuses = []
        for item_id, gold, pred in batch:
            progress[_STARTED] = 0.0
            progress[_ITEM] = float(item_id)
            progress[_PHASE] = PHASE_GOLD
            progress[_STARTED] = time.monotonic()
            try:
                gold_parsed = judge.parse_gold(gold)
                if not gold_parsed:
                    statuses.append("gold_unparsable")
                    continue
                progress[_PHASE] = PHASE_PRED
                pred_parsed = judge.parse_pred(pred)
                if not pred_parsed:
                    statuses.append("pred_unparsable")
                    continue
                progress[_PHASE] = PHASE_COMPARE
                statuses.append("correct" if judge.compare(gold_parsed, pred_parsed) else "wrong")
            except Exception:  # math-verify swallows its own; anything left is a bug we report per item
                statuses.append("error")
        progress[_STARTED] = 0.0
        conn.send(statuses)


# ------------------------------------------------------------------------------------------------ cache


def config_id() -> str:
    """Everything besides the pair that decides a verdict: our judging rules and the versions of the
    libraries that parse and compare."""
    versions = [importlib.metadata.version(p) for p in ("math-verify", "latex2sympy2_extended", "sympy")]
    return f"judge{JUDGE_VERSION}|math-verify {versions[0]}|latex2sympy2 {versions[1]}|sympy {versions[2]}"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` between processes of this machine (a no-op where flock does not exist)."""
    try:
        import fcntl
    except ImportError:  # Windows: one process at a time is the caller's business
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _open_store(path: Path) -> sqlite3.Connection:
    """The store, checked: a SQLite file whose size matches its header (a cut-off file fails), holding the
    verdict table. check_same_thread off: a Ray actor builds the verifier on one thread and calls it from
    another; calls never overlap."""
    if path.exists() and path.stat().st_size:
        with path.open("rb") as handle:
            header = handle.read(100)
        # The page count at 28 is valid when the change counter (24) is repeated at 92.
        pages = int.from_bytes(header[28:32], "big") if header[24:28] == header[92:96] else 0
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        if not header.startswith(b"SQLite format 3\x00") or path.stat().st_size < pages * page_size:
            raise sqlite3.DatabaseError("not a whole SQLite file")
    db = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS verdicts (key BLOB PRIMARY KEY, status TEXT NOT NULL, limit_s REAL)"
            " WITHOUT ROWID"
        )
        db.execute("SELECT key, status, limit_s FROM verdicts LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


class _VerdictCache:
    """Verdicts on disk (sqlite), keyed by a 128-bit hash of (config, gold, prediction). A timeout is kept
    with the limit it ran under and reused only for a limit no larger, so raising `timeout` retries it."""

    def __init__(self, path: Path, config: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Switching a new file to WAL takes no busy timeout: the workers of a first run, opening the store at
        # the same moment, would fail with "database is locked". One opener at a time, across processes.
        with _file_lock(path.with_name(path.name + ".lock")):
            try:
                self._db = _open_store(path)
            except sqlite3.DatabaseError as exc:  # garbage or a truncated file: a cache, so start afresh
                log.warning("verdict store %s is damaged (%s): starting a new one", path, exc)
                for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    stale.unlink(missing_ok=True)
                self._db = _open_store(path)
        self._prefix = config.encode() + b"\x00"

    def key(self, gold: str, pred: str) -> bytes:
        text = (
            self._prefix
            + gold.encode("utf-8", "surrogatepass")
            + b"\x00"
            + pred.encode("utf-8", "surrogatepass")
        )
        return xxhash.xxh3_128_digest(text)

    def get_many(self, keys: Sequence[bytes], limit: float) -> dict[bytes, str]:
        found: dict[bytes, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, status, limit_s FROM verdicts WHERE key IN ({marks})", chunk
            )
            for key, status, limit_s in rows:
                if status != "timeout" or (limit_s is not None and limit_s >= limit):
                    found[key] = status
        return found

    def put_many(self, rows: Sequence[tuple[bytes, str, float | None]]) -> None:
        if rows:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()


# ------------------------------------------------------------------------------------------------- pool


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    status: str


@dataclass
class _Worker:
    process: Any
    conn: mp_connection.Connection
    progress: Any
    started_at: float
    ready: bool = False
    inflight: deque[list[int]] = field(default_factory=deque)


# Largest pickled payload of a batch queued behind a running one: kept well below a socket buffer, so the
# parent never blocks sending while a worker is stuck (a bigger batch goes only to an idle worker).
_QUEUED_BYTES = 32 * 1024
_MAX_BATCH = 64
_IN_FLIGHT = 2
_POLL_S = 0.2
_STARTUP_S = 120.0
_MAX_CRASHES = 5


def _weight(item: tuple[str, str]) -> int:
    return len(item[0]) + len(item[1]) + 32


@dataclass
class _Run:
    """The state of one `_compute` call: items, their statuses so far, and the batches not yet sent."""

    items: list[tuple[str, str]]
    statuses: list[str | None] = field(init=False)
    cacheable: list[bool] = field(init=False)
    pending: deque[list[int]] = field(default_factory=deque)
    crashes: int = 0

    def __post_init__(self) -> None:
        self.statuses = [None] * len(self.items)
        self.cacheable = [True] * len(self.items)


def _context() -> multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext:
    """forkserver: a clean single-threaded parent with math-verify preloaded, so a replacement worker starts
    in milliseconds and never inherits the caller's threads or open files; spawn where there is no fork."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["math_verify", "curate.mathcheck"])
        return ctx
    return multiprocessing.get_context("spawn")


def _stop_workers(workers: list[_Worker]) -> None:
    for worker in workers:
        with contextlib.suppress(OSError):
            worker.conn.send(None)
    deadline = time.monotonic() + 2.0
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
    workers.clear()


class Verifier:
    """math-verify over many (gold, prediction) pairs with a hard per-item deadline and a disk cache.

    `verify_many` dedupes identical pairs, answers what it can from the choice rule, exact equality and the
    cache, and sends
    the rest in batches (grouped by gold) to `workers` processes, at most two batches queued per worker. Each
    worker marks the item it is on in shared memory; one that stays on an item past `timeout` seconds is
    killed, the item becomes "timeout" (and so does every item of the call with the same gold, when it was the
    gold's parsing that hung), and its unfinished items go to a fresh worker. A worker that dies on its own
    costs its current item an "error" (not cached). Workers start on first need and live until `close()`.
    Not thread-safe: use one Verifier per thread (any thread: no signals are involved).
    """

    def __init__(self, workers: int = 2, timeout: float = 5.0, cache_path: Path | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.workers = workers
        self.timeout = float(timeout)
        self.config = config_id()
        self._cache = _VerdictCache(Path(cache_path), self.config) if cache_path is not None else None
        self._pool: list[_Worker] = []
        self._ctx = _context()
        self._finalizer = weakref.finalize(self, _stop_workers, self._pool)
        self.stats = {
            "items": 0,
            "unique": 0,
            "identical": 0,
            "cached": 0,
            "computed": 0,
            "timeouts": 0,
            "restarts": 0,
        }

    # -- public

    def verify_many(self, pairs: Sequence[tuple[str, str | None]]) -> list[VerifyResult]:
        """One result per pair, in order. A pair is (gold answer as in the dataset, extracted prediction);
        a None prediction is "pred_unparsable"."""
        unique: dict[tuple[str, str | None], list[int]] = {}
        for index, pair in enumerate(pairs):
            unique.setdefault((pair[0], pair[1]), []).append(index)
        decided: dict[tuple[str, str | None], str] = {}
        todo: list[tuple[tuple[str, str | None], str, str]] = []  # (pair, gold to judge, pred to judge)
        for pair in unique:
            fast = fast_verdict(*pair)
            if fast.status is None:
                todo.append((pair, fast.gold, fast.pred))
                continue
            decided[pair] = fast.status
            self.stats["identical"] += fast.rule == "exact"
        self.stats["items"] += len(pairs)
        self.stats["unique"] += len(unique)
        if todo:
            decided.update(self._cached_or_computed(todo))
        results: list[VerifyResult | None] = [None] * len(pairs)
        for pair, indices in unique.items():
            status = decided[pair]
            verdict = VerifyResult(status == "correct", status)
            for index in indices:
                results[index] = verdict
        return results  # type: ignore[return-value]

    def verify(self, gold: str, pred: str | None) -> VerifyResult:
        return self.verify_many([(gold, pred)])[0]

    def close(self) -> None:
        _stop_workers(self._pool)
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- cache around the pool

    def _cached_or_computed(
        self, todo: list[tuple[tuple[str, str | None], str, str]]
    ) -> dict[tuple[str, str | None], str]:
        out: dict[tuple[str, str | None], str] = {}
        keys: list[bytes] = []
        if self._cache is not None:
            keys = [self._cache.key(pair[0], pair[1] or "") for pair, _, _ in todo]
            hits = self._cache.get_many(keys, self.timeout)
            self.stats["cached"] += len(hits)
            missing = []
            for position, (entry, key) in enumerate(zip(todo, keys)):
                if key in hits:
                    out[entry[0]] = hits[key]
                else:
                    missing.append(position)
        else:
            missing = list(range(len(todo)))
        if not missing:
            return out
        statuses, cacheable = self._compute([(todo[p][1], todo[p][2]) for p in missing])
        self.stats["computed"] += len(missing)
        rows = []
        for slot, position in enumerate(missing):
            out[todo[position][0]] = statuses[slot]
            if self._cache is not None and cacheable[slot]:
                limit = self.timeout if statuses[slot] == "timeout" else None
                rows.append((keys[position], statuses[slot], limit))
        if self._cache is not None:
            self._cache.put_many(rows)
        return out

    # -- the pool

    def _compute(self, items: list[tuple[str, str]]) -> tuple[list[str], list[bool]]:
        """Statuses of `items`, and whether each may be cached (a crashed worker's item may not)."""
        run = _Run(items)
        run.pending.extend(self._batches(items))
        try:
            self._ensure_workers()
            while run.pending or any(w.inflight for w in self._pool):
                self._dispatch(run)
                busy = [w for w in self._pool if w.inflight]
                waitables: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
                ready = set(mp_connection.wait(waitables, timeout=self._next_check(busy)))
                for worker in busy:
                    if worker.conn in ready:
                        self._receive(worker, run)
                    elif worker.process.sentinel in ready:
                        self._replace(worker, run, "error")
                now = time.monotonic()
                for worker in [w for w in self._pool if w.inflight]:
                    self._check_deadline(worker, now, run)
        except BaseException:
            _stop_workers(self._pool)  # an interrupted call leaves no half-fed worker behind
            raise
        assert all(s is not None for s in run.statuses)
        return run.statuses, run.cacheable  # type: ignore[return-value]

    def _batches(self, items: list[tuple[str, str]]) -> list[list[int]]:
        """Batches of item indices, grouped by gold so a worker parses each gold once. Guided sizes: each
        batch holds a quarter of a worker's share of what is left (at most 64 items, amortising the IPC), so
        batches shrink towards the end and no worker is left with a long last batch while the others idle."""
        order = sorted(range(len(items)), key=lambda i: items[i][0])
        batches: list[list[int]] = []
        current: list[int] = []
        payload = size = 0
        for done, index in enumerate(order):
            if not current:
                size = max(1, min(_MAX_BATCH, math.ceil((len(order) - done) / (self.workers * 4))))
            weight = _weight(items[index])
            if current and (len(current) >= size or payload + weight > _QUEUED_BYTES):
                batches.append(current)
                current, payload = [], 0
                size = max(1, min(_MAX_BATCH, math.ceil((len(order) - done) / (self.workers * 4))))
            current.append(index)
            payload += weight
        if current:
            batches.append(current)
        return batches

    def _dispatch(self, run: _Run) -> None:
        for position in range(len(self._pool)):
            while run.pending and len(self._pool[position].inflight) < _IN_FLIGHT:
                worker = self._pool[position]
                batch = [i for i in run.pending[0] if run.statuses[i] is None]
                if worker.inflight and sum(_weight(run.items[i]) for i in batch) > _QUEUED_BYTES:
                    break  # an oversized batch waits for an idle worker, which reads it at once
                run.pending.popleft()
                if not batch:
                    continue
                try:
                    worker.conn.send([(i, *run.items[i]) for i in batch])
                except OSError:  # it died while idle: nothing of this call was on it
                    run.pending.appendleft(batch)
                    self._replace(worker, run, "error")
                    continue
                worker.inflight.append(batch)

    def _next_check(self, busy: list[_Worker]) -> float:
        wait = _POLL_S
        now = time.monotonic()
        for worker in busy:
            started = worker.progress[_STARTED]
            if started:
                wait = min(wait, max(0.0, started + self.timeout - now) + 0.001)
        return wait

    def _receive(self, worker: _Worker, run: _Run) -> None:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            self._replace(worker, run, "error")
            return
        self._record(worker, message, run)

    def _record(self, worker: _Worker, message: Any, run: _Run) -> None:
        if message == _READY:
            worker.ready = True
            return
        batch = worker.inflight.popleft()
        for index, status in zip(batch, message):
            run.statuses[index] = status
        run.crashes = 0

    def _check_deadline(self, worker: _Worker, now: float, run: _Run) -> None:
        if not worker.ready:
            if now - worker.started_at > _STARTUP_S:
                raise RuntimeError(f"a math-verify worker did not start within {_STARTUP_S:.0f} s")
            return
        started = worker.progress[_STARTED]
        item, phase = worker.progress[_ITEM], worker.progress[_PHASE]
        # A consistent snapshot: the worker zeroes the start time before it moves to another item.
        if not started or worker.progress[_STARTED] != started:
            return
        if now - started > self.timeout:
            self._replace(worker, run, "timeout", (int(item), phase))

    def _replace(self, worker: _Worker, run: _Run, outcome: str, on: tuple[int, float] | None = None) -> None:
        """Kill `worker`, give the item it was on (`on`: item and phase; read from the dead worker when not
        given) `outcome`, requeue its other unfinished items, and put a fresh worker in its place. A gold
        whose parsing timed out times out for every item of this call."""
        worker.process.kill()
        worker.process.join()
        if on is None:
            on = (
                (int(worker.progress[_ITEM]), worker.progress[_PHASE])
                if worker.progress[_STARTED]
                else (-1, 0.0)
            )
        current, phase = on
        while True:  # results it sent before dying are still in the pipe
            try:
                if not worker.conn.poll():
                    break
                self._record(worker, worker.conn.recv(), run)
            except (EOFError, OSError):
                break
        worker.conn.close()
        if not worker.ready:
            raise RuntimeError(
                f"a math-verify worker exited while starting (exit code {worker.process.exitcode}); "
                "check that math-verify imports in a fresh process"
            )
        unfinished = [i for batch in worker.inflight for i in batch if run.statuses[i] is None]
        if current in unfinished:
            run.statuses[current] = outcome
            run.cacheable[current] = outcome == "timeout"
            if outcome == "timeout":
                self.stats["timeouts"] += 1
                log.debug("math-verify item timed out after %.1f s (phase %d)", self.timeout, phase)
                if phase == PHASE_GOLD:
                    gold = run.items[current][0]
                    for index, item in enumerate(run.items):
                        if item[0] == gold and run.statuses[index] is None:
                            run.statuses[index] = "timeout"
        elif outcome == "error":
            run.crashes += 1  # died between items: nobody to blame, but never loop forever
            if run.crashes > _MAX_CRASHES:
                raise RuntimeError(f"math-verify workers died {run.crashes} times in a row without a result")
        rest = [i for i in unfinished if run.statuses[i] is None]
        if rest:
            run.pending.appendleft(rest)
        self._pool[self._pool.index(worker)] = self._start_worker()
        self.stats["restarts"] += 1

    def _ensure_workers(self) -> None:
        while len(self._pool) < self.workers:
            self._pool.append(self._start_worker())

    def _start_worker(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        progress = self._ctx.RawArray("d", 3)
        process = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, progress, os.getpid()),
            name="curate-mathverify",
            daemon=True,
        )
        process.start()
        child_conn.close()  # the worker holds the only other end: its death reads as EOF here
        return _Worker(process, parent_conn, progress, time.monotonic())
