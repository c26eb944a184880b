"""`repetition`: drop generations that loop, told apart from the rechecking that real R1 reasoning is full of.

A looping generation repeats its own recent text: a paragraph written twice in a row, a "Wait, let me
recheck" cycle going round, an equation line copied down the page, or a block repeated until the token cap
cuts it. Real reasoning repeats too, but differently: "Wait," starts dozens of sentences, the same equation
is rechecked a page later, the problem statement is quoted again. Both repeat short phrases; only a loop
repeats long stretches verbatim, back to back, or densely.

Every statistic comes from one pass over the generation's words (whitespace-separated tokens). Each word
n-gram (`ngram` words, default 12) is matched with its previous occurrence, if any (one stable sort of the
n-gram hashes, so linear-logarithmic and vectorised): a stretch of consecutive n-grams that all occur the same
distance `d` words earlier is a copied span, and when `d` is at most the span's own length the copy follows
its source directly: a loop of period `d`. Spans a few words apart with the same `d` are joined, so a cycle
whose copies differ in a word or two (a number that changes each time round) still counts as one loop.

Statistics (all in `info` of a drop, and per generation from `measure`):
- `loop_chars`: characters of the longest back-to-back repetition, counted after its first copy (so a
  paragraph written twice counts its length once, an equation line written ten times counts nine lines);
  with `loop_copies` (copies, first included) and `loop_period_chars` (length of one copy);
- `span_chars`: the longest verbatim copy of earlier text that is not back to back (a pasted paragraph);
- `window_share`: the largest share of words, in any window of `window_words` words, that belong to an
  n-gram already seen earlier in the generation (a dense, possibly varied, loop);
- `tail_share`: that share in the last window, where a generation that loops until the token cap ends;
- `share`: the same share over the whole text (reported, not used to drop: long real traces legitimately
  reach 0.15, and a loop in a long trace hardly moves it).

Each generation is checked in two parts, the reasoning (up to the last `</think>`) and the answer after it,
so a final answer that restates the reasoning's equations is not a copy. Decisions, first match wins:
`repetition_tail` (a loop or dense window that runs to the end of the generation: it looped until cut),
`repetition_loop` (`loop_chars >= min_loop_chars`), `repetition_span` (`span_chars >= max_span_chars`),
`repetition_dense` (`window_share >= max_window_share`). The drop detail quotes the repeated text with its
position and count. Defaults are calibrated on real traces (README, `scripts/measure_trace_quality.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pydantic import Field

from curate.filters import KEEP, Drop, FilterParams, Trace, TraceFilter, Verdict, register

CLOSE = "</think>"
# str.isspace() by code point (all such points are below U+3001), the separators of `str.split()`.
_SPACE = np.array([chr(c).isspace() for c in range(0x3002)], dtype=np.int8)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_EXCERPT = 80
# Fewer words than this and a repeated share says nothing: the dense-window check skips such texts.
_MIN_WINDOW_WORDS = 100


class RepetitionParams(FilterParams):
    ngram: int = Field(12, ge=3, le=32, description="n-gram length in words that counts as repeated text")
    min_loop_chars: int | None = Field(
        120,
        ge=1,
        description="characters of back-to-back repetition (after the first copy) that make a loop; "
        "null: no loop check",
    )
    max_span_chars: int | None = Field(
        400, ge=1, description="longest verbatim copy of earlier text allowed; null: no bound"
    )
    window_words: int = Field(400, ge=20, description="window length in words for the dense-window check")
    max_window_share: float | None = Field(
        0.75,
        gt=0.0,
        le=1.0,
        description="share of a window's words in n-grams seen earlier that makes it a loop; null: off",
    )


@dataclass(frozen=True)
class Repeat:
    """One copied stretch: text[start:end] repeats the text that starts at `source_start`, `period_words`
    words earlier; `adjacent` when the copy follows its source (a loop of `copies` copies)."""

    start: int
    end: int
    period_words: int
    source_start: int
    copies: float
    adjacent: bool

    @property
    def chars(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Stats:
    words: int = 0
    share: float = 0.0
    loop_chars: int = 0
    loop_copies: float = 0.0
    loop_period_chars: int = 0
    loop_start: int = 0
    loop_end: int = 0
    span_chars: int = 0
    span_start: int = 0
    span_source: int = 0
    window_share: float = 0.0
    window_start: int = 0
    window_end: int = 0
    tail_share: float = 0.0
    tail_start: int = 0

    def as_info(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _words(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """`text.split()` and each word's start and end character, found with numpy: a regex over every word of
    225K long traces would cost more than all the rest of this filter."""
    words = text.split()
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    space = _SPACE[np.minimum(points, _SPACE.size - 1)]
    edges = np.diff(np.concatenate(([1], space, [1])))
    return words, np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)


def _previous(hashes: np.ndarray) -> np.ndarray:
    """For each position, the distance back to the previous equal hash (0: none)."""
    m = hashes.size
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
    distance = np.zeros(m, dtype=np.int64)
    distance[order[same]] = order[same] - order[same - 1]
    return distance


def _runs(distance: np.ndarray, join: int) -> list[tuple[int, int, int]]:
    """Maximal stretches (first, last, d) of n-gram positions whose previous occurrence is `d` back, with
    stretches of the same `d` at most `join` positions apart joined."""
    live = distance > 0
    if not live.any():
        return []
    edges = np.flatnonzero(np.diff(distance) != 0) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [distance.size])) - 1
    keep = live[starts]
    runs: list[tuple[int, int, int]] = []
    last: dict[int, int] = {}  # d -> index in runs of the latest stretch with that distance
    for first, final, d in zip(starts[keep].tolist(), ends[keep].tolist(), distance[starts[keep]].tolist()):
        at = last.get(d)
        if at is not None and first - runs[at][1] <= join:
            runs[at] = (runs[at][0], final, d)
        else:
            last[d] = len(runs)
            runs.append((first, final, d))
    return runs


def _longest_loop(loops: list[list[int]], starts: np.ndarray, ends: np.ndarray, join: int) -> dict[str, Any]:
    """The longest stretch of back-to-back repetition. Copies that follow one another at most `join` words
    apart are one loop even when their periods differ, as in a cycle whose rounds open with different words."""
    loops.sort()
    groups: list[list[list[int]]] = []
    for loop in loops:
        if groups and loop[0] - max(m[1] for m in groups[-1]) <= join:
            groups[-1].append(loop)
        else:
            groups.append([loop])

    def chars(group: list[list[int]]) -> int:
        return int(ends[max(m[1] for m in group)] - starts[group[0][0]])

    best = max(groups, key=lambda g: (chars(g), -g[0][0]))
    last = max(m[1] for m in best)
    origin = min(m[2] for m in best)
    period = max(best, key=lambda m: ends[m[1]] - starts[m[0]])[3]
    return {
        "loop_chars": chars(best),
        "loop_copies": (last - origin + 1) / period,
        "loop_period_chars": int(starts[origin + period] - starts[origin]),
        "loop_start": int(starts[origin]),
        "loop_end": int(ends[last]),
    }


def measure(text: str, ngram: int = 12, window_words: int = 400) -> tuple[Stats, list[Repeat]]:
    """The repetition statistics of one text, and its copied stretches (longest first)."""
    words, starts, ends = _words(text)
    m = len(words) - ngram + 1
    if m < 2:
        return Stats(words=len(words)), []
    # Python's string hash is salted per process; only equality within this one text matters.
    word_hash = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
    grams = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(ngram):
            grams = grams * _MIX + word_hash[k : k + m]
    distance = _previous(grams)
    repeats = []
    covered = np.zeros(len(words) + 1, dtype=np.int64)
    loops: list[list[int]] = []  # [first word, last word, origin word, period] of back-to-back repetition
    for first, final, d in _runs(distance, join=ngram + 1):
        last_word = final + ngram - 1
        covered[first] += 1
        covered[last_word + 1] -= 1
        adjacent = d <= last_word - first + 1 + 2 * ngram
        origin = first - d
        copies = (last_word - origin + 1) / d if adjacent else 2.0
        repeats.append(
            Repeat(int(starts[first]), int(ends[last_word]), d, int(starts[origin]), copies, adjacent)
        )
        if adjacent:
            loops.append([first, last_word, origin, d])
    repeated = np.cumsum(covered[:-1]) > 0
    stats: dict[str, Any] = {"words": len(words), "share": float(repeated.mean())}
    if loops:
        stats.update(_longest_loop(loops, starts, ends, 2 * ngram))
    spans = [r for r in repeats if not r.adjacent]
    if spans:
        top = max(spans, key=lambda r: (r.chars, -r.start))
        stats.update(span_chars=top.chars, span_start=top.start, span_source=top.source_start)
    if len(words) >= _MIN_WINDOW_WORDS:
        width = min(window_words, len(words))
        total = np.concatenate(([0], np.cumsum(repeated)))
        dense = total[width:] - total[:-width]
        at = int(dense.argmax())
        stats.update(
            window_share=float(dense[at]) / width,
            window_start=int(starts[at]),
            window_end=int(ends[at + width - 1]),
            tail_share=float(dense[-1]) / width,
            tail_start=int(starts[len(words) - width]),
        )
    repeats.sort(key=lambda r: (-r.chars, r.start))
    return Stats(**stats), repeats


def _excerpt(text: str, start: int, end: int) -> str:
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= _EXCERPT else piece[: _EXCERPT - 3] + "..."


def _frequent_ngram(text: str, start: int, end: int, ngram: int) -> tuple[str, int]:
    """The most repeated n-gram of text[start:end] and its count, to quote a dense window."""
    words = text[start:end].split()
    grams = Counter(tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1))
    if not grams:
        return "", 0
    gram, count = min(grams.items(), key=lambda item: (-item[1], item[0]))
    return " ".join(gram), count


@register("repetition")
class Repetition(TraceFilter[RepetitionParams]):
    """Drop generations that loop: a block repeated back to back, a long pasted copy, a dense repeating
    window, or a loop running into the end of the generation."""



    def filter(self, trace: Trace) -> Verdict:
        text = trace.text
        cut = text.rfind(CLOSE)
        parts = [(0, text)] if cut < 0 else [(0, text[:cut]), (cut + len(CLOSE), text[cut + len(CLOSE) :])]
        for offset, part in parts:
            verdict = self._check(trace.index, part, offset, tail=offset + len(part) == len(text))
            if verdict is not KEEP:
                return verdict
        return KEEP

    def _check(self, g: int, text: str, offset: int, *, tail: bool) -> Verdict:
        p = self.params
        stats, _ = measure(text, p.ngram, p.window_words)
        where = "answer" if offset else "reasoning"
        end = len(text.rstrip())
        looping = p.min_loop_chars is not None and stats.loop_chars >= p.min_loop_chars
        dense = p.max_window_share is not None and stats.window_share >= p.max_window_share
        info = {"generation": g, "part": where, **stats.as_info()}
        if tail and looping and end - stats.loop_end <= _EXCERPT:
            quote = _excerpt(text, stats.loop_start, stats.loop_start + stats.loop_period_chars)
            return Drop(
                "repetition_tail",
                f"generation {g}: the {where} ends in a loop: a {stats.loop_period_chars:,}-character block "
                f"repeated {stats.loop_copies:.1f} times from character {offset + stats.loop_start:,} to the "
                f"end: {quote!r}",
                info,
            )
        if tail and dense and p.max_window_share is not None and stats.tail_share >= p.max_window_share:
            quote, count = _frequent_ngram(text, stats.tail_start, len(text), p.ngram)
            return Drop(
                "repetition_tail",
                f"generation {g}: the {where} ends in a loop: {stats.tail_share:.0%} of its words from character "
                f"{offset + stats.tail_start:,} to the end repeat earlier text; most repeated: {quote!r} x{count}",
                info,
            )
        if looping:
            quote = _excerpt(text, stats.loop_start, stats.loop_start + stats.loop_period_chars)
            return Drop(
                "repetition_loop",
                f"generation {g}: {where} repeats a {stats.loop_period_chars:,}-character block "
                f"{stats.loop_copies:.1f} times back to back at characters {offset + stats.loop_start:,}-"
                f"{offset + stats.loop_end:,}: {quote!r}",
                info,
            )
        if p.max_span_chars is not None and stats.span_chars >= p.max_span_chars:
            quote = _excerpt(text, stats.span_start, stats.span_start + stats.span_chars)
            return Drop(
                "repetition_span",
                f"generation {g}: {where} copies {stats.span_chars:,} characters of its own earlier text "
                f"(from character {offset + stats.span_source:,} to {offset + stats.span_start:,}): {quote!r}",
                info,
            )
        if dense:
            quote, count = _frequent_ngram(text, stats.window_start, stats.window_end, p.ngram)
            return Drop(
                "repetition_dense",
                f"generation {g}: {stats.window_share:.0%} of the words in {where} characters "
                f"{offset + stats.window_start:,}-{offset + stats.window_end:,} repeat earlier text; "
                f"most repeated: {quote!r} x{count}",
                info,
            )
        return KEEP

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any] | None:
        """Drops per reason and a few examples of each, with their statistics."""
        reasons = Counter(d.reason for _, d in drops)
        examples: dict[str, list[dict[str, Any]]] = {}
        for uuid, drop in drops:
            bucket = examples.setdefault(drop.reason, [])
            if len(bucket) < 5:
                bucket.append({"uuid": uuid, "detail": drop.detail, **(drop.info or {})})
        return {
            "settings": self.params.model_dump(mode="json"),
            "dropped": dict(sorted(reasons.items())),
            "examples": dict(sorted(examples.items())),
        }
