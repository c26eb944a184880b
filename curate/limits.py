"""Bounds on what a user can ask curate to generate, checked before any work starts: a typo such as
`--source sample:99999999999` must be an error, not hours of work and a full disk."""

from __future__ import annotations

# The most rows a generated corpus may have (the embedded sample, `curate sample`, `curate bench`): four
# times OpenR1-Math-220k, about 55 GB of text and hours of generation.
MAX_SAMPLE_ROWS = 1_000_000
# Disk a generated row takes, with a margin (the sample is about 5.8 KB a row as zstd parquet).
SAMPLE_BYTES_PER_ROW = 8 << 10
