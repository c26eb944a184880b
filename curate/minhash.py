"""Shingle hashing and MinHash signatures in bulk, with numpy.

Everything here is a pure function of a list of already-normalised texts (see `curate.textnorm`), so a
chunk can be hashed in any process (a local pool, a Ray worker) and the results merged on the driver.

Shingles are hashed without building a Python string per shingle: the texts of a block are laid out as one
array of code points, a polynomial prefix hash over it gives the hash of any span in O(1) (`(P[b] - P[a]) *
B^-a` modulo 2^64), and each span hash is finished with the 64-bit MurmurHash3 mixer. `shingle_hash` is the
same function for one Python string, the reference the vectorised path is tested against.

Signatures follow datasketch 2.0's default `affine32` scheme exactly: the 32-bit input hash of a shingle (the
top half of its 64-bit hash) is pre-mixed with the 32-bit MurmurHash3 finalizer, then permuted by `a * h + b
mod 2^32` with datasketch's own parameters for `(num_perm, seed)`, and the minimum per permutation is kept.
So `signatures(texts)[i]` equals the `hashvalues` of
`datasketch.MinHash(num_perm, seed, hashfunc=lambda s: shingle_hash(s) >> 32)` updated with the shingles of
`texts[i]`, and rows can be indexed in `datasketch.MinHashLSH` as `LeanMinHash(seed=..., hashvalues=...,
scheme="affine32")`. Instead of one `update()` per shingle, a block of shingles meets all permutations in
one (permutations x shingles) array, and `np.minimum.reduceat` takes the per-text minimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np

Unit = Literal["word", "char"]

# Signature slots of a text with no shingles: datasketch's value for an empty MinHash.
EMPTY = np.uint32(0xFFFFFFFF)
# Texts per block: keeps the per-block arrays (code points, prefix hashes) a few MB.
_BLOCK_TEXTS = 2048
# Shingles per step of `signatures_from_hashes`: a (num_perm x this) uint32 buffer, 4 MB at 128 permutations.
_SIG_SHINGLES = 8192

_BASE = 0x9E3779B97F4A7C15  # odd, so it is invertible modulo 2^64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_MASK64 = (1 << 64) - 1
_U64 = np.uint64


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def shingle_hash(text: str) -> int:
    """The 64-bit hash of one shingle string; `shingle_hashes` computes the same values in bulk."""
    value, power = 0, 1
    for ch in text:
        value = (value + (ord(ch) + 1) * power) & _MASK64
        power = (power * _BASE) & _MASK64
    return int(_fmix64(np.array([value], dtype=np.uint64))[0])


def shingles(text: str, ngram: int, unit: Unit = "word") -> list[str]:
    """The shingle strings of one normalised text (reference for tests; `shingle_hashes` never builds them).

    Word shingles are `ngram` consecutive tokens joined by single spaces; char shingles are windows of
    `ngram` characters. A non-empty text shorter than one shingle is a single shingle; an empty text has none.
    """
    if not text:
        return []
    if unit == "char":
        return [text[i : i + ngram] for i in range(max(len(text) - ngram + 1, 1))]
    words = text.split(" ")
    return [" ".join(words[i : i + ngram]) for i in range(max(len(words) - ngram + 1, 1))]


class _Powers:
    """B^i and B^-i modulo 2^64 for i < n, grown on demand and shared by every call in the process."""

    def __init__(self) -> None:
        self.forward = np.ones(1, dtype=np.uint64)
        self.inverse = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.forward.size < n:
            size = max(n, 2 * self.forward.size)
            with np.errstate(over="ignore"):
                self.forward = np.cumprod(np.full(size, _BASE, dtype=np.uint64)) * _U64(_BASE_INV)
                self.inverse = np.cumprod(np.full(size, _BASE_INV, dtype=np.uint64)) * _U64(_BASE)
        return self.forward[:n], self.inverse[:n]


_POWERS = _Powers()


def _block_hashes(texts: Sequence[str], ngram: int, unit: Unit) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of one block of texts and the number of shingles of each text."""
    if ngram < 1:
        raise ValueError(f"ngram must be >= 1, got {ngram}")
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    codes = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    forward, inverse = _POWERS.get(codes.size + 1)
    prefix = np.zeros(codes.size + 1, dtype=np.uint64)
    np.cumsum((codes + _U64(1)) * forward[: codes.size], out=prefix[1:])

    if unit == "char":
        counts = np.where(lengths >= ngram, lengths - ngram + 1, np.minimum(lengths, 1))
        owner = np.repeat(np.arange(len(texts)), counts)
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        begin = starts[owner] + (np.arange(owner.size) - first[owner])
        end = np.minimum(begin + ngram, starts[owner] + lengths[owner])
    else:
        blank = (codes == 32) | (codes == 0)
        edge = np.diff(np.concatenate(([True], blank, [True])).astype(np.int8))
        tok_begin = np.flatnonzero(edge == -1)
        tok_end = np.flatnonzero(edge == 1)
        tok_text = np.searchsorted(starts, tok_begin, side="right") - 1
        per_text = np.bincount(tok_text, minlength=len(texts))
        tok_first = np.concatenate(([0], np.cumsum(per_text)[:-1]))
        last = np.arange(tok_begin.size) + ngram - 1
        full = last < tok_begin.size
        full[full] = tok_text[last[full]] == tok_text[full]
        short = (per_text[tok_text] < ngram) & (np.arange(tok_begin.size) == tok_first[tok_text])
        keep = full | short
        last = np.where(full, last, tok_first[tok_text] + per_text[tok_text] - 1)[keep]
        begin, end = tok_begin[keep], tok_end[last]
        counts = np.bincount(tok_text[keep], minlength=len(texts))
    with np.errstate(over="ignore"):
        spans = (prefix[end] - prefix[begin]) * inverse[begin]
        return _fmix64(spans), counts


