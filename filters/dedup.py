"""`exact_dedup` and `minhash_dedup`: one row per problem, however often and however typed it was collected.

Both compare problems after `curate.textnorm.normalize` (case, spacing, LaTeX delimiters and spacing macros,
numbering and evaluation prompts do not matter) and group duplicates into clusters. One row per cluster
survives, chosen by a fixed rule so reruns agree: in a mixed recipe the row of the source listed first in
`sources:` (the engine adds the rows' `dataset_rank`), then the most correct generations
(`correctness_count`, when `prefer_correct` is on; a missing count counts as 0), then the lowest `uuid`,
then the earliest row. The others
are dropped with reason `duplicate` / `near_duplicate`; the detail names the survivor and the cluster, and
`info` holds `{cluster, survivor, similarity}` (similarity: 1.0 for exact duplicates, the estimated Jaccard
similarity to the survivor for near duplicates).

`minhash_dedup` shingles the normalised problem into word n-grams (`ngram` tokens, default 5: problems are
short, and word shingles ignore the spacing that char shingles would see), computes MinHash signatures in
bulk (`curate.minhash`, datasketch-compatible; the engine spreads this over its workers), indexes them in
datasketch's `MinHashLSH`, and unions every candidate pair whose estimated Jaccard similarity reaches
`threshold` (union-find, so a cluster is a connected component of verified pairs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import xxhash
from pydantic import Field

from curate import minhash, textnorm
from curate.cache import digest, source_code_hash
from filters import KEEP, Drop, FilterParams, GlobalFilter, Verdict, register

_SEED = 1  # datasketch's default MinHash seed
_VERIFY_PAIRS = 1 << 20  # candidate pairs compared per step (bounds the memory of the comparison)
# datasketch's (false positive, false negative) weights for choosing bands: every candidate pair is verified,
# so a false candidate costs one comparison and a missed pair a duplicate left in. At threshold 0.8 this gives
# 14 bands of 9 rows: a pair at Jaccard 0.85 is a candidate with probability 0.975 (0.69 with the default).
LSH_WEIGHTS = (0.1, 0.9)


def problem_keys(problems: Sequence[str | None]) -> list[bytes]:
    """128-bit digests of the normalised problems (equal digests = exact duplicates)."""
    return [xxhash.xxh3_128_digest(text.encode("utf-8")) for text in textnorm.normalize_many(problems)]


def problem_signatures(problems: Sequence[str | None], num_perm: int, ngram: int) -> np.ndarray:
    """MinHash signatures of the normalised problems: a pure function of its chunk, for any executor."""
    return minhash.signatures(textnorm.normalize_many(problems), num_perm=num_perm, ngram=ngram, seed=_SEED)


class _UnionFind:
    """Disjoint sets over row indices; a set's root is its smallest member."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def labels(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(len(self.parent))], dtype=np.int64)


class DedupParams(FilterParams):
    prefer_correct: bool = Field(
        True, description="survivor = most correct generations first (reads `correctness_count`)"
    )


class _Dedup(GlobalFilter):
    """Shared survivor rule, drop records and report of both dedup filters."""

    reason: str = ""

    def required_columns(self) -> tuple[str, ...]:
        prefer = self.params.prefer_correct  # type: ignore[attr-defined]
        return ("problem", "correctness_count") if prefer else ("problem",)

    def fingerprint_extra(self) -> str:
        return source_code_hash(textnorm, minhash)

    def _verdicts(
        self, frame: pl.DataFrame, labels: np.ndarray, similarity: Callable[[int, int], float]
    ) -> list[Verdict]:
        """Keep one row per label (cluster) by the survivor rule; drop the rest naming their survivor."""
        n = frame.height
        uuids = [u or "" for u in frame["uuid"].to_list()]
        if self.params.prefer_correct and "correctness_count" in frame.columns:  # type: ignore[attr-defined]
            correct = frame["correctness_count"].fill_null(0).to_numpy()
        else:
            correct = np.zeros(n, dtype=np.int64)
        ranks = frame["dataset_rank"].to_numpy() if "dataset_rank" in frame.columns else np.zeros(n, np.int64)
        order = sorted(range(n), key=lambda i: (labels[i], int(ranks[i]), -int(correct[i]), uuids[i], i))
        verdicts: list[Verdict] = [KEEP] * n
        cluster_ids: dict[int, int] = {}
        survivor = -1
        for position, i in enumerate(order):
            if position == 0 or labels[i] != labels[order[position - 1]]:
                survivor = i
                continue
            cluster = cluster_ids.setdefault(int(labels[i]), len(cluster_ids))
            score = round(similarity(i, survivor), 4)
            verdicts[i] = Drop(
                self.reason,
                f"{self.reason.replace('_', ' ')} of {uuids[survivor]} (cluster {cluster}, similarity {score:.2f})",
                {"cluster": cluster, "survivor": uuids[survivor], "similarity": score},
            )
        return verdicts

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any]:
        clusters: dict[int, dict[str, Any]] = {}
        for uuid, drop in drops:
            info = drop.info or {}
            entry = clusters.setdefault(
                info.get("cluster", -1), {"survivor": info.get("survivor"), "dropped": []}
            )
            entry["dropped"].append(uuid)
        sizes = Counter(len(c["dropped"]) + 1 for c in clusters.values())
        largest = sorted(clusters.items(), key=lambda kv: (-len(kv[1]["dropped"]), kv[0]))[:20]
        return {
            "rows_dropped": len(drops),
            "clusters": len(clusters),
            "cluster_sizes": {str(size): count for size, count in sorted(sizes.items())},
            "largest_clusters": [
                {
                    "cluster": cid,
                    "size": len(c["dropped"]) + 1,
                    "survivor": c["survivor"],
                    "dropped": sorted(c["dropped"])[:20],
                }
                for cid, c in largest
            ],
        }


