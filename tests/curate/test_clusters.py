"""Dedup decided by the engine's clustering (bucket keys, verified candidate pairs, union-find, signatures in a
spill) gives exactly the verdicts of the filter's own all-in-memory `decide` (datasketch's MinHashLSH for
`scheme: minhash`, the verified scheme's own candidate pairs and union-find)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate import benchmarks, spill, steps
from curate.clusters import Components, bucket_pairs, identity
from curate.executors import LocalExecutor
from curate.recipe import parse_recipe
from curate.sample import OPENR1_SCHEMA, generate
from curate.table import SourceTable
from curate.tasks import FilterSpec
from filters import Drop, FilterContext
from tests import openr1_rows as rows

REAL = Path(__file__).resolve().parents[1] / "data" / "openr1_problems_with_regenerations.jsonl"


def corpus(tmp_path: Path) -> Path:
    """Real wordings that are near copies of each other (every published variant of the bundled benchmarks),
    real OpenR1 problems, the offline generator's rows with their planted near duplicates, and one problem
    repeated forty times with different correctness counts (a long run of identical signatures)."""
    import json

    problems = [item.problem for name in benchmarks.NAMES for item in benchmarks.load(name)]
    problems += [json.loads(line)["user_prompt"] for line in REAL.read_text().splitlines()]
    problems += ["Compute $1+1$."] * 40
    table = [rows.row(f"u{i:05d}", p, "1", [rows.trace("x", "1")]) for i, p in enumerate(problems)]
    for i, r in enumerate(table[-40:]):
        r["correctness_count"] = i % 3
    sample = generate(1500, 5).to_pylist()
    path = tmp_path / "corpus.parquet"
    pq.write_table(pa.Table.from_pylist(table + sample, schema=OPENR1_SCHEMA), path, row_group_size=300)
    return path


RECIPES = [
    "exact_dedup: {}",
    "exact_dedup: {prefer_correct: false}",
    "minhash_dedup: {scheme: minhash}",
    "minhash_dedup: {scheme: minhash, threshold: 0.5, ngram: 3}",
    "minhash_dedup: {scheme: minhash, threshold: 0.7, num_perm: 64}",
    "minhash_dedup: {scheme: minhash, threshold: 0.95, num_perm: 256, ngram: 2}",
    "minhash_dedup: {}",
    "minhash_dedup: {numbers: ignore}",
    "minhash_dedup: {threshold: 0.4, num_perm: 64, ngram: 2}",
    "minhash_dedup: {threshold: 0.9, numbers: ignore, prefer_correct: false}",
]


@pytest.mark.parametrize("workers", [1, 2])
def test_engine_clustering_equals_the_filters_own_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(spill, "BOUND", 1 << 16)  # signatures and keys go to disk after 64 KB
    monkeypatch.setattr(steps, "ROW_BATCH", 500)
    if workers == 2:  # also the path for more candidate rows than are held at once: fetched chunk by chunk
        monkeypatch.setattr(steps, "CANDIDATE_ROWS", 100)
        monkeypatch.setattr(steps, "PAIR_CHUNK", 64)
    table = SourceTable([corpus(tmp_path)])
    executor = LocalExecutor(workers)
    try:
        for text in RECIPES:
            recipe = parse_recipe(
                f"name: t\nsource: {{sample: true}}\noutput: {{dir: out}}\nfilters:\n  - {text}\n"
            )
            step = recipe.steps[0]
            f = step.cls(step.params, FilterContext())
            f.setup()
            frame = table.read(["uuid", *f.required_columns()])
            expected = {
                int(rid): v
                for rid, v in zip(frame["row_id"], f.decide(frame, f.signatures(frame)))
                if isinstance(v, Drop)
            }
            with spill.spill_folder() as folder:
                state = steps.RunState(np.ones(table.num_rows, dtype=bool), "k", folder)
                spec = FilterSpec(step.name, step.params_dict(), FilterContext())
                steps.run_filter_step(step, f, spec, table, state, executor, use_cache=False)
                result = pa.Table.from_batches(list(state.outputs[0].rows.batches()))
                assert state.outputs[0].rows.on_disk or result.num_rows * 100 < 1 << 16
            got = {
                rid: Drop(reason, detail, None)
                for rid, reason, detail in zip(
                    *(result.column(c).to_pylist() for c in ("row_id", "reason", "detail"))
                )
            }
            assert len(expected) > 40, text  # the repeats alone are 39 drops
            assert got == {rid: Drop(v.reason, v.detail, None) for rid, v in expected.items()}, text
            assert state.funnel[0]["rows_out"] == table.num_rows - len(expected)
    finally:
        executor.close()


def test_bucket_pairs_chain_identical_rows_and_pair_distinct_ones() -> None:
    # bucket (0, 7): rows 1, 5, 9 identical (digest 1), rows 3, 4 distinct; bucket (1, 7): rows 2, 8
    band = np.array([0, 0, 0, 0, 0, 1, 1, 0])
    key = np.array([7, 7, 7, 7, 7, 7, 7, 8], dtype=np.uint64)
    high = np.array([1, 1, 1, 2, 3, 4, 5, 6], dtype=np.uint64)
    low = np.zeros(8, dtype=np.uint64)
    row_id = np.array([9, 5, 1, 3, 4, 2, 8, 6])
    pairs = {tuple(p) for p in bucket_pairs(band, key, high, low, row_id).tolist()}
    assert pairs == {(1, 5), (5, 9), (1, 3), (1, 4), (3, 4), (2, 8)}


def test_bucket_pairs_first_only_pair_each_row_with_the_buckets_first_row() -> None:
    # bucket (0, 7) as above; bucket (2, 9): rows 10 and 11 identical, their digest sorting after 12's and 13's
    band = np.array([0, 0, 0, 0, 0, 2, 2, 2, 2])
    key = np.array([7, 7, 7, 7, 7, 9, 9, 9, 9], dtype=np.uint64)
    high = np.array([1, 1, 1, 2, 3, 9, 9, 1, 3], dtype=np.uint64)
    low = np.zeros(9, dtype=np.uint64)
    row_id = np.array([9, 5, 1, 3, 4, 11, 10, 12, 13])
    star = {tuple(p) for p in bucket_pairs(band, key, high, low, row_id, first_only=True).tolist()}
    assert star == {(1, 5), (5, 9), (1, 3), (1, 4), (10, 11), (10, 12), (10, 13)}
    every = {tuple(p) for p in bucket_pairs(band, key, high, low, row_id).tolist()}
    assert every == star | {(3, 4), (12, 13)}


def test_components_join_batches_of_edges_and_label_with_the_smallest_member() -> None:
    joined = Components(40)
    joined.join(np.array([10, 4]), np.array([4, 7]))
    joined.join(np.array([20, 30, 7]), np.array([30, 25, 2]))
    assert joined.same(np.array([10, 20]), np.array([2, 25])).tolist() == [True, True]
    assert not joined.same(np.array([10]), np.array([20]))[0]
    members, labels = joined.clusters()
    assert members.tolist() == [2, 4, 7, 10, 20, 25, 30]
    assert labels.tolist() == [2, 2, 2, 2, 20, 20, 20]
    # a long chain given in reverse order, in one batch, still ends in one cluster
    chain = Components(5000)
    chain.join(np.arange(4999, 0, -1), np.arange(4998, -1, -1))
    assert set(chain.clusters()[1].tolist()) == {0}


def test_identity_digests_equal_signatures_alike_whatever_their_type() -> None:
    fixed = pa.array([b"a" * 16, b"b" * 16, b"a" * 16], pa.binary(16))
    high, low = identity(fixed)
    assert (high[0], low[0]) == (high[2], low[2]) != (high[1], low[1])
    lists = pa.FixedSizeListArray.from_arrays(pa.array([1, 2, 3, 1, 2, 4, 1, 2, 3], pa.uint32()), 3)
    high, low = identity(lists.slice(0))
    assert (high[0], low[0]) == (high[2], low[2]) != (high[1], low[1])
    high, low = identity(pa.array(["x", "y", "x"]))
    assert high[0] == high[2] != high[1]
