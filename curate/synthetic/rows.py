"""Rows of the embedded sample: which kind each position holds, its problem, its generations and labels.

A chunk of `CHUNK_ROWS` rows depends only on (seed, chunk index), and each row only on (seed, row index)
and earlier rows of its chunk (a duplicate copies an earlier row), so the first N rows are the same whatever
the total. Every chunk carries the same schedule of planted defects, recorded per row in a manifest entry.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from random import Random
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

from curate.synthetic import families, planting, schema, styles, traces
from curate.synthetic.lengths import draw_length
from curate.synthetic.schema import OPENR1_SCHEMA

CHUNK_ROWS = 1000
REAL_STRIDE, REAL_OFFSET = 18, 3  # real problem i sits at row REAL_OFFSET + REAL_STRIDE * i of chunk 0
EARLIEST_COPY = 30  # duplicate slots sit after this position, so every copy has an earlier original
# A clean row always has a correct complete generation drawn at most this long (texts land within about
# 1,000 characters of their drawn length): under 16k Qwen3 tokens even for the densest rows (R1-style text
# runs 2.3 to 3.5 characters per token; digits are one token each).
CLEAN_MAX_CHARS = 35_000
PLANTED_MAX_CHARS = 50_000  # natural lengths of defective rows stay clear of the 60,000-character bound
PER_CHUNK = {
    "exact_duplicate": 10,
    "exact_duplicate_formatted": 10,
    "near_duplicate": 10,
    "benchmark_verbatim": 4,
    "benchmark_formatted": 4,
    "benchmark_embedded": 4,
    "benchmark_reworded": 4,
    "wrong_answer": 10,
    "missing_boxed": 8,
    "mislabeled_correct": 8,
    "mislabeled_incorrect": 8,
    "truncated": 10,
    "double_think": 6,
    "empty_think": 6,
    "overlong": 6,
    "token_heavy": 6,
    "finish_reason_missing": 4,
    "looping": 6,
    "mixed_script": 6,
    "mcq": 60,
    "proof": 20,
}
# Planted kinds whose defect is not in the traces: their generations are drawn like a clean row's.
NATURAL_TRACES = (
    "mcq",
    "finish_reason_missing",
    "exact_duplicate",
    "exact_duplicate_formatted",
    "near_duplicate",
    "benchmark_verbatim",
    "benchmark_formatted",
    "benchmark_embedded",
    "benchmark_reworded",
)
DUPLICATE_KINDS = ("exact_duplicate", "exact_duplicate_formatted", "near_duplicate")
BENCHMARK_KINDS = ("benchmark_verbatim", "benchmark_formatted", "benchmark_embedded", "benchmark_reworded")
BENCHMARK_SLOTS = sum(PER_CHUNK[k] for k in BENCHMARK_KINDS)
PROMPT_SUFFIX = " Please reason step by step, and put your final answer within \\boxed{}."
LLAMA_JUDGED = 0.12  # share of rows with correctness_llama filled in (the rest are null)


# --------------------------------------------------------------------------------------------- data
@lru_cache(maxsize=1)
def real_problems() -> tuple[dict[str, Any], ...]:
    data = resources.files("curate.synthetic") / "data" / "realdata.jsonl.gz"
    with data.open("rb") as handle, gzip.open(handle, "rt", encoding="utf-8") as text:
        return tuple(json.loads(line) for line in text)


@lru_cache(maxsize=1)
def benchmark_seeds() -> tuple[dict[str, Any], ...]:
    data = resources.files("curate.synthetic") / "data" / "benchmark_seeds.jsonl"
    return tuple(json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip())


def _hash_int(*parts: object) -> int:
    return xxhash.xxh3_64_intdigest(":".join(map(str, parts)).encode())


def row_uuid(seed: int, row: int) -> str:
    """A version-4-shaped UUID derived from (seed, row), so any row's uuid is known without generating it."""
    raw = bytearray(xxhash.xxh3_128_digest(f"uuid:{seed}:{row}".encode()))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=64)
