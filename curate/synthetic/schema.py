"""The Arrow schema of open-r1/OpenR1-Math-220k's parquet files (its dataset card's `dataset_info`):
column order, types, and `messages` as a list of {content, role} structs in that field order."""

from __future__ import annotations

import pyarrow as pa

MESSAGE = pa.struct([("content", pa.string()), ("role", pa.string())])

OPENR1_SCHEMA = pa.schema(
    [
        ("problem", pa.string()),
        ("solution", pa.string()),
        ("answer", pa.string()),
        ("problem_type", pa.string()),
        ("question_type", pa.string()),
        ("source", pa.string()),
        ("uuid", pa.string()),
        ("is_reasoning_complete", pa.list_(pa.bool_())),
        ("generations", pa.list_(pa.string())),
        ("correctness_math_verify", pa.list_(pa.bool_())),
        ("correctness_llama", pa.list_(pa.bool_())),
        ("finish_reasons", pa.list_(pa.string())),
        ("correctness_count", pa.int64()),
        ("messages", pa.list_(MESSAGE)),
    ]
)
