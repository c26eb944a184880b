"""Clusters of a clustering global filter (dedup) at any scale, without all signatures in one process.

A clustering filter gives every row a signature and `k` bucket keys (`GlobalFilter.bucket_keys`). Rows that
share a key in the same column (an LSH band, an exact hash) are candidates; `GlobalFilter.linked` verifies a
candidate pair from the two signatures; clusters are the connected components of verified pairs. Only three
things ever need every row at once, and all are compact: one key column at a time (8 bytes a row, grouped by
sorting, or by Ray Data across a cluster), a chunk of candidate pairs, and the union-find (8 bytes a row).
Signatures stay where they were computed (a spill on disk, or the Ray object store) and are fetched only for
rows in candidate pairs.

Rows with byte-identical signatures (same 128-bit digest) are chained to each other instead of paired
all-to-all, so a problem repeated ten thousand times costs ten thousand pairs, not fifty million; every pair,
chained or not, is still verified by `linked`. A filter whose `pairing` is "first" has each bucket's rows
paired with the bucket's first row only (star pairing), so near copies repeated thousands of times cost
linear work too.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import xxhash

PAIR_SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.int64())])


def identity(signatures: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A 128-bit digest of each row's signature, as two uint64 arrays (high, low)."""
    signatures = signatures.combine_chunks() if isinstance(signatures, pa.ChunkedArray) else signatures
    n = len(signatures)
    kind = signatures.type
    if pa.types.is_fixed_size_binary(kind) or pa.types.is_fixed_size_list(kind):
        if pa.types.is_fixed_size_binary(kind):
            width = kind.byte_width
            data = np.frombuffer(signatures.buffers()[1], dtype=np.uint8)
            rows = data[signatures.offset * width : (signatures.offset + n) * width].reshape(n, width)
        else:
            values = signatures.flatten().to_numpy(zero_copy_only=False)
            rows = np.ascontiguousarray(values).view(np.uint8).reshape(n, -1)
        digests = [xxhash.xxh3_128_intdigest(row.tobytes()) for row in rows]
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        digests = [xxhash.xxh3_128_intdigest(value or b"") for value in signatures.to_pylist()]
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        digests = [
            xxhash.xxh3_128_intdigest((value or "").encode("utf-8")) for value in signatures.to_pylist()
        ]
    else:
        raise TypeError(f"clustering signatures must be fixed-size or binary, not {kind}")
    high = np.fromiter((d >> 64 for d in digests), dtype=np.uint64, count=n)
    low = np.fromiter((d & 0xFFFFFFFFFFFFFFFF for d in digests), dtype=np.uint64, count=n)
    return high, low


def bucket_pairs(
    band: np.ndarray,
    key: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    row_id: np.ndarray,
    *,
    first_only: bool = False,
) -> np.ndarray:
    """Candidate pairs (of `row_id` values, smaller first) among rows sharing a (band, key) bucket: each run of
    identical signatures chained, and the first row of each distinct signature paired with every other one,
    or with `first_only` (a filter whose `pairing` is "first") with the bucket's first row only."""
    if row_id.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    # Most rows share no bucket: find the shared (band, key) values first, and sort only their rows in full.
    order = np.argsort(key) if (band == band[0]).all() else np.lexsort((key, band))
    sorted_band, sorted_key = band[order], key[order]
    same = (sorted_band[1:] == sorted_band[:-1]) & (sorted_key[1:] == sorted_key[:-1])
    shared = np.zeros(row_id.size, dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    pick = order[shared]
    band, key, high, low, row_id = band[pick], key[pick], high[pick], low[pick], row_id[pick]
    if row_id.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.lexsort((row_id, low, high, key, band))
    band, key, high, low, row_id = band[order], key[order], high[order], low[order], row_id[order]
    new_bucket = np.ones(row_id.size, dtype=bool)
    new_bucket[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    new_identity = new_bucket.copy()
    new_identity[1:] |= (high[1:] != high[:-1]) | (low[1:] != low[:-1])
    repeat = np.flatnonzero(~new_identity)
    parts = [np.stack([row_id[repeat - 1], row_id[repeat]], axis=1)]
    firsts = np.flatnonzero(new_identity)
    bucket = (np.cumsum(new_bucket) - 1)[firsts]
    sizes = np.bincount(bucket)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    if first_only:  # each distinct signature with the bucket's smallest row id: linear in the bucket's size
        lead = np.minimum.reduceat(row_id[firsts], start)[bucket]
        other = row_id[firsts] != lead
        parts.append(np.stack([lead[other], row_id[firsts][other]], axis=1))
        pairs = np.concatenate(parts)
        return np.stack([pairs.min(axis=1), pairs.max(axis=1)], axis=1)
    pairs_of = sizes[bucket] == 2
    head = firsts[pairs_of & (np.arange(firsts.size) == start[bucket])]
    nxt = firsts[np.searchsorted(firsts, head) + 1]
    parts.append(np.stack([row_id[head], row_id[nxt]], axis=1))
    big = np.flatnonzero(sizes > 2)
    for size in np.unique(sizes[big]).tolist():  # all pairs within the larger buckets, size by size
        buckets = big[sizes[big] == size]
        members = row_id[firsts[start[buckets][:, None] + np.arange(size)]]
        i, j = np.triu_indices(size, k=1)
        parts.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
    pairs = np.concatenate(parts)
    return np.stack([pairs.min(axis=1), pairs.max(axis=1)], axis=1)


class Components:
    """Union-find over `n` rows (positions) in one int64 array, joined a batch of edges at a time: each root
    is hooked under the smallest root it meets, so a component's root is its smallest position; roots are
    found by pointer jumping on the rows asked about, and the whole array is flattened every
    `FLATTEN_EVERY` joins to keep paths short. No per-row Python objects: 8 bytes a row."""

    FLATTEN_EVERY = 64

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)
        self._joins = 0

    def _roots(self, x: np.ndarray) -> np.ndarray:
        roots = self.parent[x]
        while True:
            up = self.parent[roots]
            if np.array_equal(up, roots):
                return roots
            roots = up

    def _flatten(self) -> None:
        while True:
            grand = self.parent[self.parent]
            if np.array_equal(grand, self.parent):
                return
            self.parent = grand

    def same(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._roots(a) == self._roots(b)

    def join(self, a: np.ndarray, b: np.ndarray) -> None:
        while True:
            root_a, root_b = self._roots(a), self._roots(b)
            differ = root_a != root_b
            if not differ.any():
                break
            low = np.minimum(root_a[differ], root_b[differ])
            high = np.maximum(root_a[differ], root_b[differ])
            np.minimum.at(self.parent, high, low)
        self._joins += 1
        if self._joins % self.FLATTEN_EVERY == 0:
            self._flatten()

    def clusters(self) -> tuple[np.ndarray, np.ndarray]:
        """The positions in components of two or more, and each one's label (its component's smallest)."""
        self._flatten()
        sizes = np.bincount(self.parent, minlength=self.parent.size)
        members = np.flatnonzero(sizes[self.parent] >= 2)
        return members, self.parent[members]
