"""Deterministic, nested draw of the surviving pool into test and train splits.

Every row gets a key from a seeded hash of its uuid (an Efraimidis-Spirakis key when weighted), rows are
ranked by key, the first `test_size` ranks form the test split and the next `size` the train split.
Because ranks depend only on the seed, the row and the weights, a 45K draw is a prefix of the 90K draw
with the same seed and filters, and the test split is the same 200 rows, disjoint from both.

A mixed recipe's sources are interleaved so that every prefix of the order keeps their shares: each source's
rows are ranked as above, among themselves, and the i-th of a source with weight w is placed at (i + 0.5) / w
(ties by uuid). The first `test_size` places are the test split, the next `size` the train split, so the
draw is nested as before, the test split is shared by every size, and each source contributes its share of
every prefix (with weights 2 and 1, two rows of the first for each row of the second) however many rows its
pool holds beyond that. With per-source `size`s instead, the interleave (weighted by the sizes) gives the
test split, and each source's train rows are its own first `size` rows after the test rows: nested per
source. Nothing depends on the order of the source files or of `sources:`.
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


@dataclass(frozen=True)
class MixSpec:
    """The sources of a mixed recipe (the frame's `dataset` values) and their part of the draw."""

    names: tuple[str, ...]
    weights: tuple[float | None, ...] | None = None
    sizes: tuple[int | None, ...] | None = None


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
    mix: MixSpec | None = None,
) -> Split:
    if mix is not None and (mix.weights or mix.sizes):
        return _draw_mixed(frame, seed, size, test_size, weights, weight_by, stratify, allow_smaller, mix)
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


def _draw_mixed(
    frame: pl.DataFrame,
    seed: int,
    size: int | None,
    test_size: int,
    weights: dict[str, float],
    weight_by: str,
    stratify: str | None,
    allow_smaller: bool,
    mix: MixSpec,
) -> Split:
    """The interleaved draw of a mixed recipe (see the module docstring)."""
    shares = mix.sizes if mix.sizes is not None else mix.weights
    assert shares is not None
    orders, placed = [], []
    for name, share in zip(mix.names, shares):
        part = frame.filter(pl.col("dataset") == name)
        order = rank(part, seed, weights, weight_by, stratify) if part.height else np.empty(0, np.int64)
        orders.append(order)
        ranked = pl.DataFrame({"row_id": order, "key": (np.arange(order.size) + 0.5) / float(share or 1)})
        # Sorted back to the ranked order after the join: polars before 1.18 has no `maintain_order` there.
        joined = ranked.with_row_index("_at").join(part.select("row_id", "uuid"), on="row_id", how="left")
        placed.append(joined.sort("_at").drop("_at"))
    interleaved = _by_key(pl.concat(placed))["row_id"].to_numpy()
    pool = interleaved.size
    if test_size > pool and not allow_smaller:
        raise CurateError(
            f"only {pool} rows survive, fewer than test_size {test_size}", hint="set `sample.allow_smaller: true`"
        )
    test = interleaved[:test_size]
    if mix.sizes is not None:
        train_parts = []
        for name, order, wanted in zip(mix.names, orders, mix.sizes):
            rest = order[~np.isin(order, test)]
            if rest.size < (wanted or 0) and not allow_smaller:
                raise CurateError(
                    f"source {name!r}: only {rest.size} rows survive besides the test split, fewer than its size "
                    f"{wanted}",
                    hint="loosen a filter, lower the source's size, or set `sample.allow_smaller: true`",
                )
            train_parts.append(rest[:wanted])
        train = np.concatenate([np.empty(0, np.int64), *train_parts])
        return Split(np.sort(train), np.sort(test), pool, (int(sum(mix.sizes)), test_size))  # type: ignore[arg-type]
    rest = interleaved[test_size:]
    wanted = (size or 0) + test_size
    if size is not None and pool < wanted and not allow_smaller:
        raise CurateError(
            f"only {pool} rows survive the filters, fewer than the {wanted} requested "
            f"(size {size} + test_size {test_size})",
            hint="loosen a filter, use a bigger source, or set `sample.allow_smaller: true`",
        )
    train = rest if size is None else rest[:size]
    if size is not None and not allow_smaller:
        _check_shares(train, test, orders, mix, size)
    return Split(np.sort(train), np.sort(test), pool, (size, test_size))


def _check_shares(train: np.ndarray, test: np.ndarray, orders: list[np.ndarray], mix: MixSpec, size: int) -> None:
    """A source whose pool ran out before its share of the train split was drawn: the other sources filled
    its places, which is not the mix asked for."""
    assert mix.weights is not None
    total = sum(w or 0 for w in mix.weights)
    for name, order, weight in zip(mix.names, orders, mix.weights):
        expected = int(size * (weight or 0) / total)
        got = int(np.isin(order, train).sum())
        if got < expected and got + int(np.isin(order, test).sum()) == order.size:
            raise CurateError(
                f"source {name!r} has {order.size} rows in the pool: {got} train rows, short of its share of "
                f"{expected} (weight {weight:g} of {total:g})",
                hint="lower sample.size or the source's weight, or set `sample.allow_smaller: true` to let the "
                "other sources fill its places",
            )
