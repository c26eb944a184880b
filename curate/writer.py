"""Writing the drawn rows: verl-ready train/test parquet, streamed from the source in one pass."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from curate.formatting import build_messages, format_kwargs
from curate.outputs import SplitWriter
from curate.recipe import FormatSpec
from curate.sampling import Split
from curate.steps import progress
from curate.table import SourceTable
from curate.tokenizer import TokenCounter, load_counter


def write_splits(
    staging: Path,
    table: SourceTable,
    survivors: pl.DataFrame,
    split: Split,
    spec: FormatSpec,
    counter: TokenCounter | None = None,
) -> None:
    """Stream the drawn rows, in source order, into `train.parquet` and `test.parquet` (verl's format)."""
    chosen = np.union1d(split.train, split.test)
    picked = survivors.filter(pl.col("row_id").is_in(chosen))
    selected = dict(zip(picked["row_id"].to_list(), picked["selected"].to_list()))
    fields = {
        rid: json.loads(f) if f else {}
        for rid, f in zip(picked["row_id"].to_list(), picked["fields"].to_list())
    }
    # token_length records the counts it took; the rows it kept on a byte bound alone (and every row, without
    # that filter) are counted here, with its tokenizer (`counter`) or Qwen3's.
    if any("num_tokens" not in f for f in fields.values()):
        counter = counter or load_counter("qwen3")
    test_ids = set(split.test.tolist())
    writers = {"train": SplitWriter(staging / "train.parquet"), "test": SplitWriter(staging / "test.parquet")}
    columns = ["uuid", "problem", "answer", "source", "problem_type", "question_type", "generations"]
    kwargs = format_kwargs(spec)
    with progress(chosen.size, "write") as bar:
        for chunk in table.iter_rows(columns, chosen, batch_rows=1024):
            rows = []
            for row in chunk.iter_rows(named=True):
                rid = row["row_id"]
                index = selected[rid]
                messages = build_messages(row["problem"], row["generations"][index], **kwargs)
                rows.append(
                    (
                        rid,
                        {
                            "messages": messages,
                            "uuid": row["uuid"],
                            "source": row["source"],
                            "problem_type": row["problem_type"],
                            "question_type": row["question_type"],
                            "answer": row["answer"],
                            "data_source": spec.data_source,
                            "category": spec.category,
                            "num_tokens": fields[rid].get("num_tokens"),
                            "generation_index": index,
                        },
                    )
                )
            if counter is not None:
                missing = [r for _, r in rows if r["num_tokens"] is None]
                for r, n in zip(missing, counter.count_batch([r["messages"] for r in missing])):
                    r["num_tokens"] = n
            for rid, r in rows:
                writers["test" if rid in test_ids else "train"].write(r)
            bar.update(chunk.height)
    for writer in writers.values():
        writer.close()
