"""Deterministic, nested draw of the surviving pool into test and train splits.

Every row gets a key from a seeded hash of its uuid (an Efraimidis-Spirakis key when weighted), rows are
ranked by key, the first `test_size` ranks form the test split and the next `size` the train split.
Because ranks depend only on the seed, the row and the weights, a 45K draw is a prefix of the 90K draw
with the same seed and filters, and the test split is the same 200 rows, disjoint from both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import xxhash

from curate.errors import CurateError

_SCALE = float(2**64)
_SLICE = 1 << 16  # uuids hashed per step


@dataclass
class Split:
    train: np.ndarray  # row ids, sorted
    test: np.ndarray
    pool: int
    requested: tuple[int | None, int]


def uniform_keys(uuids: list[str], seed: int) -> np.ndarray:
    """U(0,1) per uuid from xxh64(seed, uuid): stable across runs, machines and pool contents."""
    values = np.fromiter(
        (xxhash.xxh64_intdigest(u.encode("utf-8"), seed=seed) for u in uuids),
        dtype=np.uint64,
        count=len(uuids),
    )
    return (values.astype(np.float64) + 0.5) / _SCALE


def rank(
    frame: pl.DataFrame, seed: int, weights: dict[str, float], weight_by: str, stratify: str | None
) -> np.ndarray:
    """Row ids of `frame` in sampling order. `frame` holds `row_id`, `uuid` and any weight/strata column.

    Sorts stay in Arrow memory (no Python string per row), and the keys are hashed a slice at a time, so a
    pool of millions costs tens of bytes a row."""
    u = np.concatenate(
        [np.empty(0)]
        + [
            uniform_keys(frame["uuid"].slice(lo, _SLICE).to_list(), seed)
            for lo in range(0, frame.height, _SLICE)
        ]
    )
    w = np.ones(frame.height)
    if weights:
        w = frame[weight_by].replace_strict(weights, default=1.0, return_dtype=pl.Float64).to_numpy()
    key = -np.log(u) / w  # Efraimidis-Spirakis: smallest keys = weighted draw without replacement
    if stratify:
        # Interleave strata by within-stratum quantile, so every prefix keeps the strata proportions.
        ordered = _by_key(
            pl.DataFrame(
                {
                    "key": key,
                    "uuid": frame["uuid"],
                    "strata": frame[stratify].cast(pl.String).fill_null("<null>"),
                    "index": np.arange(frame.height),
                }
            )
        ).select(
            "index",
            pl.int_range(pl.len()).over("strata").alias("rank"),
            pl.len().over("strata").alias("size"),
        )
        quantile = np.empty_like(key)
        quantile[ordered["index"].to_numpy()] = (ordered["rank"].to_numpy() + 0.5) / ordered[
            "size"
        ].to_numpy()
        key = quantile / w  # a stratum's share of every prefix scales with its weight
    return _by_key(pl.DataFrame({"key": key, "uuid": frame["uuid"], "row_id": frame["row_id"]}))[
        "row_id"
    ].to_numpy()


def _by_key(frame: pl.DataFrame) -> pl.DataFrame:
    """Ordered by key, then uuid (code point order), then position: a stable sort."""
    return frame.sort(["key", "uuid"], maintain_order=True)


def draw(
    frame: pl.DataFrame,
    *,
    seed: int,
    size: int | None,
    test_size: int,
    weights: dict[str, float],
    weight_by: str,
    stratify: str | None,
    allow_smaller: bool,
) -> Split:
    order = rank(frame, seed, weights, weight_by, stratify)
    pool = order.size
    wanted = (size or 0) + test_size
    if size is not None and pool < wanted and not allow_smaller:
        raise CurateError(
            f"only {pool} rows survive the filters, fewer than the {wanted} requested "
            f"(size {size} + test_size {test_size})",
            hint="loosen a filter, use a bigger source, or set `sample.allow_smaller: true`",
        )
    if test_size > pool and not allow_smaller:
        raise CurateError(
            f"only {pool} rows survive, fewer than test_size {test_size}",
            hint="set `sample.allow_smaller: true`",
        )
    test = order[:test_size]
    rest = order[test_size:]
    train = rest if size is None else rest[:size]
    return Split(np.sort(train), np.sort(test), pool, (size, test_size))
