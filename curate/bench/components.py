"""The three kernels a run's speed rests on, each against the reference a user would reach for:

- MinHash signatures: `curate.minhash` (what `minhash_dedup` runs) against rensa (Rust) and datasketch, on
  the corpus's normalised problems; and whether the duplicate sets agree;
- token counting: `TokenCounter.count_texts` against raw tiktoken `encode_batch` (and the Hugging Face
  tokenizer) on the ChatML rows `token_length` counts;
- answer verification: the `Verifier` pool against math-verify in one process, each in a fresh process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from curate.bench.corpus import Corpus
from curate.bench.monitor import child_env, run_monitored
from curate.bench.timing import best_of, python_shingles
from curate.errors import CurateError

NUM_PERM, NGRAM, SEED, THRESHOLD = 128, 5, 1, 0.8


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def dropped_rows(labels: np.ndarray) -> set[int]:
    """Rows a dedup drops given cluster labels (each cluster keeps its first row)."""
    return {int(i) for i in np.flatnonzero(labels != np.arange(labels.size))}


def minhash(corpus: Corpus, *, datasketch_rows: int, repeats: int = 3) -> dict[str, Any]:
    """Signature throughput (one core each) and duplicate-set agreement on the corpus's distinct problems.
    rensa's Rayon pool starts on its first call and reads RAYON_NUM_THREADS then: one thread, as curate's
    kernel runs on one core (the engine spreads both over processes alike)."""
    with _env("RAYON_NUM_THREADS", "1"):
        return _minhash(corpus, datasketch_rows=datasketch_rows, repeats=repeats)


def _minhash(corpus: Corpus, *, datasketch_rows: int, repeats: int) -> dict[str, Any]:
    from datasketch import MinHash

    from curate import minhash as ours
    from curate import textnorm
    from curate.filters.dedup import near_duplicate_labels

    table = pq.read_table(corpus.path, columns=["uuid", "problem"])
    problems = table.column("problem").to_pylist()
    started = time.perf_counter()
    normalised = textnorm.normalize_many(problems)
    normalise_s = time.perf_counter() - started
    first: dict[str, int] = {}
    for i, text in enumerate(normalised):
        first.setdefault(text, i)
    rows = sorted(first.values())  # distinct problems: exact copies would agree trivially
    texts = [normalised[i] for i in rows]
    result: dict[str, Any] = {
        "problems": len(problems),
        "distinct": len(texts),
        "mean_chars": round(sum(map(len, texts)) / max(len(texts), 1), 1),
        "num_perm": NUM_PERM,
        "ngram": NGRAM,
        "normalise_s": round(normalise_s, 3),
    }
    try:
        import rensa
    except ImportError:
        rensa = None
    shingled = python_shingles(texts, NGRAM)
    hashes, offsets = ours.shingle_hashes(texts, NGRAM)
    runs: dict[str, Callable[[], Any]] = {
        "curate: text -> signatures": lambda: ours.signatures(
            texts, num_perm=NUM_PERM, ngram=NGRAM, seed=SEED
        ),
        "curate: shingle hashes -> signatures": lambda: ours.signatures_from_hashes(
            hashes, offsets, num_perm=NUM_PERM, seed=SEED
        ),
        "Python: text -> shingle lists": lambda: python_shingles(texts, NGRAM),
    }
    if rensa is not None:
        runs["rensa: shingle lists -> signatures"] = lambda: rensa.RMinHash.digest_matrix_from_token_sets(
            shingled, num_perm=NUM_PERM, seed=SEED
        )
        runs["rensa: shingle hashes -> signatures"] = lambda: (
            rensa.RMinHash.digest_matrix_from_flat_token_hashes(
                hashes, offsets.astype(np.uint64), num_perm=NUM_PERM, seed=SEED
            )
        )
    timings = best_of(runs, repeats)
    subset = texts[:datasketch_rows]

    def datasketch_signatures() -> None:
        for shingles in python_shingles(subset, NGRAM):
            sketch = MinHash(num_perm=NUM_PERM, seed=SEED)
            for shingle in shingles:
                sketch.update(shingle.encode("utf-8"))

    timings.update(best_of({"datasketch: MinHash.update per shingle": datasketch_signatures}, 1))
    sizes = {name: len(subset) if name.startswith("datasketch") else len(texts) for name in timings}
    result["timings"] = {
        name: {
            "rows": sizes[name],
            "wall_s": round(t["wall_s"], 6),
            "cpu_s": round(t["cpu_s"], 6),
            "rows_per_s": round(sizes[name] / t["wall_s"], 1),
        }
        for name, t in timings.items()
    }
    rate = {name: sizes[name] / t["wall_s"] for name, t in timings.items()}
    ours_sigs = ours.signatures(texts, num_perm=NUM_PERM, ngram=NGRAM, seed=SEED)
    ours_labels = near_duplicate_labels(ours_sigs, THRESHOLD)
    ours_dropped = dropped_rows(ours_labels)
    result["curate_near_duplicates"] = len(ours_dropped)
    result["datasketch_vs_curate_rows_per_s"] = round(
        rate["datasketch: MinHash.update per shingle"] / rate["curate: text -> signatures"], 4
    )
    if rensa is not None:
        user_rensa_s = (
            timings["Python: text -> shingle lists"]["wall_s"]
            + timings["rensa: shingle lists -> signatures"]["wall_s"]
        )
        result["curate_time_over_rensa"] = {
            "text_to_signatures": round(timings["curate: text -> signatures"]["wall_s"] / user_rensa_s, 3),
            "sketch_only": round(
                timings["curate: shingle hashes -> signatures"]["wall_s"]
                / timings["rensa: shingle hashes -> signatures"]["wall_s"],
                3,
            ),
        }
        matrix = rensa.RMinHash.digest_matrix_from_token_sets(shingled, num_perm=NUM_PERM, seed=SEED)
        rensa_sigs = np.asarray(matrix.to_rows(), dtype=np.uint32)
        rensa_labels = near_duplicate_labels(rensa_sigs, THRESHOLD)
        rensa_dropped = dropped_rows(rensa_labels)
        union = ours_dropped | rensa_dropped
        result["rensa_near_duplicates"] = len(rensa_dropped)
        result["agreement"] = {
            "both": len(ours_dropped & rensa_dropped),
            "only_curate": len(ours_dropped - rensa_dropped),
            "only_rensa": len(rensa_dropped - ours_dropped),
            "jaccard": round(len(ours_dropped & rensa_dropped) / len(union), 4) if union else 1.0,
        }
        shingled_sets = [set(x) for x in shingled]
        result["exact_check"] = {
            "curate": exact_check(shingled_sets, ours_labels, ours_dropped),
            "rensa": exact_check(shingled_sets, rensa_labels, rensa_dropped),
            "only_curate": exact_check(shingled_sets, ours_labels, ours_dropped - rensa_dropped),
            "only_rensa": exact_check(shingled_sets, rensa_labels, rensa_dropped - ours_dropped),
        }
    else:
        result["rensa"] = "not installed"
    dropped = {"curate": ours_dropped} if rensa is None else {"curate": ours_dropped, "rensa": rensa_dropped}
    result["planted_near_duplicates"] = _planted_recall(
        corpus, table.column("uuid").to_pylist(), rows, dropped
    )
    return result


def exact_check(sets: list[set[str]], labels: np.ndarray, rows: set[int]) -> dict[str, Any]:
    """The exact shingle-set Jaccard similarity of each dropped row to the first row of its cluster: how
    many drops are true near duplicates at the threshold (an estimate errs both ways near it)."""
    values = sorted(
        len(sets[i] & sets[labels[i]]) / max(len(sets[i] | sets[labels[i]]), 1) for i in sorted(rows)
    )
    return {
        "rows": len(values),
        "at_threshold": sum(1 for v in values if v >= THRESHOLD),
        "median": round(values[len(values) // 2], 4) if values else None,
    }


def _planted_recall(
    corpus: Corpus, uuids: list[str], rows: list[int], dropped: dict[str, set[int]]
) -> dict[str, int]:
    """How many of the generator's planted near-duplicate rows each signature set drops."""
    manifest = corpus.path.with_name(corpus.path.stem + ".planted.json")
    if not manifest.exists():
        return {}
    planted = json.loads(manifest.read_text())["planted"]
    near = [k for k, i in enumerate(rows) if planted.get(uuids[i], {}).get("kind") == "near_duplicate"]
    return {
        "planted": len(near),
        **{name: sum(1 for k in near if k in found) for name, found in dropped.items()},
    }