def schedule(seed: int, chunk: int) -> tuple[str, ...]:
    """The kind of every position of a full chunk: planted kinds at seeded positions, real rows at fixed
    positions of chunk 0, copies never before position EARLIEST_COPY."""
    r = Random(_hash_int("schedule", seed, chunk))
    real = {REAL_OFFSET + REAL_STRIDE * i for i in range(len(real_problems()))} if chunk == 0 else set()
    kinds = [kind for kind, count in PER_CHUNK.items() for _ in range(count)]
    kinds += ["clean"] * (CHUNK_ROWS - len(real) - len(kinds))
    r.shuffle(kinds)
    order = iter(kinds)
    slots = ["real" if pos in real else next(order) for pos in range(CHUNK_ROWS)]
    late_clean = [p for p in range(CHUNK_ROWS - 1, EARLIEST_COPY - 1, -1) if slots[p] == "clean"]
    for pos in range(EARLIEST_COPY):
        if slots[pos] in DUPLICATE_KINDS:
            swap = late_clean.pop()
            slots[pos], slots[swap] = "clean", slots[pos]
    return tuple(slots)


def benchmark_item(seed: int, slot: int) -> dict[str, Any]:
    """Benchmark copies walk a seeded permutation of the bundled items, so each item is used once before
    any repeats (290 items: one pass covers the first 18,000 rows)."""
    items = benchmark_seeds()
    order = list(range(len(items)))
    Random(_hash_int("benchmarks", seed)).shuffle(order)
    return items[order[slot % len(items)]]


def benchmark_slot_row(seed: int, slot: int) -> int:
    """The global row index of benchmark slot `slot`."""
    chunk, index = divmod(slot, BENCHMARK_SLOTS)
    positions = [p for p, kind in enumerate(schedule(seed, chunk)) if kind in BENCHMARK_KINDS]
    return chunk * CHUNK_ROWS + positions[index]


# ---------------------------------------------------------------------------------------------- rows
@dataclass
class Base:
    """A row's problem before generations: what duplicates copy from their original."""

    problem: str
    answer: str
    solution: str
    problem_type: str
    question_type: str
    source: str
    gist: str
    steps: tuple[str, ...]
    checks: tuple[str, ...]
    wrong: tuple[str, ...]
    real_trace: str | None = None
    choice_value: str | None = None  # for MCQ rows: the option's value behind the stored letter


@dataclass
class Row:
    """A generated row: its problem, its generations and their labels, and its manifest details."""

    base: Base
    kind: str
    uuid: str
    generations: list[str] = field(default_factory=list)
    complete: list[bool] = field(default_factory=list)
    finish: list[str | None] = field(default_factory=list)
    math_verify: list[bool] = field(default_factory=list)
    llama: list[bool] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    correct_count: int = 0
    words: int = 0  # tokens of the normalised problem, for choosing near-duplicate originals


def _family_base(r: Random, kind: str) -> Base:
    if kind == "proof":
        family = r.choice(families.PROOF_FAMILIES)
        source = r.choice(("olympiads", "inequalities", "olympiads_ref", "number_theory", "cn_contest"))
    else:
        family = r.choices([f for f, _ in families.FAMILIES], cum_weights=_FAMILY_CUM)[0]
        source = styles.pick_source(r)
    p = family(r)
    wrong = tuple(w for w in dict.fromkeys(p.wrong) if w != p.answer) or (f"{p.answer}+1",)
    body, answer, qtype, value = p.text, p.answer, p.question_type, None
    if kind == "mcq":
        choice = styles.multiple_choice(r, source, body, p.answer, wrong)
        body, answer, qtype, value = choice.text, choice.answer, "MCQ", choice.value
        wrong = (
            tuple(styles.LETTERS[i] for i in range(4) if styles.LETTERS[i] != choice.letter)
            if answer == choice.letter
            else wrong
        )
    text = styles.decorate(r, source, body)
    return Base(
        text, answer, p.solution, p.problem_type, qtype, source, p.gist, p.steps, p.checks, wrong, None, value
    )


_FAMILY_CUM = tuple(sum(w for _, w in families.FAMILIES[: i + 1]) for i in range(len(families.FAMILIES)))
_PROBLEM_TYPES = ("Algebra", "Algebra", "Algebra", "Number Theory", "Combinatorics", "Geometry", "Calculus")


def _generic_base(
    r: Random,
    problem: str,
    answer: str,
    solution: str,
    ptype: str,
    qtype: str,
    source: str,
    trace: str | None = None,
) -> Base:
    steps, checks = traces.generic_steps(problem, answer)
    if len(answer) == 1 and answer in styles.LETTERS:
        wrong: tuple[str, ...] = tuple(x for x in styles.LETTERS[:4] if x != answer)
    else:
        try:
            wrong = families.wrongs(r, Fraction(answer))
        except ValueError:
            wrong = (f"{answer}+1", f"-{answer}" if not answer.startswith("-") else answer[1:], "0", "1")
    wrong = tuple(w for w in wrong if w != answer)
    return Base(
        problem,
        answer,
        solution,
        ptype,
        qtype,
        source,
        "the answer to this problem",
        steps,
        checks,
        wrong,
        trace,
    )


