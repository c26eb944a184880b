"""`think_format`: the published 45K set's own format filters (README, "`think_format`"), on the raw generation.

A generation passes when it opens with `<think>` (after optional whitespace), closes it exactly once, has
non-empty reasoning inside, boxes an answer after `</think>` (the same brace-matched extraction
`answer_verify` uses, `\\fbox` included), and its assistant text, as the output will hold it
(`curate.formatting.normalize_trace` unless the recipe turns `normalize_think` off), has at most `max_chars`
characters. Checks run in that order and the first failure names the drop.
"""

from __future__ import annotations

from pydantic import Field

from curate.filters import KEEP, Drop, FilterParams, Trace, TraceFilter, Verdict, register
from curate.formatting import normalize_trace
from curate.mathcheck import extract_boxed

OPEN, CLOSE = "<think>", "</think>"
# normalize_trace rewrites the whitespace around the tags to `<think>\n...\n</think>\n\n`: at most 4
# characters more than a generation with none, so shorter generations need no normalising to be measured.
_NORMALIZE_GROWTH = 4


class ThinkFormatParams(FilterParams):
    max_chars: int | None = Field(
        60_000, ge=1, description="most characters of assistant text; null: no bound"
    )
    require_boxed: bool = Field(True, description="require a closed \\boxed{} after </think>")


@register("think_format")
class ThinkFormat(TraceFilter[ThinkFormatParams]):
    """Exactly one leading `<think>...</think>` with reasoning inside, a boxed answer after it, bounded length."""

    reads_think = True  # refused for a source whose generations are not reasoning traces


    def _normalized(self) -> bool:
        return bool(self.context.format_kwargs.get("normalize_think", True))

    def fingerprint_extra(self) -> str:
        return f"normalize_think={self._normalized()}"

    def filter(self, trace: Trace) -> Verdict:
        text, g = trace.text, trace.index
        opens, closes = text.count(OPEN), text.count(CLOSE)
        if opens == 0:
            return Drop("no_think", f"generation {g}: no {OPEN} tag ({closes} {CLOSE})", {"generation": g})
        if opens > 1 or closes > 1:
            return Drop(
                "multiple_think",
                f"generation {g}: {opens} {OPEN} and {closes} {CLOSE} tags",
                {"generation": g, "opens": opens, "closes": closes},
            )
        if closes == 0:
            return Drop("unclosed_think", f"generation {g}: {OPEN} is never closed", {"generation": g})
        start, end = text.index(OPEN), text.index(CLOSE)
        if text[:start].strip() or end < start:
            where = "text before <think>" if end > start else f"{CLOSE} before {OPEN}"
            return Drop("misplaced_think", f"generation {g}: {where}", {"generation": g})
        if not text[start + len(OPEN) : end].strip():
            return Drop(
                "empty_reasoning", f"generation {g}: nothing between {OPEN} and {CLOSE}", {"generation": g}
            )
        if self.params.require_boxed and extract_boxed(text) is None:
            return Drop(
                "no_boxed_after_think",
                f"generation {g}: no closed \\boxed{{}} after {CLOSE}",
                {"generation": g},
            )
        limit = self.params.max_chars
        if limit is not None and len(text) + _NORMALIZE_GROWTH > limit:
            chars = len(normalize_trace(text)) if self._normalized() else len(text)
            if chars > limit:
                return Drop(
                    "too_many_chars",
                    f"generation {g}: {chars:,} characters of assistant text > {limit:,}",
                    {"generation": g, "chars": chars},
                )
        return KEEP