@register("exact_dedup")
class ExactDedup(_Dedup):
    """Drop rows whose normalised problem equals an earlier-ranked row's (reason `duplicate`)."""

    Params = DedupParams
    reason = "duplicate"

    def signatures(self, rows: pl.DataFrame) -> pa.Array:
        return pa.array(problem_keys(rows["problem"].to_list()), pa.binary(16))

    def decide(self, rows: pl.DataFrame, signatures: pa.Array) -> list[Verdict]:
        keys = signatures.to_pylist()
        first: dict[bytes, int] = {}
        labels = np.array([first.setdefault(key, i) for i, key in enumerate(keys)], dtype=np.int64)
        return self._verdicts(rows, labels, lambda a, b: 1.0)

    def bucket_keys(self, signatures: pa.Array) -> np.ndarray:
        return _key_bytes(signatures)[:, :8].copy().view(np.uint64)

    def linked(self, left: pa.Array, right: pa.Array) -> np.ndarray:
        return (_key_bytes(left) == _key_bytes(right)).all(axis=1)

    def decide_clusters(self, rows: pl.DataFrame, labels: np.ndarray, signatures: pa.Array) -> list[Verdict]:
        return self._verdicts(rows, labels, lambda a, b: 1.0)


class MinHashDedupParams(DedupParams):
    threshold: float = Field(0.8, gt=0.0, le=1.0, description="estimated Jaccard similarity to merge at")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (signature length)")
    ngram: int = Field(5, ge=1, le=32, description="word shingle length, in tokens of the normalised text")


