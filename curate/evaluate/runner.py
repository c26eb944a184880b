"""`curate eval run`: prompts for a suite, rollouts from a backend into a resumable file, then scoring."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curate.errors import CurateError
from curate.evaluate.backends.base import Backend, Generation, Request, Sampling
from curate.evaluate.prompts import INSTRUCTION, TEMPLATE_KWARGS, encode, render, user_message
from curate.evaluate.rollouts import ROLLOUTS, RolloutLog, check_settings
from curate.evaluate.suites import SUITES, Problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSpec:
    model: str
    suite: str
    sampling: Sampling
    out_dir: Path
    limit: int | None = None


def problem_seed(seed: int, problem: Problem) -> int:
    """A per-problem seed that does not depend on which other problems share the run (so resuming, or
    running a subset, draws the same rollouts), kept below 2**31 for every backend."""
    digest = hashlib.sha256(f"{seed}\0{problem.key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def build_requests(problems: list[Problem], tokenizer: Any, seed: int) -> list[Request]:
    """One request per problem; with no tokenizer (a chat server templates) only the messages are set."""
    requests = []
    for problem in problems:
        prompt = render(tokenizer, problem.problem) if tokenizer is not None else None
        requests.append(
            Request(
                key=problem.key,
                messages=user_message(problem.problem),
                prompt=prompt,
                prompt_ids=encode(tokenizer, prompt) if prompt is not None else None,
                seed=problem_seed(seed, problem),
            )
        )
    return requests


def run_settings(spec: RunSpec, problems: list[Problem], requests: list[Request]) -> dict[str, Any]:
    """What decides the rollouts: a folder may only be resumed under identical settings. The backend is not
    among them (vLLM offline and vLLM behind a server sample the same distribution)."""
    problem_hash = hashlib.sha256(
        json.dumps([[p.key, p.problem, p.answer] for p in problems], ensure_ascii=False).encode()
    ).hexdigest()[:16]
    prompt_hash = hashlib.sha256(
        json.dumps(
            [r.prompt if r.prompt is not None else [r.messages, TEMPLATE_KWARGS] for r in requests],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()[:16]
    return {
        "model": spec.model,
        # A user suite is known by its file name: its content is pinned by problems_sha256, so a moved file
        # still resumes.
        "suite": spec.suite if spec.suite in SUITES else Path(spec.suite).name,
        "limit": spec.limit,
        "problems": len(problems),
        "problems_sha256": problem_hash,
        "instruction": INSTRUCTION,
        "prompts_sha256": prompt_hash,
        **asdict(spec.sampling),
    }


def generate(spec: RunSpec, problems: list[Problem], backend: Backend, tokenizer: Any) -> Path:
    """Generate every missing problem's rollouts into `<out>/rollouts.jsonl` and return its path. Problems
    already in the file (from an interrupted run) are not generated again."""
    if not problems:
        raise CurateError("the suite has no problems", hint="check --suite and --limit")
    requests = build_requests(problems, tokenizer, spec.sampling.seed)
    settings = run_settings(spec, problems, requests)
    resumed = check_settings(spec.out_dir, settings)
    by_key = {p.key: p for p in problems}
    rollouts = RolloutLog(spec.out_dir / ROLLOUTS, spec.sampling.rollouts, [p.key for p in problems])
    try:
        todo = [r for r in requests if r.key not in rollouts.done]
        if resumed:
            log.info("resuming: %d of %d problems already done", len(rollouts.done), len(problems))
        log.info(
            "generating %d problems x %d rollouts with %s", len(todo), spec.sampling.rollouts, backend.name
        )
        for request, generations in backend.generate(todo, spec.sampling):
            rollouts.append(_record(by_key[request.key], request, generations, spec.sampling.rollouts))
            log.info("%s done (%d/%d)", request.key, len(rollouts.done), len(problems))
    except BaseException:
        rollouts.close()
        raise
    if not rollouts.complete():
        rollouts.close()
        raise CurateError(
            f"the backend returned {len(rollouts.done)} of {len(problems)} problems",
            where=str(spec.out_dir),
            hint="run the same command again to generate the rest",
        )
    rollouts.finalize()
    return spec.out_dir / ROLLOUTS


def _record(
    problem: Problem, request: Request, generations: list[Generation], rollouts: int
) -> dict[str, Any]:
    if len(generations) != rollouts:
        raise CurateError(f"{problem.key}: the backend returned {len(generations)} rollouts, not {rollouts}")
    record: dict[str, Any] = {
        "id": problem.id,
        "dataset": problem.dataset,
        "answer": problem.answer,
        "problem": problem.problem,
    }
    if request.prompt is not None:
        record["prompt"] = request.prompt
    record["completions"] = [g.text for g in generations]
    record["finish_reasons"] = [g.finish_reason for g in generations]
    record["num_tokens"] = [g.num_tokens for g in generations]
    return record