def _real_base(r: Random, index: int) -> Base:
    rec = real_problems()[index]
    return _generic_base(
        r,
        rec["problem"],
        rec["answer"],
        rec["solution"],
        rec["problem_type"],
        rec["question_type"],
        rec["source"],
        rec["trace"],
    )


def _benchmark_base(r: Random, kind: str, item: dict[str, Any], other: Base) -> tuple[Base, dict[str, Any]]:
    copy = kind.removeprefix("benchmark_")
    info: dict[str, Any] = {"benchmark": item["benchmark"], "item_id": item["id"], "copy": copy}
    text = item["problem"]
    if copy == "verbatim":
        variant = r.choice([None, *item["variants"]])
        if variant is not None:
            text = variant["problem"]
        info["text_from"] = "base" if variant is None else variant["file"]
    elif copy == "formatted":
        text, changes = planting.reformat(r, text)
        if r.random() < 0.3:
            text, changes = text.rstrip() + PROMPT_SUFFIX, [*changes, "prompt_suffix"]
        info["changes"] = changes
    elif copy == "embedded":
        text, how = planting.embed(r, text, styles.decorate(r, other.source, other.problem).strip())
        info["how"] = how
    else:
        text, changes = planting.reword(r, text)
        info["changes"] = changes
    source = (
        "amc_aime"
        if item["benchmark"].startswith(("aime", "amc")) and r.random() < 0.7
        else styles.pick_source(r)
    )
    solution = "The computation gives the required value.\n\nAnswer: $" + item["answer"] + "$."
    return _generic_base(
        r, text, item["answer"], solution, r.choice(_PROBLEM_TYPES), "math-word-problem", source
    ), info


def _pick_original(r: Random, rows: list[Row], used: set[int], words: int = 0) -> int | None:
    """An earlier clean row with two or more correct generations (so it beats its copy under a
    'most verified generations' survivor rule), not copied before."""
    candidates = [
        i
        for i, row in enumerate(rows)
        if row.kind == "clean" and i not in used and row.correct_count >= 2 and row.words >= words
    ]
    return candidates[r.randrange(len(candidates))] if candidates else None


def _copy_base(original: Base, problem: str) -> Base:
    return Base(
        problem,
        original.answer,
        original.solution,
        original.problem_type,
        original.question_type,
        original.source,
        original.gist,
        original.steps,
        original.checks,
        original.wrong,
    )


# ------------------------------------------------------------------------------------------- generations
def _plan(r: Random, kind: str, base: Base, n: int) -> list[tuple[traces.GenSpec, bool, bool | None]]:
    """Per generation: what to write, the math-verify label and the llama label (None: not judged)."""
    gold, wrong = base.answer, base.wrong
    note = f"The correct choice is ({gold})." if base.choice_value is not None and len(gold) == 1 else ""

    def spec(length: int, box: str, final: str | None = None, mode: str = "complete") -> traces.GenSpec:
        return traces.GenSpec(
            length, box, final if final is not None else box, mode, note if box == gold else ""
        )

    plan: list[tuple[traces.GenSpec, bool, bool | None]] = []
    natural = kind not in planting.KINDS or kind in NATURAL_TRACES
    for i in range(n):
        length = draw_length(r) if natural else min(draw_length(r), PLANTED_MAX_CHARS)
        bad = wrong[i % len(wrong)]
        if kind == "wrong_answer":
            plan.append((spec(length, bad), False, False))
        elif kind == "missing_boxed":
            plan.append((spec(length, gold, mode="unboxed"), False, True))
        elif kind == "mislabeled_correct":
            plan.append((spec(length, gold, bad), True, True))
        elif kind == "mislabeled_incorrect":
            plan.append((spec(min(length, CLEAN_MAX_CHARS), gold), False, False))
        elif kind == "truncated":  # the judge accepted the first cut-off trace: it had reached the answer
            plan.append((spec(r.randint(40_000, 58_000), gold, mode="truncated"), False, i == 0))
        elif kind == "double_think":
            plan.append((spec(length, gold, mode="double"), True, True))
        elif kind == "empty_think":
            plan.append((spec(r.randint(500, 2500), gold, mode="empty"), True, True))
        elif kind == "overlong":
            plan.append((spec(r.randint(68_000, 100_000), gold), True, True))
        elif kind == "token_heavy":
            plan.append((spec(r.randint(46_000, 57_000), gold, mode="digits"), True, True))
        elif kind == "proof":
            plan.append((spec(length, gold, mode="proof"), False, None))
        elif kind in ("looping", "mixed_script"):  # right and short enough: only the trace filters drop it
            mode = "loop" if kind == "looping" else "mixed"
            plan.append((spec(min(length, CLEAN_MAX_CHARS), gold, mode=mode), True, True))
        else:
            roll = r.random()
            if roll < 0.12:
                plan.append((spec(length, bad), False, False))
            elif roll < 0.2:
                plan.append((spec(max(length, 30_000), gold, mode="truncated"), False, False))
            else:
                plan.append((spec(length, gold), True, True))
    if natural and not any(
        ok and s.mode == "complete" and s.length <= CLEAN_MAX_CHARS for s, ok, _ in plan
    ):  # make one generation a short correct one: a wrong or cut one if there is one, else the longest
        failed = [i for i, (_, ok, _) in enumerate(plan) if not ok]
        i = failed[0] if failed else max(range(n), key=lambda j: plan[j][0].length)
        plan[i] = (spec(min(draw_length(r), CLEAN_MAX_CHARS), gold), True, True)
    return plan


