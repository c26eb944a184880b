"""What the sample holds: OpenR1's length profile and label semantics, R1-shaped traces, and every planted
defect really being what its manifest entry says (checked with a normalisation written here from the spec
of the dedup filters, not with the generator's own)."""

from __future__ import annotations

import collections
import gzip
import json
import re
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.curate.synthetic.conftest import Sample

OPENR1_LENGTHS = {"mean": 16_254, "median": 12_980, "p90": 32_888, "p99": 50_593}  # OpenR1 45K, README "The embedded offline sample"
SOURCES = {
    "olympiads",
    "cn_k12",
    "cn_contest",
    "aops_forum",
    "amc_aime",
    "inequalities",
    "olympiads_ref",
    "number_theory",
}
PROBLEM_TYPES = {
    "Algebra",
    "Geometry",
    "Number Theory",
    "Combinatorics",
    "Calculus",
    "Inequalities",
    "Logic and Puzzles",
    "Other",
}

# ------------------------------------------------------------------ reference normalisation (the filters' spec)
_LABEL = re.compile(
    r"^\s*(?:#+\s*)?(?:(?:problem|task|example|exercise)\s+(?:[a-z]-)?\d+(?:\.\d+)*\.?\s*"
    r"|\d+(?:\.\d+)*[a-z]?\.\s*|(?:one|two|three|four|five|six),\s*)(?:\(\s*\d+\s*points?\s*\)\s*)?",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\\[a-z]+|[a-z]+|\d+|[^\s\w{}]")


def spec_normalize(text: str) -> str:
    """NFKC, leading numbering, `\\dfrac`, LaTeX delimiters and spacing, case, whitespace."""
    text = _LABEL.sub("", unicodedata.normalize("NFKC", text).strip(), count=1)
    text = text.replace("\\dfrac", "\\frac")
    text = re.sub(r"\\left|\\right|\\[,;!]|\\[()\[\]]|\$", " ", text)
    return " ".join(text.lower().split())


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    tokens = _TOKEN.findall(spec_normalize(text))
    return {tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}


def jaccard(a: str, b: str, n: int = 5) -> float:
    sa, sb = shingles(a, n), shingles(b, n)
    return len(sa & sb) / len(sa | sb)


def last_box(text: str) -> str | None:
    """The last `\\boxed{...}` (brace-matched) of a text, or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + 7
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start + 7 : i - 1].strip()


def final_box(generation: str) -> str | None:
    """The answer a verifier extracts: the last box after `</think>`."""
    return last_box(generation.split("</think>")[-1]) if "</think>" in generation else None


def numbers(text: str) -> list[str]:
    return sorted(re.findall(r"\d+", text))


# ----------------------------------------------------------------------------------------- the profile
def test_assistant_lengths_match_openr1(sample: Sample) -> None:
    lengths = np.array([len(row["messages"][1]["content"]) for row in sample.clean()])
    measured = {
        "mean": lengths.mean(),
        "median": np.median(lengths),
        "p90": np.percentile(lengths, 90),
        "p99": np.percentile(lengths, 99),
    }
    for key, target in OPENR1_LENGTHS.items():
        assert abs(measured[key] - target) <= 0.1 * target, (key, measured[key], target)


def test_think_block_is_most_of_the_text(sample: Sample) -> None:
    complete = [
        g
        for row in sample.clean()
        for g, ok in zip(row["generations"], row["is_reasoning_complete"])
        if ok and g.count("</think>") == 1
    ]
    think = sum(len(g.split("</think>")[0]) for g in complete)
    assert 0.84 <= think / sum(map(len, complete)) <= 0.93


def test_columns_follow_openr1_distributions(sample: Sample) -> None:
    rows = sample.rows
    sources = collections.Counter(row["source"] for row in rows)
    assert set(sources) == SOURCES
    assert sources.most_common(2)[0][0] == "olympiads" and sources["cn_k12"] > sources["cn_contest"]
    assert {row["problem_type"] for row in rows} == PROBLEM_TYPES
    qtypes = collections.Counter(row["question_type"] for row in rows)
    assert set(qtypes) == {"math-word-problem", "MCQ", "proof"}
    assert qtypes["math-word-problem"] > 0.85 * len(rows)
    counts = collections.Counter(len(row["generations"]) for row in rows)
    assert set(counts) == {2, 3, 4} and counts[2] > counts[4] > counts[3]
    judged = sum(row["correctness_llama"] is not None for row in rows) / len(rows)
    assert 0.08 <= judged <= 0.18  # correctness_llama is null for about 88% of rows


def _real_problems() -> list[dict[str, Any]]:
    data = resources.files("curate.synthetic") / "data" / "realdata.jsonl.gz"
    with data.open("rb") as handle, gzip.open(handle, "rt", encoding="utf-8") as text:
        return [json.loads(line) for line in text]


def test_the_real_openr1_problems_are_all_there(sample: Sample) -> None:
    real = _real_problems()
    problems = {row["problem"]: row for row in sample.rows}
    assert len(real) == 54
    for rec in real:
        row = problems[rec["problem"]]
        assert (row["answer"], row["source"], row["question_type"]) == (
            rec["answer"],
            rec["source"],
            rec["question_type"],
        )
        assert rec["trace"] in row["generations"]  # the real (mostly cut-off) trace rides along


# ------------------------------------------------------------------------------------- labels and shape
def test_clean_rows_have_consistent_labels_and_a_usable_trace(sample: Sample) -> None:
    for row in sample.clean():
        gens, mv, llama = row["generations"], row["correctness_math_verify"], row["correctness_llama"]
        assert 2 <= len(gens) <= 4
        assert len(row["is_reasoning_complete"]) == len(mv) == len(row["finish_reasons"]) == len(gens)
        assert row["is_reasoning_complete"] == ["</think>" in g for g in gens]
        assert row["finish_reasons"] == ["stop" if ok else "length" for ok in row["is_reasoning_complete"]]
        labelled = [m or bool(llama and llama[i]) for i, m in enumerate(mv)]
        assert row["correctness_count"] == sum(labelled)
        first = next((g for g, ok in zip(gens, mv) if ok), gens[0])
        assert row["messages"] == [
            {"content": row["problem"], "role": "user"},
            {"content": first, "role": "assistant"},
        ]
        usable = [g for g, ok in zip(gens, mv) if ok and g.count("<think>") == 1 and len(g) <= 37_000]
        assert usable, row["uuid"]
        assert all(final_box(g) == row["answer"] for g in usable)


def test_wrong_generations_box_a_wrong_answer(sample: Sample) -> None:
    wrong = [
        (row, g)
        for row in sample.clean()
        if row["question_type"] != "proof"
        for g, ok, done in zip(
            row["generations"], row["correctness_math_verify"], row["is_reasoning_complete"]
        )
        if done and not ok and g.startswith("<think>\n")
    ]
    assert len(wrong) > 100
    assert all(final_box(g) not in (None, row["answer"]) for row, g in wrong)


def test_generations_read_like_r1(sample: Sample) -> None:
    rows = [row for row in sample.clean() if row["question_type"] == "math-word-problem"][:300]
    real_traces = {rec["trace"] for rec in _real_problems()}  # another model's, not R1's: cut off mostly
    seen: set[str] = set()
    for row in rows:
        for g, done in zip(row["generations"], row["is_reasoning_complete"]):
            assert g.startswith("<think>\n")
            assert g not in seen
            seen.add(g)
            think = g.split("</think>")[0]
            assert re.search(r"\b(Wait|Hmm|Let me)\b", think)
            nums = set(re.findall(r"\d+", row["problem"]))
            assert not nums or nums & set(re.findall(r"\d+", think))  # the reasoning is about this problem
            if done and g not in real_traces:
                assert g.count("</think>") == 1 and "</think>\n\n" in g and "**Final Answer**" in think


def test_labelled_answers_verify_with_math_verify(sample: Sample) -> None:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    checked = 0
    for row in sample.clean()[:400]:
        if row["question_type"] != "math-word-problem" or len(row["answer"]) > 40:
            continue
        gold = parse(
            f"${row['answer']}$", extraction_config=[LatexExtractionConfig(), ExprExtractionConfig()]
        )
        for g, ok, done in zip(
            row["generations"], row["correctness_math_verify"], row["is_reasoning_complete"]
        ):
            box = final_box(g)
            if not done or box is None:
                continue
            pred = parse(
                f"\\boxed{{{box}}}", extraction_config=[LatexExtractionConfig(boxed_match_priority=0)]
            )
            assert verify(gold, pred) == ok, (row["answer"], box, ok)
            checked += 1
        if checked >= 60:
            break
    assert checked >= 60


# --------------------------------------------------------------------------------------------- duplicates
def test_exact_duplicates_repeat_an_earlier_problem(sample: Sample) -> None:
    rows = sample.by_uuid()
    for row, entry in sample.of_kind("exact_duplicate"):
        original = rows[entry["duplicate_of"]]
        assert row["problem"] == original["problem"] and row["uuid"] != original["uuid"]
        assert row["answer"] == original["answer"]
        assert sample.planted.get(original["uuid"]) is None and sample.rows.index(original) < entry["row"]
        assert (
            row["correctness_count"] == 1 < original["correctness_count"]
        )  # the original wins the tie-break


def test_formatted_duplicates_normalise_to_the_original(sample: Sample) -> None:
    rows = sample.by_uuid()
    changes = collections.Counter()
    for row, entry in sample.of_kind("exact_duplicate_formatted"):
        original = rows[entry["duplicate_of"]]
        assert row["problem"] != original["problem"]
        assert spec_normalize(row["problem"]) == spec_normalize(original["problem"])
        changes.update(entry["changes"])
    assert set(changes) <= {"whitespace", "case", "delimiters", "dfrac", "numbering"} and len(changes) >= 4


def test_near_duplicates_are_close_but_not_equal(sample: Sample) -> None:
    rows = sample.by_uuid()
    for row, entry in sample.of_kind("near_duplicate"):
        original = rows[entry["duplicate_of"]]
        assert spec_normalize(row["problem"]) != spec_normalize(original["problem"])
        assert jaccard(row["problem"], original["problem"]) >= 0.9
        assert numbers(row["problem"]) == numbers(original["problem"]) and row["answer"] == original["answer"]


def test_no_duplicates_besides_the_planted_ones(sample: Sample) -> None:
    from datasketch import MinHash, MinHashLSH

    planted_pairs = {
        frozenset((u, e["duplicate_of"])) for u, e in sample.planted.items() if "duplicate_of" in e
    }
    keys = collections.defaultdict(list)
    for row in sample.rows:
        keys[spec_normalize(row["problem"])].append(row["uuid"])
    exact = {frozenset(group) for group in keys.values() if len(group) > 1}
    assert all(len(pair) == 2 and pair in planted_pairs for pair in exact)
    problems = {row["uuid"]: row["problem"] for row in sample.rows}
    tokens = {u: [" ".join(s).encode() for s in shingles(p)] for u, p in problems.items()}
    lsh = MinHashLSH(threshold=0.6, num_perm=64)
    hashes = dict(zip(tokens, MinHash.bulk(tokens.values(), num_perm=64)))
    for uuid, signature in hashes.items():
        lsh.insert(uuid, signature)
    for uuid, signature in hashes.items():
        for other in lsh.query(signature):
            if other != uuid and frozenset((uuid, other)) not in planted_pairs:
                assert jaccard(problems[uuid], problems[other]) < 0.7, (problems[uuid], problems[other])


# ----------------------------------------------------------------------------------------- benchmark copies
def _bundled_benchmarks() -> dict[tuple[str, str], dict[str, Any]]:
    data = resources.files("curate.synthetic") / "data" / "benchmark_seeds.jsonl"
    items = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    return {(item["benchmark"], item["id"]): item for item in items}


def test_benchmark_copies_are_what_the_manifest_says(sample: Sample) -> None:
    items = _bundled_benchmarks()
    suffix = " Please reason step by step, and put your final answer within \\boxed{}."
    seen = collections.Counter()
    for kind in ("benchmark_verbatim", "benchmark_formatted", "benchmark_embedded", "benchmark_reworded"):
        for row, entry in sample.of_kind(kind):
            item = items[entry["benchmark"], entry["item_id"]]
            text, problem = item["problem"], row["problem"]
            assert row["answer"] == item["answer"]
            seen[entry["benchmark"]] += 1
            if entry["copy"] == "verbatim":
                assert problem in [text, *(v["problem"] for v in item["variants"])]
            elif entry["copy"] == "formatted":
                bare = problem.rstrip().removesuffix(suffix.strip()).rstrip()
                assert problem != text and spec_normalize(bare) == spec_normalize(text)
            elif entry["copy"] == "embedded":
                assert text in problem and len(problem) > len(text) + 20
            else:
                assert problem != text and numbers(problem) == numbers(text)
                assert jaccard(problem, text, 3) >= 0.4
    assert len(seen) >= 5  # copies of most of aime2024-2026, amc22-24 and math500 at 3,000 rows


def _benchmark_texts() -> list[str]:
    """Every benchmark problem the package bundles: its own seeds and, when present, the decontamination
    sets under curate/data/benchmarks."""
    texts = [
        t
        for item in _bundled_benchmarks().values()
        for t in [item["problem"], *(v["problem"] for v in item["variants"])]
    ]
    folder = Path(str(resources.files("curate"))) / "data" / "benchmarks"
    for path in sorted(folder.rglob("*.jsonl")) if folder.is_dir() else []:
        texts += [
            json.loads(line)["problem"]
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    return texts


def test_clean_problems_share_no_8gram_with_any_benchmark(sample: Sample) -> None:
    def grams(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", spec_normalize(text))
        return {tuple(words[i : i + 8]) for i in range(len(words) - 7)}

    bench: set[tuple[str, ...]] = set().union(*(grams(t) for t in _benchmark_texts()))
    real = {rec["problem"] for rec in _real_problems()}  # real OpenR1 text may share stock phrases
    flagged = [
        row["problem"]
        for row in sample.rows
        if not sample.planted.get(row["uuid"], {}).get("kind", "").startswith("benchmark")
        and row["problem"] not in real
        and grams(row["problem"]) & bench
    ]
    assert flagged == []


# -------------------------------------------------------------------------------------- answers and traces
def test_wrong_answer_rows_never_box_the_gold_answer(sample: Sample) -> None:
    for row, _ in sample.of_kind("wrong_answer"):
        assert all(final_box(g) not in (None, row["answer"]) for g in row["generations"])
        assert not any(row["correctness_math_verify"]) and row["correctness_count"] == 0


def test_missing_boxed_rows_have_no_box_at_all(sample: Sample) -> None:
    for row, _ in sample.of_kind("missing_boxed"):
        assert all("\\boxed" not in g and "</think>" in g for g in row["generations"])
        assert row["correctness_count"] >= 1  # the judge accepted them: trust_labels would keep them


def test_mislabeled_rows_contradict_their_labels(sample: Sample) -> None:
    for row, entry in sample.of_kind("mislabeled_correct"):
        assert all(row["correctness_math_verify"]) and row["correctness_count"] >= 1
        for g in row["generations"]:
            think = g.split("</think>")[0]
            assert final_box(g) != row["answer"] and last_box(think) == row["answer"]
        assert entry["answer_verify"] == {"reverify": "drop", "trust_labels": "keep"}
    for row, entry in sample.of_kind("mislabeled_incorrect"):
        assert not any(row["correctness_math_verify"]) and row["correctness_count"] == 0
        assert all(final_box(g) == row["answer"] for g in row["generations"])
        assert entry["answer_verify"] == {"reverify": "keep", "trust_labels": "drop"}


def test_truncated_rows_are_cut_off(sample: Sample) -> None:
    for row, _ in sample.of_kind("truncated"):
        assert all("</think>" not in g and g.startswith("<think>\n") for g in row["generations"])
        assert set(row["finish_reasons"]) == {"length"} and not any(row["is_reasoning_complete"])
        assert all(len(g) > 35_000 for g in row["generations"])


def test_broken_think_blocks(sample: Sample) -> None:
    for row, _ in sample.of_kind("double_think"):
        assert all(g.count("<think>") == 2 and final_box(g) == row["answer"] for g in row["generations"])
    for row, _ in sample.of_kind("empty_think"):
        assert all(
            re.match(r"<think>\s*</think>", g) and final_box(g) == row["answer"] for g in row["generations"]
        )
    for row, _ in sample.of_kind("finish_reason_missing"):
        assert row["finish_reasons"] == [None] * len(row["generations"])


def test_overlong_and_token_heavy_rows_exceed_16k_qwen3_tokens(sample: Sample) -> None:
    from curate.tokenizers import load_counter

    encoding = load_counter("qwen3").encoding
    for kind, over_chars in (("overlong", True), ("token_heavy", False)):
        for row, _ in sample.of_kind(kind)[:4]:
            for g in row["generations"]:
                assert (len(g) > 60_000) == over_chars
                assert len(encoding.encode(g, disallowed_special=())) > 16_384
                assert final_box(g) == row["answer"]


def test_multiple_choice_and_proof_rows(sample: Sample) -> None:
    mcq = sample.of_kind("mcq")
    assert all(row["question_type"] == "MCQ" for row, _ in mcq)
    templated = [row for row, entry in mcq if not entry.get("real")]  # real rows keep their own layouts
    for row in templated:  # options (A) ... (D), A: ... D:, or $\textbf{(A)}\ ...$
        assert all(re.search(rf"[({{\s]{letter}\s*[)}}.:]", row["problem"]) for letter in "ABCD"), row[
            "problem"
        ]
    letters = [row for row, _ in mcq if row["answer"] in {"A", "B", "C", "D", "E"}]
    assert len(letters) > len(mcq) / 2
    for row in letters:
        assert any(final_box(g) == row["answer"] for g in row["generations"])
    proofs = sample.of_kind("proof")
    assert proofs and all(row["question_type"] == "proof" and row["answer"] == "proof" for row, _ in proofs)


@pytest.mark.parametrize("kind", ["exact_duplicate", "near_duplicate", "benchmark_reworded", "truncated"])
def test_planted_rows_keep_the_openr1_row_shape(sample: Sample, kind: str) -> None:
    for row, _ in sample.of_kind(kind):
        assert row["source"] in SOURCES and row["problem_type"] in PROBLEM_TYPES
        assert len(row["generations"]) in (2, 3, 4)
