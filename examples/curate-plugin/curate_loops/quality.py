"""`sentence_loop`: drop generations whose reasoning writes the same sentence over and over."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from curate.filters import KEEP, Drop, FilterParams, Trace, TraceFilter, Verdict
from curate_loops.sentences import most_repeated


class SentenceLoopParams(FilterParams):
    max_repeats: int = Field(3, ge=1, description="most copies of one sentence kept in the reasoning")
    min_words: int = Field(4, ge=1, description="shorter sentences ('Wait.', 'So x = 2.') are not counted")


class SentenceLoop(TraceFilter[SentenceLoopParams]):
    """Drop generations whose reasoning repeats one sentence more than `max_repeats` times."""

    def filter(self, trace: Trace) -> Verdict:
        reasoning = trace.text.partition("</think>")[0]
        sentence, copies = most_repeated(reasoning, self.params.min_words)
        if copies > self.params.max_repeats:
            return Drop(
                "sentence_loop",
                f"generation {trace.index}: {sentence[:80]!r} written {copies} times",
                {"copies": copies},
            )
        return KEEP

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any]:
        copies = Counter((drop.info or {}).get("copies", 0) for _, drop in drops)
        return {"dropped": len(drops), "rows_by_copies": {str(k): v for k, v in sorted(copies.items())}}
