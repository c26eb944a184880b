"""Sampling: deterministic, nested across sizes, test split disjoint and stable, weights and strata honoured."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.draw import draw, rank
from curate.errors import CurateError

SOURCES = ["olympiads"] * 6000 + ["cn_k12"] * 3000 + ["amc_aime"] * 1000


def pool(n: int = 10_000) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_id": np.arange(n, dtype=np.int64),
            "uuid": [f"{i:08x}-uuid" for i in range(n)],
            "source": SOURCES[:n],
        }
    )


def take(frame: pl.DataFrame, size: int | None, test_size: int = 200, **kw) -> tuple[set[int], set[int]]:
    options = {
        "seed": 20260515,
        "weights": {},
        "weight_by": "source",
        "stratify": None,
        "allow_smaller": False,
    }
    options.update(kw)
    split = draw(frame, size=size, test_size=test_size, **options)
    return set(split.train.tolist()), set(split.test.tolist())


def test_nested_and_disjoint() -> None:
    frame = pool()
    small_train, small_test = take(frame, 4500)
    big_train, big_test = take(frame, 9000)
    assert len(small_train) == 4500 and len(big_train) == 9000
    assert small_train <= big_train
    assert small_test == big_test
    assert not small_test & big_train


def test_deterministic_and_order_independent() -> None:
    frame = pool()
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    assert take(frame, 3000) == take(shuffled, 3000)
    other_seed = take(frame, 3000, seed=1)
    assert other_seed[0] != take(frame, 3000)[0]


def test_pool_growth_keeps_nesting() -> None:
    """Rows that survive in both pools keep their relative order: a draw from a pool is a draw from any superset
    restricted to it."""
    full = pool()
    subset = full.filter(pl.col("row_id") % 3 != 0)
    order_full = [r for r in rank(full, 5, {}, "source", None).tolist() if r % 3 != 0]
    assert order_full == rank(subset, 5, {}, "source", None).tolist()


def test_weights_raise_a_sources_share() -> None:
    frame = pool()
    plain, _ = take(frame, 2000, test_size=0)
    weighted, _ = take(frame, 2000, test_size=0, weights={"amc_aime": 3.0})
    amc = set(range(9000, 10_000))
    assert abs(len(plain & amc) - 200) < 45  # 10% share without weights
    assert len(weighted & amc) > 1.8 * len(plain & amc)
    smaller, _ = take(frame, 1000, test_size=0, weights={"amc_aime": 3.0})
    assert smaller <= weighted


def test_stratify_keeps_proportions_in_every_prefix() -> None:
    frame = pool()
    for size in (100, 1000, 5000):
        train, _ = take(frame, size, test_size=0, stratify="source")
        counts = frame.filter(pl.col("row_id").is_in(list(train)))["source"].value_counts()
        share = dict(zip(counts["source"].to_list(), counts["count"].to_list()))
        assert share["olympiads"] == pytest.approx(0.6 * size, abs=1)
        assert share["amc_aime"] == pytest.approx(0.1 * size, abs=1)
    assert take(frame, 100, 0, stratify="source")[0] <= take(frame, 1000, 0, stratify="source")[0]


def test_too_small_pool() -> None:
    frame = pool(300)
    with pytest.raises(CurateError, match="only 300 rows survive the filters, fewer than the 1200 requested"):
        take(frame, 1000)
    train, test = take(frame, 1000, allow_smaller=True)
    assert len(test) == 200 and len(train) == 100 and not train & test


def test_keep_all_survivors_without_size() -> None:
    train, test = take(pool(500), None, test_size=50)
    assert len(train) == 450 and len(test) == 50
