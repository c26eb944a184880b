"""`curate eval suite`: write a training pool's problems as an evaluation suite, ids = the rows' uuids.

This closes the loop curate -> train -> eval -> curate: evaluate a model on the pool
(`curate eval run --suite pool.jsonl`), then select rows by how often it solved them with the `pass_rate`
filter, which reads the `scored.jsonl` of that run by uuid.

The pool is a `curate run` output folder (its train and/or test rows; the problem is the user turn with the
recipe's `user_template` taken off), a recipe (every row of its source), or any source `--source` takes (a
parquet/jsonl path or glob, `sample`, a Hub dataset id). Rows without an answer cannot be judged and are left
out (counted); a uuid seen twice is an error, since rates are looked up by uuid.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from curate.cache import temp_path_for
from curate.errors import CurateError
from curate.outputs import RunOutput

log = logging.getLogger("curate")

SPLITS = ("all", "train", "test")


@dataclass(frozen=True)
class PoolSuite:
    path: Path
    written: int
    no_answer: int


def write_pool_suite(target: str, out: Path, *, dataset: str = "pool", split: str = "all") -> PoolSuite:
    """Write `target`'s problems to `out` as suite lines `{id, dataset, problem, answer}`, in source order."""
    if split not in SPLITS:
        raise CurateError(f"unknown split {split!r}", hint=f"use one of {', '.join(SPLITS)}")
    if not dataset:
        raise CurateError("--dataset must be a non-empty name")
    output = RunOutput(target)
    if output.is_output():
        rows = _output_rows(output, split)
    else:
        if split != "all":
            raise CurateError("--split applies to a curate output folder", hint="leave it out for a source")
        rows = _source_rows(target)
    written = no_answer = 0
    seen: set[str] = set()
    tmp = temp_path_for(out)
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for uuid, problem, answer in rows:
                if uuid in seen:
                    raise CurateError(
                        f"uuid {uuid!r} appears twice", where=target, hint="uuids must be unique"
                    )
                seen.add(uuid)
                if not answer or not answer.strip() or not problem or not problem.strip():
                    no_answer += 1
                    continue
                record = {"id": uuid, "dataset": dataset, "problem": problem, "answer": answer}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
        if not written:
            raise CurateError("no row with a problem and an answer", where=target)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("%s: %d problems (%d without an answer left out)", out, written, no_answer)
    return PoolSuite(out, written, no_answer)


def _output_rows(output: RunOutput, split: str) -> Iterator[tuple[str, str, str]]:
    """A curate output's rows, the problem recovered from the user turn."""
    template = output.user_template()
    prefix, _, suffix = template.partition("{problem}")
    names = ("train", "test") if split == "all" else (split,)
    for name in names:
        file = output.split_path(name)
        if not file.is_file():
            if split != "all":
                raise CurateError(f"no {file.name} here", where=str(output.path))
            continue
        for batch in output.split_batches(name, ["uuid", "answer", "messages"]):
            for uuid, answer, messages in zip(*(batch.column(c).to_pylist() for c in ("uuid", "answer", "messages"))):
                user = next((m["content"] for m in messages if m["role"] == "user"), None)
                if user is None or not (user.startswith(prefix) and user.endswith(suffix)):
                    raise CurateError(
                        f"row {uuid}: the user turn does not follow the recipe's user_template {template!r}",
                        where=str(file),
                    )
                yield uuid, user[len(prefix) : len(user) - len(suffix)], answer


def _source_rows(target: str) -> Iterator[tuple[str, str, str]]:
    """Every row of a recipe's source, or of a source given as `--source` takes it."""
    from curate.executors import make_executor
    from curate.mix import open_sources
    from curate.recipe import load_recipe, parse_recipe, parse_source_override
    from curate.spill import spill_folder

    if target.endswith((".yaml", ".yml")) and Path(target).is_file():
        recipe = load_recipe(target)
    else:
        recipe = parse_recipe("name: pool\noutput: {dir: unused}\nsource: {sample: true}\n")
        recipe = recipe.with_overrides(source=parse_source_override(target))
    sources = open_sources(recipe)
    executor = make_executor("local", None, None)
    try:
        with spill_folder() as folder:
            sources.check({None: {c: "curate eval suite" for c in ("uuid", "problem", "answer")}}, executor, folder)
            for frame in sources.table.iter_rows(["uuid", "problem", "answer"]):
                yield from frame.select("uuid", "problem", "answer").iter_rows()
    finally:
        executor.close()
