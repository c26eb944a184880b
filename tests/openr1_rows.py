"""Small OpenR1-Math-220k-shaped tables for engine tests, built row by row so each case is explicit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.synthetic import OPENR1_SCHEMA


def trace(reasoning: str, answer: str) -> str:
    return f"<think>\n{reasoning}\n</think>\n\nThe answer is $\\boxed{{{answer}}}$."


def row(
    uuid: str,
    problem: str,
    answer: str,
    generations: list[str],
    *,
    source: str = "olympiads",
    question_type: str = "math-word-problem",
    problem_type: str = "Algebra",
    complete: list[bool] | None = None,
    finish: list[str | None] | None = None,
    labels: list[bool] | None = None,
) -> dict[str, Any]:
    n = len(generations)
    labels = labels if labels is not None else [True] * n
    return {
        "problem": problem,
        "solution": f"Solution. The answer is {answer}.",
        "answer": answer,
        "problem_type": problem_type,
        "question_type": question_type,
        "source": source,
        "uuid": uuid,
        "is_reasoning_complete": complete if complete is not None else [True] * n,
        "generations": generations,
        "correctness_math_verify": labels,
        "correctness_llama": None,
        "finish_reasons": finish if finish is not None else ["stop"] * n,
        "correctness_count": sum(labels),
        "messages": [
            {"role": "user", "content": problem},
            {"role": "assistant", "content": generations[0] if n else ""},
        ],
    }


def many(count: int, start: int = 0, **kwargs: Any) -> list[dict[str, Any]]:
    """`count` distinct well-formed rows with two generations each (the second one longer)."""
    rows = []
    for i in range(start, start + count):
        a = str(i * 7 + 3)
        problem = f"{i}. Find the value of $x$ if $x - {i * 7} = 3$ and the machine number {i} is ignored."
        gens = [
            trace(f"We solve x - {i * 7} = 3 so x = {a}.", a),
            trace(f"Let me think carefully. x - {i * 7} = 3, hence x = {a}. Check: {a} - {i * 7} = 3.", a),
        ]
        rows.append(row(f"uuid-{i:05d}", problem, a, gens, **kwargs))
    return rows


def write(path: Path, rows: list[dict[str, Any]], row_group_size: int = 7) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=OPENR1_SCHEMA), path, row_group_size=row_group_size)
    return path
