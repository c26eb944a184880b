"""Measure dedup and decontamination speed, and MinHash signature throughput against rensa.

The corpus is synthetic and OpenR1-shaped in length: problems of about 400 characters, each three of the
competition-style templates of `measure_decontam.py` in a row, with 10% planted copies (re-typed: numbering,
case, LaTeX delimiters and spacing, a prompt) and 5% planted near copies (one word changed), so the duplicate
counts are known.

Compared on the same normalised texts, word 5-gram shingles, 128 permutations, one process each:
- signatures end to end (shingling included): ours vs rensa `RMinHash.digest_matrix_from_token_sets` fed with
  shingle lists built in Python, the way a user feeds it;
- sketching alone: ours from 64-bit shingle hashes vs rensa `digest_matrix_from_token_hash_sets` from the
  same hashes.
Then the filters as the engine runs them: `exact_dedup`, `minhash_dedup` (with `--workers` processes) and
`decontaminate` (its batch path, one process; the engine runs it on every core).

Run: `python scripts/measure_dedup.py --rows 225000` (rows/s and ratios are printed; timings are the best of
`--repeat` runs).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # rensa: one thread, like our one process

import numpy as np
import polars as pl

from curate import benchmarks, minhash, textnorm
from curate.bench.timing import python_shingles, timed
from curate.filters import Drop, FilterContext
from curate.filters.decontam import ContaminationIndex
from curate.filters.dedup import ExactDedup, MinHashDedup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure_decontam import clean_problems, planted


def corpus(rows: int, seed: int = 0) -> tuple[list[str], list[str], list[int]]:
    """`rows` problems of ~400 chars, what each is ("base", "copy": re-typed, "near": one word changed), and
    the index of the base problem each one is a copy of (its own index for a base problem)."""
    rng = random.Random(seed)
    parts = clean_problems(rows * 3, seed)
    base = [" ".join(parts[i : i + 3]) for i in range(0, len(parts), 3)][: rows - rows // 10 - rows // 20]
    entries = [(text, "base", i) for i, text in enumerate(base)]
    for _ in range(rows // 10):
        i = rng.randrange(len(base) // 2)
        entries.append(
            (planted(benchmarks.Item("x", "0", base[i], None, "x", "0"), "formatting", rng), "copy", i)
        )
    for _ in range(rows // 20):
        i = rng.randrange(len(base) // 2)
        entries.append((_one_word_changed(base[i], rng), "near", i))
    order = list(range(len(entries)))
    rng.shuffle(order)
    position = {old: new for new, old in enumerate(order)}
    shuffled = [entries[old] for old in order]
    return (
        [text for text, _, _ in shuffled],
        [kind for _, kind, _ in shuffled],
        [position[origin] for _, _, origin in shuffled],
    )


def _merged(verdicts: list[Any], uuids: list[str], origins: list[int], kinds: list[str]) -> dict[str, int]:
    """Planted copies merged with their original (by kind), and rows merged with a different problem."""
    representative = [v.info["survivor"] if isinstance(v, Drop) else u for v, u in zip(verdicts, uuids)]
    merged = Counter(
        kind
        for i, kind in enumerate(kinds)
        if kind != "base" and representative[i] == representative[origins[i]]
    )
    groups: dict[str, set[int]] = {}
    for i, rep in enumerate(representative):
        groups.setdefault(rep, set()).add(origins[i])
    merged["wrong"] = sum(len(problems) - 1 for problems in groups.values())
    return dict(merged)


def _one_word_changed(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    plain = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 3]
    words[rng.choice(plain)] = rng.choice(["really", "exactly", "also", "given"])
    return " ".join(words)


def _shingle_jaccard(a: str, b: str) -> float:
    left, right = set(minhash.shingles(a, 5)), set(minhash.shingles(b, 5))
    return len(left & right) / len(left | right)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="timings are the best of this many runs")
    args = parser.parse_args(argv)
    import rensa

    problems, kinds, origins = corpus(args.rows)
    chars = sum(map(len, problems))
    print(
        f"corpus: {len(problems)} problems, {chars / len(problems):.0f} chars on average, "
        f"{kinds.count('copy')} planted re-typed copies, {kinds.count('near')} planted one-word-changed copies"
    )

    t_norm, texts = timed(lambda: textnorm.normalize_many(problems), 1)
    print(
        f"normalise: {t_norm:.2f}s, {len(texts) / t_norm:,.0f} rows/s, {chars / t_norm / 1e6:.1f} MB/s (1 process)"
    )

    t_ours, _ = timed(lambda: minhash.signatures(texts, num_perm=128, ngram=5), args.repeat)
    t_shingle, shingled = timed(lambda: python_shingles(texts), 1)
    t_rensa, _ = timed(
        lambda: rensa.RMinHash.digest_matrix_from_token_sets(shingled, num_perm=128, seed=1), args.repeat
    )
    print(
        f"signatures from text: ours {t_ours:.2f}s ({len(texts) / t_ours:,.0f} rows/s); rensa "
        f"{t_shingle + t_rensa:.2f}s = Python shingling {t_shingle:.2f}s + sketch {t_rensa:.2f}s; "
        f"ours/rensa = {t_ours / (t_shingle + t_rensa):.2f}x the time"
    )

    hashes, offsets = minhash.shingle_hashes(texts, 5)
    as_lists = [hashes[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))]
    t_ours_k, _ = timed(lambda: minhash.signatures_from_hashes(hashes, offsets, num_perm=128), args.repeat)
    t_rensa_k, _ = timed(
        lambda: rensa.RMinHash.digest_matrix_from_token_hash_sets(as_lists, num_perm=128, seed=1), args.repeat
    )
    print(
        f"sketch from shingle hashes: ours {t_ours_k:.2f}s, rensa {t_rensa_k:.2f}s; "
        f"ours/rensa = {t_ours_k / t_rensa_k:.2f}x the time"
    )

    frame = pl.DataFrame(
        {
            "row_id": np.arange(len(problems)),
            "uuid": [f"u{i:07d}" for i in range(len(problems))],
            "problem": problems,
            "correctness_count": np.ones(len(problems), dtype=np.int64),
        }
    )
    near = [i for i, kind in enumerate(kinds) if kind == "near"]
    for i in near:
        if _shingle_jaccard(texts[i], texts[origins[i]]) >= 0.85:
            kinds[i] = "near>=0.85"
    context = FilterContext(workers=args.workers)
    uuids = frame["uuid"].to_list()
    for cls in (ExactDedup, MinHashDedup):
        f = cls(context=context)
        seconds, verdicts = timed(lambda f=f: f.filter_all(frame), 1)
        merged = _merged(verdicts, uuids, origins, kinds)
        print(
            f"{cls.name}: {seconds:.2f}s, {len(problems) / seconds:,.0f} rows/s ({args.workers} workers); "
            f"merged with their original: {merged.get('copy', 0)}/{kinds.count('copy')} re-typed copies, "
            f"one-word-changed copies {merged.get('near>=0.85', 0)}/{kinds.count('near>=0.85')} at shingle "
            f"Jaccard >= 0.85 and {merged.get('near', 0)}/{kinds.count('near')} below; "
            f"distinct problems merged: {merged['wrong']}"
        )

    index = ContaminationIndex.build(list(benchmarks.NAMES))
    seconds, _ = timed(lambda: index.match(problems), 1)
    print(
        f"decontaminate (all 7 benchmarks): {seconds:.2f}s, {len(problems) / seconds:,.0f} rows/s (1 process)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