def _generate_row(r: Random, row: Row) -> None:
    base = row.base
    kind = row.kind
    n = r.choices((2, 3, 4), cum_weights=(0.8, 0.87, 1.0))[0]
    plan = _plan(r, kind, base, n - 1 if base.real_trace is not None else n)
    ctx = traces.TraceContext(
        base.problem, base.gist, base.steps, base.checks, traces.numbers_in(base.problem)
    )
    builder = traces.RowTraces(r, np.random.Generator(np.random.PCG64(r.getrandbits(64))), ctx)
    gens: list[str] = []
    complete: list[bool] = []
    finish: list[str | None] = []
    mv: list[bool] = []
    llama: list[bool] = []
    for spec, verified, judged in plan:
        gens.append(traces.render(r, builder, spec))
        complete.append(spec.mode != "truncated")
        finish.append("length" if spec.mode == "truncated" else "stop")
        mv.append(verified)
        llama.append(bool(judged))
    if base.real_trace is not None:  # the real trace (another model's, mostly cut off) joins the row
        closed = "</think>" in base.real_trace
        right = closed and traces.final_box(base.real_trace) == base.answer
        gens.append(base.real_trace)
        complete.append(closed)
        finish.append("stop" if closed else "length")
        mv.append(right)
        llama.append(right)
    if kind == "finish_reason_missing":
        finish = [None] * len(gens)
    judged_row = kind in ("missing_boxed", "truncated") or (
        kind not in ("mislabeled_incorrect", "wrong_answer") and r.random() < LLAMA_JUDGED
    )
    row.generations, row.complete, row.finish, row.math_verify = gens, complete, finish, mv
    row.llama = llama if judged_row else None
    row.correct_count = sum(m or bool(judged_row and j) for m, j in zip(mv, llama))


def generate_chunk(seed: int, chunk: int, rows: int) -> tuple[pa.Table, dict[str, dict[str, Any]]]:
    """Rows [chunk * CHUNK_ROWS, chunk * CHUNK_ROWS + rows) as an Arrow table, plus their manifest entries."""
    slots = schedule(seed, chunk)
    generated: list[Row] = []
    used: set[int] = set()
    bench_seen = 0
    for pos in range(rows):
        g = chunk * CHUNK_ROWS + pos
        r = Random(_hash_int("row", seed, g))
        kind = slots[pos]
        info: dict[str, Any] = {}
        if kind == "real":
            index = (pos - REAL_OFFSET) // REAL_STRIDE
            base = _real_base(r, index)
            info["real_index"] = index
            kind = "mcq" if base.question_type == "MCQ" else "clean"
            info["real"] = True
        elif kind in BENCHMARK_KINDS:
            slot = chunk * BENCHMARK_SLOTS + bench_seen
            bench_seen += 1
            item = benchmark_item(seed, slot)
            base, info = _benchmark_base(r, kind, item, _family_base(r, "clean"))
            if slot >= len(benchmark_seeds()):
                info["repeats"] = row_uuid(seed, benchmark_slot_row(seed, slot - len(benchmark_seeds())))
        elif kind in DUPLICATE_KINDS:
            base, info, kind = _duplicate_base(r, kind, generated, used)
        else:
            base = _family_base(r, kind)
        row = Row(base, kind, row_uuid(seed, g), info=info)
        if kind == "clean":
            row.words = len(planting.tokens(base.problem))
        _generate_row(r, row)
        if kind in DUPLICATE_KINDS:
            _keep_below_original(row)
        generated.append(row)
    manifest = {
        row.uuid: _manifest_entry(chunk * CHUNK_ROWS + i, row)
        for i, row in enumerate(generated)
        if row.kind in planting.KINDS
    }
    return _to_table(generated), manifest


