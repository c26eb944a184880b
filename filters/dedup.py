"""`exact_dedup` and `minhash_dedup`: one row per problem, however often and however typed it was collected.

Both compare problems after `curate.textnorm.normalize` (case, spacing, LaTeX delimiters and spacing macros,
numbering and evaluation prompts do not matter) and group duplicates into clusters. One row per cluster
survives, chosen by a fixed rule so reruns agree: in a mixed recipe the row of the source listed first in
`sources:` (the engine adds the rows' `dataset_rank`), then the most correct generations
(`correctness_count`, when `prefer_correct` is on; a missing count counts as 0), then the lowest `uuid`,
then the earliest row. The others
are dropped with reason `duplicate` / `near_duplicate`; the detail names the survivor and the cluster, and
`info` holds `{cluster, survivor, similarity}` (similarity: 1.0 for exact duplicates; for near duplicates the
exact character-gram Jaccard similarity to the survivor, or the MinHash estimate under `scheme: minhash`).

`minhash_dedup` has two schemes (`scheme`):

- `verified` (default), built for short competition problems, where one changed word moves word-5-gram
  MinHash far below any useful threshold. Each problem is normalised, its grouping parentheses dropped
  (`textnorm.without_grouping`) and its numbers masked (`textnorm.mask_numbers`). Candidates come from
  MinHash over word 3-grams of that text, banded `CANDIDATE_ROWS` rows per band (a pair at Jaccard 0.5 is a
  candidate with probability 0.87, at 0.6 with 0.99); a band's bucket key also holds the problem's numbers, so
  only problems with the same numbers meet. Every candidate pair is then verified exactly: the Jaccard
  similarity of the two problems' character 5-gram sets must reach `threshold` (0.6), and their numbers must
  stand in the same places (`textnorm.same_places`: "AB = 5, BC = 8" is not "AB = 8, BC = 5") and in the
  same order within their clauses (`same_order`: "10 red, 30 green and 7 white balls" is not "7 green, 30
  blue and 10 white balls"). Problems that differ only in their numbers are distinct problems; with
  `numbers: ignore` they meet, and merge. Problems that swap one term for another of its kind (`curate.terms`:
  a square for a rhombus, red for green, the largest for the smallest) are distinct too; with `terms: ignore`
  their similarity alone decides. Clusters are connected components of verified pairs (union-find),
  and each bucket pairs its members with the bucket's first member only, so a problem repeated thousands of
  times costs linear work.
- `minhash`: the earlier scheme, kept for comparison: word 5-gram shingles of the normalised problem,
  MinHash signatures (`curate.minhash`, datasketch-compatible) indexed in datasketch's `MinHashLSH`, every
  candidate pair whose estimated Jaccard similarity reaches `threshold` merged.

`scripts/measure_dedup.py` measures both on the same near-duplicate pairs and distinct problems.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa
import xxhash
from pydantic import Field

from curate import minhash, terms, textnorm
from curate.cache import digest
from curate.filters import KEEP, Drop, FilterParams, GlobalFilter, Verdict, register

D = TypeVar("D", bound="DedupParams")
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


class _Dedup(GlobalFilter[D]):
    """Shared survivor rule, drop records and report of both dedup filters."""

    reason: str = ""

    def required_columns(self) -> tuple[str, ...]:
        prefer = self.params.prefer_correct
        return ("problem", "correctness_count") if prefer else ("problem",)

    def _verdicts(
        self, frame: pl.DataFrame, labels: np.ndarray, similarity: Callable[[int, int], float]
    ) -> list[Verdict]:
        """Keep one row per label (cluster) by the survivor rule; drop the rest naming their survivor."""
        n = frame.height
        uuids = [u or "" for u in frame["uuid"].to_list()]
        if self.params.prefer_correct and "correctness_count" in frame.columns:
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
class ExactDedup(_Dedup[DedupParams]):
    """Drop rows whose normalised problem equals an earlier-ranked row's (reason `duplicate`)."""

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


# The similarity a scheme merges at when the recipe gives no `threshold`: the verified scheme's exact
# character-gram Jaccard (chosen on the tuning half of scripts/measure_dedup.py), the MinHash scheme's estimate.
DEFAULT_THRESHOLD = {"verified": 0.6, "minhash": 0.8}
DEFAULT_NGRAM = {"verified": 3, "minhash": 5}
CANDIDATE_ROWS = 4  # MinHash values per band of the verified scheme: 32 bands of 4 at 128 permutations
VERIFY_NGRAM = 5  # character grams of the exact verification