@register("minhash_dedup")
class MinHashDedup(_Dedup):
    """Drop near-duplicate problems found with MinHash LSH (reason `near_duplicate`)."""

    Params = MinHashDedupParams
    reason = "near_duplicate"

    def signatures(self, rows: pl.DataFrame) -> pa.Array:
        params: MinHashDedupParams = self.params  # type: ignore[assignment]
        sigs = problem_signatures(rows["problem"].to_list(), params.num_perm, params.ngram)
        return pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel(), pa.uint32()), params.num_perm)

    def decide(self, rows: pl.DataFrame, signatures: pa.Array) -> list[Verdict]:
        params: MinHashDedupParams = self.params  # type: ignore[assignment]
        flat = signatures.flatten().to_numpy() if len(signatures) else np.empty(0, np.uint32)
        sigs = flat.reshape(len(signatures), params.num_perm)
        labels = near_duplicate_labels(sigs, params.threshold)
        return self._verdicts(rows, labels, lambda a, b: float(minhash.estimated_jaccard(sigs[a], sigs[b])))

    def fingerprint_extra(self) -> str:
        return digest(super().fingerprint_extra(), _SEED, LSH_WEIGHTS)

    def _matrix(self, signatures: pa.Array) -> np.ndarray:
        params: MinHashDedupParams = self.params  # type: ignore[assignment]
        flat = signatures.flatten().to_numpy() if len(signatures) else np.empty(0, np.uint32)
        return flat.reshape(len(signatures), params.num_perm)

    def bucket_keys(self, signatures: pa.Array) -> np.ndarray:
        """A 64-bit hash of each LSH band, with datasketch's bands for `threshold` and `LSH_WEIGHTS`."""
        params: MinHashDedupParams = self.params  # type: ignore[assignment]
        sigs = self._matrix(signatures).astype(np.uint64)
        bands, rows = lsh_bands(params.threshold, params.num_perm)
        keys = np.empty((sigs.shape[0], bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for band in range(bands):
                h = np.full(sigs.shape[0], band + 1, dtype=np.uint64)
                for column in range(band * rows, (band + 1) * rows):
                    h = (h ^ sigs[:, column]) * np.uint64(0x100000001B3)
                keys[:, band] = (h ^ (h >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9)
        return keys

    def linked(self, left: pa.Array, right: pa.Array) -> np.ndarray:
        """Datasketch's candidates (one band equal) whose estimated Jaccard similarity reaches `threshold`."""
        params: MinHashDedupParams = self.params  # type: ignore[assignment]
        equal = self._matrix(left) == self._matrix(right)
        share = np.count_nonzero(equal, axis=1) / params.num_perm  # minhash.estimated_jaccard, without floats
        similar = np.flatnonzero(share >= params.threshold)
        bands, rows = lsh_bands(params.threshold, params.num_perm)
        shared = equal[similar, : bands * rows].reshape(similar.size, bands, rows).all(axis=2).any(axis=1)
        linked = np.zeros(len(equal), dtype=bool)
        linked[similar[shared]] = True
        return linked

    def decide_clusters(self, rows: pl.DataFrame, labels: np.ndarray, signatures: pa.Array) -> list[Verdict]:
        sigs = self._matrix(signatures)
        return self._verdicts(rows, labels, lambda a, b: float(minhash.estimated_jaccard(sigs[a], sigs[b])))


@lru_cache(maxsize=16)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """Datasketch's (bands, rows per band) for `threshold` and `LSH_WEIGHTS`: the LSH `near_duplicate_labels`
    builds, so the engine's bucket keys find the same candidates."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    return lsh.b, lsh.r


def _key_bytes(signatures: pa.Array) -> np.ndarray:
    """The 16-byte keys of `ExactDedup.signatures` as an (n, 16) uint8 array."""
    if len(signatures) == 0:
        return np.empty((0, 16), dtype=np.uint8)
    data = np.frombuffer(signatures.buffers()[1], dtype=np.uint8)
    return data[signatures.offset * 16 : (signatures.offset + len(signatures)) * 16].reshape(-1, 16)


def _bucket_pairs(lsh: Any) -> np.ndarray:
    """Every distinct pair of keys sharing a bucket in any band of the index, as an (m, 2) array."""
    parts = []
    for table in lsh.hashtables:
        for key, count in table.itemcounts().items():
            if count > 1:
                ids = np.sort(np.fromiter(table.get(key), dtype=np.int64, count=count))
                a, b = np.triu_indices(count, k=1)
                parts.append(np.stack([ids[a], ids[b]], axis=1))
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(parts), axis=0)


def near_duplicate_labels(sigs: np.ndarray, threshold: float) -> np.ndarray:
    """A cluster label per row (the smallest row index of its cluster).

    Rows with identical signatures are merged first; the distinct signatures go through datasketch's
    `MinHashLSH` (bands and rows chosen by datasketch for `threshold` and `LSH_WEIGHTS`), and each candidate
    pair from a shared bucket is merged when its estimated Jaccard similarity reaches `threshold`.
    """
    from datasketch import LeanMinHash, MinHashLSH

    n, num_perm = sigs.shape
    if n == 0:
        return np.empty(0, dtype=np.int64)
    rows = np.ascontiguousarray(sigs).view(np.dtype((np.void, sigs.dtype.itemsize * num_perm))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    distinct = np.sort(first)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    with lsh.insertion_session() as session:
        for i in distinct.tolist():
            session.insert(
                i, LeanMinHash(seed=_SEED, hashvalues=sigs[i], scheme="affine32"), check_duplication=False
            )
    union = _UnionFind(n)
    pairs = _bucket_pairs(lsh)
    for lo in range(0, pairs.shape[0], _VERIFY_PAIRS):
        part = pairs[lo : lo + _VERIFY_PAIRS]
        similar = minhash.estimated_jaccard(sigs[part[:, 0]], sigs[part[:, 1]]) >= threshold
        for a, b in part[similar].tolist():
            union.union(a, b)
    for i, j in enumerate(first[inverse].tolist()):
        if i != j:
            union.union(i, j)
    return union.labels()