def _duplicate_base(
    r: Random, kind: str, rows: list[Row], used: set[int]
) -> tuple[Base, dict[str, Any], str]:
    words = 40 if kind == "near_duplicate" else 0  # tokens: a short edit then keeps Jaccard >= 0.93
    index = _pick_original(r, rows, used, words)
    original = rows[index].base if index is not None else None
    if original is not None:
        text = original.problem
        info: dict[str, Any] = {}
        if kind == "exact_duplicate_formatted":
            text, changes = planting.reformat(r, text)
            info["changes"] = changes
        elif kind == "near_duplicate":
            near = planting.near_copy(r, text)
            if near is not None:
                text, info["edit"], info["jaccard_5gram"] = near
            else:
                original = None
        if original is not None:
            used.add(index)  # type: ignore[arg-type]
            info["duplicate_of"] = rows[index].uuid  # type: ignore[index]
            return _copy_base(original, text), info, kind
    return _family_base(r, "clean"), {}, "clean"


def _keep_below_original(row: Row) -> None:
    """A copy keeps exactly one correct generation (its shortest complete one), so its original, which has
    two or more, wins a 'most verified generations' survivor rule."""
    correct = [i for i, ok in enumerate(row.math_verify) if ok and row.complete[i]]
    keep = min(correct, key=lambda i: len(row.generations[i]))
    for i, ok in enumerate(row.math_verify):
        if ok and i != keep:
            row.math_verify[i] = False
            if row.llama is not None:
                row.llama[i] = False
            row.generations[i] = traces.rebox(row.generations[i], row.base.wrong[0])
    row.correct_count = 1


def _manifest_entry(g: int, row: Row) -> dict[str, Any]:
    filters, _ = planting.KINDS[row.kind]
    entry: dict[str, Any] = {"row": g, "kind": row.kind, "filters": list(filters), **row.info}
    if row.kind in planting.ANSWER_VERIFY_MODES:
        entry["answer_verify"] = planting.ANSWER_VERIFY_MODES[row.kind]
    return entry


def _list_array(lists: list[list[Any]], value_type: pa.DataType) -> pa.Array:
    """A list<value_type> column built from one flat array and offsets (much faster than from_pydict)."""
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum([len(x) for x in lists], out=offsets[1:])
    flat = pa.array([v for x in lists for v in x], type=value_type)
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


def _to_table(rows: list[Row]) -> pa.Table:
    def selected(row: Row) -> str:
        for text, ok in zip(row.generations, row.math_verify):
            if ok:
                return text
        return row.generations[0]

    problems_ = [r.base.problem for r in rows]
    llama = pa.array([r.llama for r in rows], type=pa.list_(pa.bool_()))
    contents = pa.array([x for r, p in zip(rows, problems_) for x in (p, selected(r))], type=pa.string())
    roles = pa.array(["user", "assistant"] * len(rows), type=pa.string())
    messages = pa.ListArray.from_arrays(
        pa.array(np.arange(0, 2 * len(rows) + 1, 2, dtype=np.int32)),
        pa.StructArray.from_arrays([contents, roles], fields=list(schema.MESSAGE)),
    )
    columns = [
        pa.array(problems_, pa.string()),
        pa.array([r.base.solution for r in rows], pa.string()),
        pa.array([r.base.answer for r in rows], pa.string()),
        pa.array([r.base.problem_type for r in rows], pa.string()),
        pa.array([r.base.question_type for r in rows], pa.string()),
        pa.array([r.base.source for r in rows], pa.string()),
        pa.array([r.uuid for r in rows], pa.string()),
        _list_array([r.complete for r in rows], pa.bool_()),
        _list_array([r.generations for r in rows], pa.string()),
        _list_array([r.math_verify for r in rows], pa.bool_()),
        llama,
        _list_array([r.finish for r in rows], pa.string()),
        pa.array([r.correct_count for r in rows], pa.int64()),
        messages,
    ]
    return pa.Table.from_arrays(columns, schema=OPENR1_SCHEMA)
