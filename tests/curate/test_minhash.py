"""Bulk shingle hashing and MinHash signatures: equal to the one-at-a-time reference and to datasketch."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from curate import benchmarks, minhash
from curate.textnorm import normalize


def _texts() -> list[str]:
    problems = [normalize(item.problem) for item in benchmarks.canonical("aime2025")]
    return [*problems, "", "x", "a b", "один два три четыре пять шесть", "ünïcödé ∑ text with 漢字 inside it"]


@pytest.mark.parametrize(("unit", "ngram"), [("word", 5), ("word", 8), ("word", 1), ("char", 5), ("char", 1)])
def test_bulk_hashes_equal_the_reference(unit: minhash.Unit, ngram: int) -> None:
    texts = _texts()
    hashes, offsets = minhash.shingle_hashes(texts, ngram, unit)
    assert offsets.size == len(texts) + 1 and offsets[-1] == hashes.size
    for i, text in enumerate(texts):
        expected = [minhash.shingle_hash(s) for s in minhash.shingles(text, ngram, unit)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == expected


def test_shingles_of_short_and_empty_texts() -> None:
    assert minhash.shingles("", 5) == []
    assert minhash.shingles("a b", 5) == ["a b"]
    assert minhash.shingles("a b c", 2) == ["a b", "b c"]
    assert minhash.shingles("abc", 5, "char") == ["abc"]
    # equal shingles hash equally wherever they occur, distinct ones differently
    hashes, _ = minhash.shingle_hashes(["p q r s", "x p q r s"], 4)
    assert hashes[0] == hashes[-1] and len(set(hashes.tolist())) == 2


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 7)])
def test_signatures_equal_datasketch(num_perm: int, seed: int) -> None:
    texts = _texts()
    sigs = minhash.signatures(texts, num_perm=num_perm, ngram=5, seed=seed)
    assert sigs.shape == (len(texts), num_perm) and sigs.dtype == np.uint32
    for text, sig in zip(texts, sigs):
        reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda s: minhash.shingle_hash(s) >> 32)
        reference.update_batch(minhash.shingles(text, 5))
        assert np.array_equal(reference.hashvalues, sig)


def test_signatures_do_not_depend_on_blocking() -> None:
    rng = random.Random(3)
    words = [
        "find",
        "the",
        "number",
        "of",
        "integers",
        "such",
        "that",
        "sum",
        "product",
        "triangle",
        "circle",
    ]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(2600)]
    together = minhash.signatures(texts)
    alone = np.concatenate([minhash.signatures(texts[i : i + 1]) for i in range(0, 2600, 97)])
    assert np.array_equal(together[::97], alone)
    hashes, offsets = minhash.shingle_hashes(texts, 5)
    assert np.array_equal(minhash.signatures_from_hashes(hashes, offsets), together)
    assert (together[[i for i, t in enumerate(texts) if not t]] == minhash.EMPTY).all()


def test_estimates_track_true_jaccard() -> None:
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(400)]
    errors = []
    for _ in range(40):
        base = [rng.choice(vocab) for _ in range(120)]
        other = [w if rng.random() > rng.random() * 0.5 else rng.choice(vocab) for w in base]
        a, b = " ".join(base), " ".join(other)
        sa, sb = set(minhash.shingles(a, 3)), set(minhash.shingles(b, 3))
        sig = minhash.signatures([a, b], ngram=3, num_perm=256)
        errors.append(abs(minhash.estimated_jaccard(sig[0], sig[1]) - len(sa & sb) / len(sa | sb)))
    assert max(errors) < 0.12 and float(np.mean(errors)) < 0.04


def test_signatures_index_in_datasketch_lsh() -> None:
    base = normalize(benchmarks.canonical("aime2024")[0].problem)
    near = base.replace("coffee shop", "coffee bar", 1)
    texts = [base, near, *(normalize(i.problem) for i in benchmarks.canonical("aime2024")[1:])]
    sigs = minhash.signatures(texts)
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for i, sig in enumerate(sigs):
        lsh.insert(i, LeanMinHash(seed=1, hashvalues=sig, scheme="affine32"))
    found = lsh.query(LeanMinHash(seed=1, hashvalues=sigs[0], scheme="affine32"))
    assert sorted(found) == [0, 1]
    assert LeanMinHash(seed=1, hashvalues=sigs[0], scheme="affine32").jaccard(
        LeanMinHash(seed=1, hashvalues=sigs[1], scheme="affine32")
    ) == pytest.approx(minhash.estimated_jaccard(sigs[0], sigs[1]))


def test_bad_ngram_is_refused() -> None:
    with pytest.raises(ValueError, match="ngram"):
        minhash.shingle_hashes(["a b"], 0)
