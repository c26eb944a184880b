"""`curate eval score`: judge every completion of a rollouts file and compute the benchmark metrics.

The judged answer is the last `\\boxed{}` after `</think>` (or the consecutive boxes ending there, joined,
when the gold lists several parts: `curate.mathcheck.extract_answer`); a completion without `</think>` ran
out of tokens inside its reasoning and is wrong whatever it boxed there. `math-verify` compares it with the gold
answer symbolically (in worker processes with hard timeouts, since some inputs hang the parser); `exact`
compares normalised strings, the model card's stated rule.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.cache import atomic_write_text, cache_root, temp_path_for
from curate.errors import CurateError
from curate.evaluate.metrics import ProblemOutcome, compute_metrics
from curate.jsonl import iter_jsonl

JUDGES = ("math-verify", "exact")
SCORED = "scored.jsonl"
METRICS = "metrics.json"


def verdict_cache() -> Path:
    """math-verify verdicts are cached across runs: rescoring the same rollouts is near instant."""
    return cache_root() / "mathcheck" / "verdicts.sqlite"


@dataclass(frozen=True)
class Scored:
    records: list[dict[str, Any]]
    metrics: dict[str, Any]


def read_rollouts(path: Path) -> list[dict[str, Any]]:
    """The rollouts file's records, checked line by line: `id`, `dataset`, `answer`, `completions` (the
    same number for every problem), optional `finish_reasons` / `num_tokens` aligned with `completions`."""
    if not path.is_file():
        raise CurateError("no such rollouts file", where=str(path))
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    rollouts: int | None = None
    for where, _, record in iter_jsonl(path):
        _check_record(record, where)
        key = f"{record['dataset']}/{record['id']}"
        if key in seen:
            raise CurateError(f"problem {key} appears twice", where=where)
        seen.add(key)
        n = len(record["completions"])
        if rollouts is None:
            rollouts = n
        elif n != rollouts:
            raise CurateError(
                f"{n} completions where earlier problems have {rollouts}",
                where=where,
                hint="every problem needs the same number of rollouts",
            )
        records.append(record)
    if not records:
        raise CurateError("no rollouts in this file", where=str(path))
    return records


def _check_record(record: Any, where: str) -> None:
    if not isinstance(record, dict):
        raise CurateError("each line must be a JSON object", where=where)
    missing = [k for k in ("id", "dataset", "answer", "completions") if k not in record]
    if missing:
        raise CurateError(
            f"missing {', '.join(missing)}", where=where, hint="lines need id, dataset, answer, completions"
        )
    if not isinstance(record["id"], (str, int)) or isinstance(record["id"], bool):
        raise CurateError(f"id must be a string or an integer, got {record['id']!r}", where=where)
    if not isinstance(record["dataset"], str) or not record["dataset"]:
        raise CurateError("dataset must be a non-empty string", where=where)
    if isinstance(record["answer"], (int, float)) and not isinstance(record["answer"], bool):
        record["answer"] = str(record["answer"])
    if not isinstance(record["answer"], str) or not record["answer"].strip():
        raise CurateError("answer must be a non-empty string or number", where=where)
    completions = record["completions"]
    if (
        not isinstance(completions, list)
        or not completions
        or not all(isinstance(c, str) for c in completions)
    ):
        raise CurateError("completions must be a non-empty list of strings", where=where)
    for key, kinds in (("finish_reasons", (str,)), ("num_tokens", (int,))):
        values = record.get(key)
        if values is None:
            continue
        if (
            not isinstance(values, list)
            or len(values) != len(completions)
            or not all(v is None or (isinstance(v, kinds) and not isinstance(v, bool)) for v in values)
        ):
            raise CurateError(f"{key} must be a list aligned with completions", where=where)


def judge_records(
    records: list[dict[str, Any]], judge: str, workers: int | None = None, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Each record without its completions (they stay in the rollouts file), plus per completion the
    `extracted` answer, `correct`, and `judge_status` (math-verify's status, or correct / wrong for exact;
    `no_answer` when nothing was boxed after `</think>`)."""
    from curate.mathcheck import Verifier, exact_match, extract_answer

    if judge not in JUDGES:
        raise CurateError(f"unknown judge {judge!r}", hint=f"use one of {', '.join(JUDGES)}")
    extracted = [[extract_answer(text, r["answer"]) for text in r["completions"]] for r in records]
    pairs = [(r["answer"], p) for r, preds in zip(records, extracted) for p in preds if p is not None]
    if judge == "exact":
        statuses = ["correct" if exact_match(gold, pred) else "wrong" for gold, pred in pairs]
    elif pairs:
        # No more processes than there are 64-pair batches to keep busy.
        processes = max(1, min(workers or os.cpu_count() or 1, -(-len(pairs) // 64)))
        with Verifier(workers=processes, timeout=timeout, cache_path=verdict_cache()) as verifier:
            statuses = [result.status for result in verifier.verify_many(pairs)]
    else:
        statuses = []
    verdicts = iter(statuses)
    scored = []
    for record, preds in zip(records, extracted):
        status = [next(verdicts) if p is not None else "no_answer" for p in preds]
        out = {k: v for k, v in record.items() if k != "completions"}
        correct = [s == "correct" for s in status]
        out.update(extracted=preds, correct=correct, judge_status=status, num_correct=sum(correct))
        scored.append(out)
    return scored


def outcomes_of(scored: list[dict[str, Any]]) -> list[ProblemOutcome]:
    from curate.mathcheck import normalize_answer

    outcomes = []
    for record in scored:
        n = len(record["correct"])
        outcomes.append(
            ProblemOutcome(
                dataset=record["dataset"],
                correct=tuple(record["correct"]),
                votes=tuple(normalize_answer(p) if p is not None else None for p in record["extracted"]),
                finish_reasons=tuple(record.get("finish_reasons") or [None] * n),
                num_tokens=tuple(record.get("num_tokens") or [None] * n),
            )
        )
    return outcomes


def score_file(
    rollouts: Path,
    out_dir: Path,
    judge: str = "math-verify",
    workers: int | None = None,
    timeout: float = 10.0,
) -> Scored:
    """Judge `rollouts`, write `scored.jsonl` and `metrics.json` into `out_dir` (each whole or not at all)."""
    records = read_rollouts(rollouts)
    scored = judge_records(records, judge, workers, timeout)
    metrics = {"rollouts_file": str(rollouts), "judge": judge, **compute_metrics(outcomes_of(scored))}
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(out_dir / SCORED)
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for record in scored:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(tmp, out_dir / SCORED)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    atomic_write_text(out_dir / METRICS, json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    return Scored(records=scored, metrics=metrics)