def tokens(corpus: Corpus, *, format_kwargs: dict[str, Any], repeats: int = 3) -> dict[str, Any]:
    """MB/s of ChatML rows (problem + shortest generation, as `token_length` counts them)."""
    from curate.formatting import build_messages
    from curate.tokenizers import chatml

    table = pq.read_table(corpus.path, columns=["problem", "generations"])
    texts = [
        chatml(build_messages(p, min(g, key=len), **format_kwargs))
        for p, g in zip(table.column("problem").to_pylist(), table.column("generations").to_pylist())
        if g
    ]
    return token_rates(texts, repeats=repeats)


def token_rates(
    texts: list[str], *, repeats: int, extra: dict[str, Callable[[], Any]] | None = None, hf: bool = True
) -> dict[str, Any]:
    """MB/s of counting `texts` with the Qwen3 counter: `TokenCounter.count_texts` against raw tiktoken
    `encode_batch` (checked to give the same counts first), any `extra` callables timed alongside, and the
    Hugging Face tokenizer on a quarter of the texts. `curate bench` and `scripts/measure_tokens.py` both
    measure through here."""
    from curate.bench.baseline import qwen3_tokenizer_folder
    from curate.tokenizers import load_counter

    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    counter = load_counter("qwen3")
    encoding, threads = counter.encoding, counter.threads
    expected = [len(ids) for ids in encoding.encode_batch(texts, allowed_special="all", num_threads=threads)]
    if counter.count_texts(texts) != expected:
        raise CurateError("TokenCounter.count_texts disagrees with tiktoken on the benchmark rows")
    raw = f"tiktoken encode_batch ({threads} threads)"
    timings = best_of(
        {
            raw: lambda: encoding.encode_batch(texts, allowed_special="all", num_threads=threads),
            "curate TokenCounter.count_texts": lambda: counter.count_texts(texts),
            **(extra or {}),
        },
        repeats,
    )
    rates = {name: megabytes / t["wall_s"] for name, t in timings.items()}
    per_cpu = {name: megabytes / t["cpu_s"] for name, t in timings.items()}
    if hf:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(qwen3_tokenizer_folder())
        subset = texts[: max(1, len(texts) // 4)]
        hf_counts = [len(ids) for ids in tokenizer(subset, add_special_tokens=False)["input_ids"]]
        if hf_counts != expected[: len(subset)]:
            raise CurateError("the Hugging Face tokenizer disagrees with tiktoken on the benchmark rows")
        sub_mb = sum(len(t.encode("utf-8")) for t in subset) / 1e6
        hf_time = best_of({"hf": lambda: tokenizer(subset, add_special_tokens=False)}, 1)["hf"]
        name = "transformers Qwen3 tokenizer (batch call)"
        rates[name], per_cpu[name] = sub_mb / hf_time["wall_s"], sub_mb / hf_time["cpu_s"]
    return {
        "rows": len(texts),
        "megabytes": round(megabytes, 1),
        "tokens": int(sum(expected)),
        "raw": raw,
        "mb_per_s": {name: round(rate, 2) for name, rate in rates.items()},
        "mb_per_cpu_s": {name: round(rate, 2) for name, rate in per_cpu.items()},
        "count_texts_over_tiktoken": round(rates["curate TokenCounter.count_texts"] / rates[raw], 3),
    }


def verification_pairs(corpus: Corpus, limit: int) -> list[tuple[str, str]]:
    """Distinct (gold answer, extracted final answer) pairs of the corpus's generations, in corpus order."""
    from curate.mathcheck import extract_boxed

    table = pq.read_table(corpus.path, columns=["answer", "generations"])
    pairs: dict[tuple[str, str], None] = {}
    for gold, gens in zip(table.column("answer").to_pylist(), table.column("generations").to_pylist()):
        for text in gens or []:
            boxed = extract_boxed(text or "")
            if gold and boxed:
                pairs.setdefault((gold, boxed), None)
        if len(pairs) >= limit:
            break
    return list(pairs)[:limit]


def verification(corpus: Corpus, *, workers: int, scratch: Path, limit: int = 4000) -> dict[str, Any]:
    """Items/s of each method over the same pairs, each method in a fresh process (sympy caches results,
    so a method run after another on the same pairs would be flattered)."""
    pairs = verification_pairs(corpus, limit)
    source = scratch / "verify-pairs.json"
    source.write_text(json.dumps(pairs))
    methods = list(dict.fromkeys(["mathverify", "judge", "verifier-1", f"verifier-{workers}"]))
    results: dict[str, Any] = {}
    for method in methods:
        out = scratch / f"verify-{method}.json"
        measured = run_monitored(
            [sys.executable, "-m", "curate.bench.child", "verify", method, str(source), str(out)],
            env=child_env(),
        )
        if measured.returncode != 0:
            raise CurateError(f"verification method {method} failed:\n{measured.stderr[-2000:]}")
        data = json.loads(out.read_text())
        data["items_per_s"] = round(data["items"] / data["wall_s"], 1)
        data["cpu_ms_per_item"] = round(1000 * data["cpu_s"] / data["items"], 3)
        data["cores_busy"] = round(data["cpu_s"] / data["wall_s"], 2)
        data["wall_s"], data["cpu_s"] = round(data["wall_s"], 3), round(data["cpu_s"], 3)
        results[method] = data
    pool = results[f"verifier-{workers}"]
    return {
        "pairs": len(pairs),
        "methods": results,
        "pool_over_mathverify": round(pool["items_per_s"] / results["mathverify"]["items_per_s"], 2),
        "pool_scaling_1_to_n": round(pool["items_per_s"] / results["verifier-1"]["items_per_s"], 2),
        "pool_cpu_overhead_vs_judge": round(
            results["verifier-1"]["cpu_s"] / results["judge"]["cpu_s"] - 1, 3
        ),
    }