class MinHashDedupParams(DedupParams):
    scheme: Literal["verified", "minhash"] = Field(
        "verified",
        description="verified: candidates verified exactly, built for short problems; minhash: the earlier scheme",
    )
    threshold: float | None = Field(
        None, gt=0.0, le=1.0, description="similarity to merge at (default: 0.6 verified, 0.8 minhash)"
    )
    numbers: Literal["distinct", "ignore"] = Field(
        "distinct", description="problems that differ only in their numbers: distinct (kept) or merged"
    )
    terms: Literal["distinct", "ignore"] = Field(
        "distinct",
        description="problems that swap a term for another of its kind (square/rhombus, largest/smallest): "
        "distinct (kept) or decided by their similarity alone",
    )
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (signature length)")
    ngram: int | None = Field(
        None, ge=1, le=32, description="word shingle length of the MinHash (default: 3 verified, 5 minhash)"
    )


@register("minhash_dedup")
class MinHashDedup(_Dedup[MinHashDedupParams]):
    """Drop near-duplicate problems (reason `near_duplicate`): candidates from MinHash, verified exactly
    (`scheme: verified`), or the estimated similarity alone (`scheme: minhash`).

    Both schemes are clustering filters (`GlobalFilter.bucket_keys`), decided by the engine at any scale. A
    verified signature is the text verification reads (`comparison_texts`, about as long as the problem), not
    its MinHash: the MinHash is computed once, for the bucket keys, where the signature is made."""

    reason = "near_duplicate"

    @property
    def threshold(self) -> float:
        params = self.params
        return params.threshold if params.threshold is not None else DEFAULT_THRESHOLD[params.scheme]

    @property
    def ngram(self) -> int:
        return self.params.ngram or DEFAULT_NGRAM[self.params.scheme]

    @property
    def _verified(self) -> bool:
        return self.params.scheme == "verified"

    @property
    def _numbers_distinct(self) -> bool:
        return self.params.numbers == "distinct"

    @property
    def _terms_distinct(self) -> bool:
        return self.params.terms == "distinct"

    @property
    def pairing(self) -> Literal["all", "first"]:
        """The verified scheme pairs each bucket's rows with its first row (`candidate_pairs`)."""
        return "first" if self._verified else "all"

    def signatures(self, rows: pl.DataFrame) -> pa.Array:
        params = self.params
        problems = rows["problem"].to_list()
        if self._verified:
            texts = comparison_texts(
                problems, numbers_distinct=self._numbers_distinct, terms_distinct=self._terms_distinct
            )
            return pa.array(texts, pa.string())
        sigs = problem_signatures(problems, params.num_perm, self.ngram)
        return pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel(), pa.uint32()), params.num_perm)

    def decide(self, rows: pl.DataFrame, signatures: pa.Array) -> list[Verdict]:
        if self._verified:
            found = verified_labels(
                signatures.to_pylist(),
                self.params.num_perm,
                self.ngram,
                self.threshold,
                numbers_distinct=self._numbers_distinct,
                terms_distinct=self._terms_distinct,
            )
            return self._verdicts(rows, found.labels, found.similarity)
        sigs = self._matrix(signatures)
        labels = near_duplicate_labels(sigs, self.threshold)
        return self._verdicts(rows, labels, lambda a, b: float(minhash.estimated_jaccard(sigs[a], sigs[b])))

    def fingerprint_extra(self) -> str:
        return digest(super().fingerprint_extra(), _SEED, LSH_WEIGHTS, CANDIDATE_ROWS, VERIFY_NGRAM)

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any]:
        """The clusters, and the settings that made them (the card shows both)."""
        params = self.params
        settings = {
            "scheme": params.scheme,
            "threshold": self.threshold,
            "numbers": params.numbers,
            "terms": params.terms,
        }
        return {**settings, "ngram": self.ngram, **super().report(drops)}

    def _matrix(self, signatures: pa.Array) -> np.ndarray:
        params = self.params
        flat = signatures.flatten().to_numpy() if len(signatures) else np.empty(0, np.uint32)
        return flat.reshape(len(signatures), params.num_perm)

    def bucket_keys(self, signatures: pa.Array) -> np.ndarray:
        """The verified scheme's band keys (`band_keys`); under `scheme: minhash` a 64-bit hash of each LSH
        band, with datasketch's bands for `threshold` and `LSH_WEIGHTS`."""
        params = self.params
        if self._verified:
            sigs, keys = view_signatures(signatures.to_pylist(), params.num_perm, self.ngram)
            return band_keys(sigs, keys if self._numbers_distinct else None)
        sigs = self._matrix(signatures).astype(np.uint64)
        bands, rows = lsh_bands(self.threshold, params.num_perm)
        keys = np.empty((sigs.shape[0], bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for band in range(bands):
                h = np.full(sigs.shape[0], band + 1, dtype=np.uint64)
                for column in range(band * rows, (band + 1) * rows):
                    h = (h ^ sigs[:, column]) * np.uint64(0x100000001B3)
                keys[:, band] = (h ^ (h >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9)
        return keys

    def linked(self, left: pa.Array, right: pa.Array) -> np.ndarray:
        """The verified scheme's exact verification (`Verification.linked`); under `scheme: minhash`
        datasketch's candidates (one band equal) whose estimated Jaccard similarity reaches `threshold`."""
        params = self.params
        if self._verified:
            return verify_pairs(
                left.to_pylist(),
                right.to_pylist(),
                self.threshold,
                numbers_distinct=self._numbers_distinct,
                terms_distinct=self._terms_distinct,
            )
        equal = self._matrix(left) == self._matrix(right)
        share = np.count_nonzero(equal, axis=1) / params.num_perm  # minhash.estimated_jaccard, without floats
        similar = np.flatnonzero(share >= self.threshold)
        bands, rows = lsh_bands(self.threshold, params.num_perm)
        shared = equal[similar, : bands * rows].reshape(similar.size, bands, rows).all(axis=2).any(axis=1)
        linked = np.zeros(len(equal), dtype=bool)
        linked[similar[shared]] = True
        return linked

    def decide_clusters(self, rows: pl.DataFrame, labels: np.ndarray, signatures: pa.Array) -> list[Verdict]:
        if self._verified:
            grams = _gram_sets(signatures.to_pylist())
            return self._verdicts(rows, labels, lambda a, b: _jaccard(grams[a], grams[b]))
        sigs = self._matrix(signatures)
        return self._verdicts(rows, labels, lambda a, b: float(minhash.estimated_jaccard(sigs[a], sigs[b])))


# ------------------------------------------------------------------------------------------ verified scheme


_SPELLED_MARK = "\x1f"  # a control character, which `textnorm.normalize` never leaves in a text


def comparison_texts(
    problems: Sequence[str | None], *, numbers_distinct: bool = True, terms_distinct: bool = True
) -> list[str]:
    """The verified scheme's signature of each problem, the one text everything else is computed from: the
    normalised problem without its grouping parentheses (`textnorm.without_grouping`), or with `numbers:
    ignore`, which never reads the numbers, that text with its numbers masked; then, when terms count, after a
    control character, the spelled words of the problem as typed (`terms.spelled`), which normalising
    lower-cases."""
    plain = [textnorm.without_grouping(text) for text in textnorm.normalize_many(problems)]
    if not numbers_distinct:
        plain = [textnorm.mask_numbers(text) for text in plain]
    if not terms_distinct:
        return plain
    words = [terms.spelled(problem or "") for problem in problems]
    return [
        f"{text}{_SPELLED_MARK}{' '.join(spelled)}" if spelled else text
        for text, spelled in zip(plain, words)
    ]


def _text(signature: str) -> str:
    """The normalised problem of a comparison text (`comparison_texts`), without its spelled words."""
    return signature.split(_SPELLED_MARK, 1)[0]


def _spelled(signature: str) -> list[str]:
    _, _, words = signature.partition(_SPELLED_MARK)
    return words.split()


def view_signatures(texts: Sequence[str], num_perm: int, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of each comparison text's view (word `ngram`-grams) and a 64-bit key of its numbers
    (the sorted multiset): a pure function of its chunk, for any executor."""
    plain = [_text(text) for text in texts]
    views = [textnorm.mask_numbers(text) for text in plain]  # typesetting and numbers never change a gram
    sigs = minhash.signatures(views, num_perm=num_perm, ngram=ngram, seed=_SEED)
    keys = np.fromiter(
        (xxhash.xxh3_64_intdigest(" ".join(sorted(textnorm.numbers(t))).encode()) for t in plain),
        dtype=np.uint64,
        count=len(texts),
    )
    return sigs, keys


_U64 = np.uint64


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    return h ^ (h >> _U64(33))


def band_keys(sigs: np.ndarray, keys: np.ndarray | None, rows_per_band: int = CANDIDATE_ROWS) -> np.ndarray:
    """A 64-bit bucket key per row and band of `rows_per_band` signature values, holding the row's numbers
    key when `keys` is given (so only problems with the same numbers meet): a (rows, bands) array."""
    n, num_perm = sigs.shape
    out = np.empty((n, num_perm // rows_per_band), dtype=np.uint64)
    wide = sigs.astype(np.uint64)
    with np.errstate(over="ignore"):
        salt = _mix(keys.astype(np.uint64) + _U64(0x9E3779B97F4A7C15)) if keys is not None else _U64(0)
        for band in range(out.shape[1]):
            h = np.full(n, band + 1, dtype=np.uint64) * _U64(0xC2B2AE3D27D4EB4F)
            for column in wide[:, band * rows_per_band : (band + 1) * rows_per_band].T:
                h = _mix(h * _U64(0x100000001B3) + column)
            out[:, band] = h ^ salt
    return out


def candidate_pairs(
    sigs: np.ndarray, keys: np.ndarray | None, rows_per_band: int = CANDIDATE_ROWS
) -> np.ndarray:
    """Distinct (a, b) pairs, a < b, of rows that share a band key (`band_keys`). Each bucket pairs its
    members with its first member only: linear in the bucket's size."""
    n = sigs.shape[0]
    parts = []
    for h in band_keys(sigs, keys, rows_per_band).T:
        order = np.argsort(h, kind="stable")
        ordered = h[order]
        starts = np.concatenate(([True], ordered[1:] != ordered[:-1]))
        first = order[np.flatnonzero(starts)][np.cumsum(starts) - 1]
        member = ~starts
        if member.any():
            parts.append(np.stack([first[member], order[member]], axis=1))
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(parts), axis=1).astype(np.int64)
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([codes // n, codes % n], axis=1)


class VerifiedClusters:
    """Cluster labels of the verified scheme, and the exact similarity of any two rows it compared."""

    def __init__(self, labels: np.ndarray, grams: dict[int, frozenset[int]]) -> None:
        self.labels = labels
        self._grams = grams

    def similarity(self, a: int, b: int) -> float:
        return _jaccard(self._grams.get(a, frozenset()), self._grams.get(b, frozenset()))


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


_CLAUSE_ENDS = frozenset([".", "?", "!", ";", ","])


def number_order(view: str) -> list[tuple[str, ...]]:
    """The numbers of each clause (split at `.`, `?`, `!`, `;` and `,`) of a normalised view, in order; clauses
    without numbers left out."""
    out: list[tuple[str, ...]] = []
    current: list[str] = []
    for token in view.split(" "):
        if token in _CLAUSE_ENDS:
            if current:
                out.append(tuple(current))
                current = []
        elif token.isdigit():
            current.append(token)
    if current:
        out.append(tuple(current))
    return out


def same_order(a: list[tuple[str, ...]], b: list[tuple[str, ...]]) -> bool:
    """Whether two problems with the same numbers give them in the same order within their clauses (the
    clauses may come in another order: "if f(x) = 5x^2 + 3, what is f(-2)?" and "what is f(-2), if f(x) =
    5x^2 + 3?" agree). "Two circles with radii 8 and 2" and "... radii 2 and 8" do not, nor "30 green and 7
    white balls" and "30 blue and 10 white balls", whatever the words around the numbers. Clauses one side
    splits where the other does not are compared as one run."""
    left, right = Counter(a), Counter(b)
    only_a = [t for t in a if (left - right)[t] > 0]
    only_b = [t for t in b if (right - left)[t] > 0]
    if not only_a or not only_b:
        return True
    return [n for t in only_a for n in t] == [n for t in only_b for n in t]


class Verification:
    """What verifying a pair reads of each comparison text, computed once per text: the character 5-gram set
    of its view; when numbers count, its numbers (sorted), their places and their order; when terms count, the
    terms it names (`curate.terms`)."""

    def __init__(self, texts: Sequence[str], *, numbers_distinct: bool, terms_distinct: bool = True) -> None:
        self.texts = list(texts)
        self.grams = _gram_sets(self.texts)
        self.numbers_distinct = numbers_distinct
        self.terms_distinct = terms_distinct
        self._named: dict[int, terms.Named] = {}  # computed for the pairs that reach the term check only
        if numbers_distinct:
            plain = [_text(text) for text in self.texts]
            self.numbers = [sorted(textnorm.numbers(text)) for text in plain]
            self.places = [textnorm.number_places(text) for text in plain]
            self.order = [number_order(text) for text in plain]

    def linked(self, a: int, b: int, threshold: float) -> bool:
        """Texts a and b are one problem: equal (empty problems too), or their grams' Jaccard similarity reaches
        `threshold`; when numbers count, they have the same numbers in the same places
        (`textnorm.same_places`) and in the same order (`same_order`); when terms count, neither swaps a term
        of the other for another of its kind (`terms.contrast`)."""
        if self.texts[a] == self.texts[b]:
            return True
        if self.numbers_distinct and (
            self.numbers[a] != self.numbers[b]
            or not textnorm.same_places(self.places[a], self.places[b])
            or not same_order(self.order[a], self.order[b])
        ):
            return False
        if _jaccard(self.grams[a], self.grams[b]) < threshold:
            return False
        return not self.terms_distinct or not terms.contrast(self.named(a), self.named(b))

    def named(self, i: int) -> terms.Named:
        """The terms text i names (`terms.terms`), computed once."""
        found = self._named.get(i)
        if found is None:
            found = self._named[i] = terms.terms(_text(self.texts[i]), _spelled(self.texts[i]))
        return found


def verify_pairs(
    left: Sequence[str],
    right: Sequence[str],
    threshold: float,
    *,
    numbers_distinct: bool,
    terms_distinct: bool = True,
) -> np.ndarray:
    """`Verification.linked` for each pair (left[i], right[i]) of comparison texts, as a bool array."""
    index: dict[str, int] = {}
    a = [index.setdefault(text, len(index)) for text in left]
    b = [index.setdefault(text, len(index)) for text in right]
    check = Verification(list(index), numbers_distinct=numbers_distinct, terms_distinct=terms_distinct)
    return np.array([check.linked(i, j, threshold) for i, j in zip(a, b)], dtype=bool)


def verified_labels(
    texts: Sequence[str],
    num_perm: int,
    ngram: int,
    threshold: float,
    *,
    numbers_distinct: bool = True,
    terms_distinct: bool = True,
) -> VerifiedClusters:
    """All rows at once: candidates from the banded signatures of the comparison texts (`candidate_pairs`),
    each candidate pair verified (`Verification.linked`), clusters by union-find."""
    n = len(texts)
    union = _UnionFind(n)
    if n:
        sigs, keys = view_signatures(texts, num_perm, ngram)
        pairs = candidate_pairs(sigs, keys if numbers_distinct else None)
    else:
        pairs = np.empty((0, 2), np.int64)
    rows = np.unique(pairs)
    check = Verification(
        [texts[i] for i in rows.tolist()], numbers_distinct=numbers_distinct, terms_distinct=terms_distinct
    )
    slot = np.searchsorted(rows, pairs)
    for (a, b), (i, j) in zip(pairs.tolist(), slot.tolist()):
        if check.linked(i, j, threshold):
            union.union(a, b)
    return VerifiedClusters(union.labels(), dict(zip(rows.tolist(), check.grams)))


def _gram_sets(texts: Sequence[str]) -> list[frozenset[int]]:
    """The character `VERIFY_NGRAM`-gram hash set of each comparison text's view."""
    views = [textnorm.mask_numbers(_text(text)) for text in texts]
    hashes, offsets = minhash.shingle_hashes(views, VERIFY_NGRAM, "char")
    return [frozenset(hashes[offsets[k] : offsets[k + 1]].tolist()) for k in range(len(texts))]


# ------------------------------------------------------------------------------------------ minhash scheme


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
