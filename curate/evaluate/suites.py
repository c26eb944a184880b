"""Evaluation suites: `t0`, one bundled benchmark by name, or a user jsonl of `id`, `problem`, `answer`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.benchmarks import NAMES as BENCHMARKS
from curate.benchmarks import T0, canonical
from curate.errors import CurateError
from curate.jsonl import iter_jsonl

# T0 is the model card's set (README, "Evaluate: `curate eval`"): aime2025 + aime2026 + amc23 = 100 problems, canonical
# wordings only (the variants are for decontamination).
SUITES = ("t0", *BENCHMARKS)


@dataclass(frozen=True)
class Problem:
    dataset: str
    id: str | int
    problem: str
    answer: str

    @property
    def key(self) -> str:
        """Identity across runs: ids are only unique within a dataset, and may be ints (amc23)."""
        return f"{self.dataset}/{self.id}"


def resolve_suite(spec: str, limit: int | None = None) -> list[Problem]:
    """The problems of a suite, in a fixed order; `limit` keeps the first N problems of each dataset."""
    if spec == "t0":
        names: tuple[str, ...] = T0
    elif spec in BENCHMARKS:
        names = (spec,)
    else:
        path = Path(spec)
        if not path.is_file():
            raise CurateError(
                f"unknown suite {spec!r}",
                hint=f"use one of {', '.join(SUITES)} or a jsonl file of id, problem, answer",
            )
        return _limit(load_jsonl_suite(path), limit)
    problems: list[Problem] = []
    for name in names:
        problems.extend(_limit(_benchmark(name), limit))
    return problems


def load_jsonl_suite(path: Path) -> list[Problem]:
    """A user suite: one JSON object a line with `id`, `problem`, `answer` (and optionally `dataset`,
    which defaults to the file's stem)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for where, _, record in iter_jsonl(path):
        problem = _problem(record, path.stem, where)
        if problem.key in seen:
            raise CurateError(f"duplicate id {problem.id!r} in dataset {problem.dataset!r}", where=where)
        seen.add(problem.key)
        problems.append(problem)
    if not problems:
        raise CurateError("no problems in this file", where=str(path))
    return problems


def _problem(record: Any, default_dataset: str, where: str) -> Problem:
    if not isinstance(record, dict):
        raise CurateError("each line must be a JSON object with id, problem, answer", where=where)
    missing = [key for key in ("id", "problem", "answer") if key not in record]
    if missing:
        raise CurateError(
            f"missing {', '.join(missing)}", where=where, hint="each line needs id, problem, answer"
        )
    ident, problem, answer = record["id"], record["problem"], record["answer"]
    if not isinstance(ident, (str, int)) or isinstance(ident, bool):
        raise CurateError(f"id must be a string or an integer, got {ident!r}", where=where)
    if not isinstance(problem, str) or not problem.strip():
        raise CurateError("problem must be a non-empty string", where=where)
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        answer = str(answer)
    if not isinstance(answer, str) or not answer.strip():
        raise CurateError(f"answer must be a non-empty string or number, got {answer!r}", where=where)
    dataset = record.get("dataset", default_dataset)
    if not isinstance(dataset, str) or not dataset:
        raise CurateError(f"dataset must be a non-empty string, got {dataset!r}", where=where)
    return Problem(dataset=dataset, id=ident, problem=problem, answer=answer)


def _benchmark(name: str) -> list[Problem]:
    return [
        _problem({"id": item.id, "problem": item.problem, "answer": item.answer}, name, f"{name} {item.id}")
        for item in canonical(name)
    ]


def _limit(problems: list[Problem], limit: int | None) -> list[Problem]:
    if limit is None:
        return problems
    counts: dict[str, int] = {}
    kept = []
    for problem in problems:
        counts[problem.dataset] = counts.get(problem.dataset, 0) + 1
        if counts[problem.dataset] <= limit:
            kept.append(problem)
    return kept
