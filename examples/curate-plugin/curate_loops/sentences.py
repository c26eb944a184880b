"""Sentence splitting for `SentenceLoop`, kept in its own module: curate keys cached results by the code a
filter imports, this module included, so editing it re-runs the filter."""

from __future__ import annotations

import re
from collections import Counter

_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str, min_words: int) -> list[str]:
    """The sentences of `text` with at least `min_words` words, whitespace collapsed."""
    parts = (" ".join(part.split()) for part in _END.split(text))
    return [part for part in parts if len(part.split()) >= min_words]


def most_repeated(text: str, min_words: int) -> tuple[str, int]:
    """The sentence written most often, and how often (("", 0) when there is none)."""
    counts = Counter(sentences(text, min_words))
    return counts.most_common(1)[0] if counts else ("", 0)