def shingle_hashes(texts: Sequence[str], ngram: int, unit: Unit = "word") -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every shingle of every text, in text order, and offsets (`len(texts) + 1`) such
    that the shingles of text i are `hashes[offsets[i]:offsets[i + 1]]`. Equal to
    `[shingle_hash(s) for s in shingles(text, ngram, unit)]` text by text."""
    parts, counts = [], []
    for i in range(0, len(texts), _BLOCK_TEXTS):
        hashes, count = _block_hashes(texts[i : i + _BLOCK_TEXTS], ngram, unit)
        parts.append(hashes)
        counts.append(count)
    if not parts:
        return np.empty(0, dtype=np.uint64), np.zeros(1, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(np.concatenate(counts)))).astype(np.int64)
    return np.concatenate(parts), offsets


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters `(a, b)` for `(num_perm, seed)`."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def signatures(
    texts: Sequence[str], *, num_perm: int = 128, ngram: int = 5, unit: Unit = "word", seed: int = 1
) -> np.ndarray:
    """MinHash signatures, one row of `num_perm` uint32 values per text (see the module docstring)."""
    parts = [np.empty((0, num_perm), dtype=np.uint32)]
    for lo in range(0, len(texts), _BLOCK_TEXTS):
        hashes, counts = _block_hashes(texts[lo : lo + _BLOCK_TEXTS], ngram, unit)
        offsets = np.concatenate(([0], np.cumsum(counts)))
        parts.append(signatures_from_hashes(hashes, offsets, num_perm=num_perm, seed=seed))
    return np.concatenate(parts)


def signatures_from_hashes(
    hashes: np.ndarray, offsets: np.ndarray, *, num_perm: int = 128, seed: int = 1
) -> np.ndarray:
    """Signatures of sets given as 64-bit shingle hashes (`shingle_hashes` output): set i is
    `hashes[offsets[i]:offsets[i + 1]]`; an empty set gets `EMPTY` in every slot."""
    a, b = permutations(num_perm, seed)
    counts = np.diff(offsets)
    out = np.full((counts.size, num_perm), EMPTY, dtype=np.uint32)
    values = _fmix32((hashes >> _U64(32)).astype(np.uint32))
    rows = np.flatnonzero(counts)
    bounds = np.concatenate(([0], np.cumsum(counts[rows]))) + offsets[0]
    _minimum_per_text(values, bounds, a, b, out, rows)
    return out


def _minimum_per_text(
    values: np.ndarray, bounds: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray, rows: np.ndarray
) -> None:
    """out[rows[j]] = min over values[bounds[j]:bounds[j+1]] of a * v + b, a few hundred texts at a time.

    One (permutations x shingles) buffer is reused for every step, so each step is three passes over memory
    that stays in cache: multiply, add, and the per-text minimum.
    """
    buffer = np.empty((a.size, _SIG_SHINGLES), dtype=np.uint32)
    column_a, column_b = a[:, None], b[:, None]
    j = 0
    while j < rows.size:
        k = int(np.searchsorted(bounds, bounds[j] + _SIG_SHINGLES, side="right")) - 1
        k = min(max(k, j + 1), rows.size)
        lo, hi = int(bounds[j]), int(bounds[k])
        permuted = (
            buffer[:, : hi - lo] if hi - lo <= _SIG_SHINGLES else np.empty((a.size, hi - lo), np.uint32)
        )
        np.multiply(column_a, values[lo:hi], out=permuted)
        np.add(permuted, column_b, out=permuted)
        out[rows[j:k]] = np.minimum.reduceat(permuted, bounds[j:k] - lo, axis=1).T
        j = k


def estimated_jaccard(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Share of equal slots of two signatures (or, row by row, of two stacks of them): datasketch's `jaccard`."""
    return (left == right).mean(axis=-1)
