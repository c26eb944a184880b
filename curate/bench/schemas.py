"""The benchmark corpus rewritten in each shipped source schema (`curate/data/presets`), so every preset's
recipe can be timed on the same text as the OpenR1 chain: OpenMathReasoning, OpenThoughts3 and
AM-DeepSeek-R1 hold one generation per row (the corpus's rows are split into one row per generation, as those
datasets publish them), NuminaMath-1.5 one written solution per problem (the text after the first
generation's `</think>`). Each file has exactly the columns and types its preset declares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.bench.corpus import Corpus
from curate.cache import temp_path_for
from curate.presets import explicit_schema, get

# preset -> its shipped recipe (recipes/)
RECIPES = {
    "openmathreasoning": "openmathreasoning-cot.yaml",
    "openthoughts3": "openthoughts3-math.yaml",
    "am-deepseek-r1-distilled": "am-deepseek-r1-math.yaml",
    "numinamath-1.5": "numinamath-1.5-solutions.yaml",
}
READ = ["problem", "answer", "source", "problem_type", "question_type", "generations"]


def _per_generation(batch: pa.Table) -> tuple[pa.Table, pa.Array]:
    """One row per generation: the row's columns repeated, and the generations flattened."""
    gens = batch.column("generations").combine_chunks()
    parents = pc.list_parent_indices(gens)
    return batch.take(parents), pc.list_flatten(gens)


def _split(texts: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(reasoning, answer) of each `<think>\\n...\\n</think>\\n\\n...` generation."""
    reasoning, answers = [], []
    for text in texts.to_pylist():
        head, sep, tail = (text or "").partition("</think>")
        reasoning.append(head.removeprefix("<think>").strip() if sep else None)
        answers.append(tail.strip() if sep else head)
    return pa.array(reasoning, pa.string()), pa.array(answers, pa.string())


def _constant(value: object, n: int, kind: pa.DataType) -> pa.Array:
    return pa.array([value] * n, kind)


def _omr(batch: pa.Table) -> dict[str, pa.Array]:
    rows, gens = _per_generation(batch)
    n = rows.num_rows
    return {
        "expected_answer": rows.column("answer"),
        "problem_type": _constant("has_answer_extracted", n, pa.string()),
        "problem_source": rows.column("source"),
        "generation_model": _constant("DeepSeek-R1", n, pa.string()),
        "pass_rate_72b_tir": _constant("0.5", n, pa.string()),
        "problem": rows.column("problem"),
        "generated_solution": gens,
        "inference_mode": _constant("cot", n, pa.string()),
        "used_in_kaggle": _constant(False, n, pa.bool_()),
    }


def _turns(first: pa.Array, second: pa.Array, fields: dict[str, tuple[pa.Array, pa.Array]]) -> pa.Array:
    """Two-turn conversations, turn by turn: each struct field from its (first turn, second turn) arrays."""
    n = len(first)
    order = np.empty(2 * n, dtype=np.int64)
    order[0::2], order[1::2] = np.arange(n), np.arange(n, 2 * n)
    columns = [pa.concat_arrays([a, b]).take(pa.array(order)) for a, b in fields.values()]
    values = pa.StructArray.from_arrays(columns, names=list(fields))
    return pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32)), values)


def _openthoughts(batch: pa.Table) -> dict[str, pa.Array]:
    rows, gens = _per_generation(batch)
    n = rows.num_rows
    problems = rows.column("problem").combine_chunks()
    speakers = (_constant("human", n, pa.string()), _constant("gpt", n, pa.string()))
    return {
        "difficulty": _constant(5, n, pa.int64()),
        "source": rows.column("source"),
        "domain": _constant("math", n, pa.string()),
        "conversations": _turns(problems, gens, {"from": speakers, "value": (problems, gens)}),
    }


def _am(batch: pa.Table) -> dict[str, pa.Array]:
    rows, gens = _per_generation(batch)
    n = rows.num_rows
    reasoning, answers = _split(gens)
    none = pa.nulls(n, pa.string())
    info = {
        "source": (_constant("NuminaMath_1.5", n, pa.string()), none),
        "reference_answer": (rows.column("answer").combine_chunks(), none),
        "think_content": (none, reasoning),
        "answer_content": (none, answers),
    }
    user = rows.column("problem").combine_chunks()
    turns = _turns(
        user,
        gens,
        {
            "role": (_constant("user", n, pa.string()), _constant("assistant", n, pa.string())),
            "content": (user, gens),
        },
    )
    # the `info` struct of each turn, in the same turn order
    order = np.empty(2 * n, dtype=np.int64)
    order[0::2], order[1::2] = np.arange(n), np.arange(n, 2 * n)
    info_values = pa.StructArray.from_arrays(
        [pa.concat_arrays([a, b]).take(pa.array(order)) for a, b in info.values()], names=list(info)
    )
    values = turns.values
    merged = pa.StructArray.from_arrays(
        [values.field("role"), values.field("content"), info_values], names=["role", "content", "info"]
    )
    return {"messages": pa.ListArray.from_arrays(turns.offsets, merged)}


def _numina(batch: pa.Table) -> dict[str, pa.Array]:
    first = pc.list_element(batch.column("generations").combine_chunks(), 0)
    _, solutions = _split(first)
    n = batch.num_rows
    return {
        "problem": batch.column("problem"),
        "solution": solutions,
        "answer": batch.column("answer"),
        "problem_type": batch.column("problem_type"),
        "question_type": batch.column("question_type"),
        "problem_is_valid": _constant("Yes", n, pa.string()),
        "solution_is_valid": _constant("Yes", n, pa.string()),
        "source": batch.column("source"),
        "synthetic": _constant(False, n, pa.bool_()),
    }


CONVERT: dict[str, Callable[[pa.Table], dict[str, pa.Array]]] = {
    "openmathreasoning": _omr,
    "openthoughts3": _openthoughts,
    "am-deepseek-r1-distilled": _am,
    "numinamath-1.5": _numina,
}


def _text_bytes(array: pa.Array | pa.ChunkedArray) -> int:
    """UTF-8 bytes of every string in a column, nested ones included."""
    if isinstance(array, pa.ChunkedArray):
        return sum(_text_bytes(chunk) for chunk in array.chunks)
    kind = array.type
    if pa.types.is_list(kind):
        return _text_bytes(pc.list_flatten(array))
    if pa.types.is_struct(kind):
        return sum(_text_bytes(array.field(i)) for i in range(kind.num_fields))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return int(pc.sum(pc.binary_length(array)).as_py() or 0)
    return 0


def _batches(corpus: Corpus) -> Iterator[pa.Table]:
    parquet = pq.ParquetFile(corpus.path)
    for group in range(parquet.num_row_groups):
        yield parquet.read_row_group(group, columns=READ)


def convert(corpus: Corpus, preset: str, path: Path) -> Corpus:
    """`corpus` in `preset`'s schema, written to `path`; its text bytes counted as one column, `text`."""
    schema = explicit_schema(get(preset))
    rows = text = 0
    tmp = temp_path_for(path)
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd", compression_level=1) as writer:
            for batch in _batches(corpus):
                columns = CONVERT[preset](batch)
                table = pa.table({name: columns[name] for name in schema.names}).cast(schema)
                writer.write_table(table, row_group_size=max(table.num_rows, 1))
                rows += table.num_rows
                text += sum(_text_bytes(table.column(i)) for i in range(table.num_columns))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Corpus(path, rows, corpus.seed, {"text": text}, path.stat().st_size)
