"""`curate eval run` and `curate eval score`: rollouts on math benchmarks, judged the model card's way."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from curate.errors import CurateError

eval_app = typer.Typer(
    name="eval",
    help="Evaluate a model on AIME/AMC/MATH (the T0 protocol): sample rollouts, judge them, print the table.",
    no_args_is_help=True,
)

# What `curate eval run` writes into --out (see curate.evaluate.rollouts and .scoring).
EVAL_FILES = ("run.json", "rollouts.jsonl", "scored.jsonl", "metrics.json")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


FORCE_HELP = "Write into a folder curate did not create, or over files there it did not write."
JUDGE_HELP = (
    "math-verify (symbolic, in worker processes with hard timeouts) or exact (normalised string match)."
)


@eval_app.command("run")
def run(
    model: str = typer.Option(
        ..., "--model", help="Model folder or Hugging Face id (the served name for openai)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output folder; rerunning into it resumes an interrupted run."
    ),
    suite: str = typer.Option(
        "t0",
        "--suite",
        help="t0 (aime2025+aime2026+amc23), a benchmark name, or a jsonl of id, problem, answer.",
    ),
    rollouts: int = typer.Option(16, "--rollouts", min=1, help="Completions sampled per problem (N)."),
    max_tokens: int = typer.Option(32768, "--max-tokens", min=1, help="Generation budget per completion."),
    temperature: float = typer.Option(0.6, "--temperature", min=0.0),
    top_p: float = typer.Option(0.95, "--top-p", min=0.0, max=1.0),
    top_k: int = typer.Option(20, "--top-k", help="0 or -1: no top-k cut."),
    min_p: float = typer.Option(0.0, "--min-p", min=0.0, max=1.0),
    seed: int = typer.Option(0, "--seed", help="Base seed; each problem's seed derives from it and its id."),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Only the first N problems of each dataset."
    ),
    backend: str = typer.Option(
        "vllm", "--backend", help="vllm (offline, GPUs), openai (a server), transformers."
    ),
    tokenizer: str | None = typer.Option(None, "--tokenizer", help="Tokenizer folder/id (default: --model)."),
    chat_template: Path | None = typer.Option(
        None, "--chat-template", help="A jinja chat template replacing the tokenizer's."
    ),
    tensor_parallel: int = typer.Option(
        1, "--tensor-parallel", min=1, help="vllm: GPUs to shard the model over."
    ),
    max_model_len: int | None = typer.Option(
        None, "--max-model-len", min=1, help="vllm: context length (default: the model's)."
    ),
    gpu_memory_utilization: float = typer.Option(0.9, "--gpu-memory-utilization", min=0.05, max=1.0),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000/v1", "--base-url", help="openai: the server's /v1 URL."
    ),
    api: str = typer.Option(
        "completions", "--api", help="openai: completions (prompt templated here) or chat (server templates)."
    ),
    concurrency: int = typer.Option(16, "--concurrency", min=1, help="openai: problems in flight at once."),
    request_timeout: float = typer.Option(
        3600.0, "--request-timeout", min=1.0, help="openai: seconds per request."
    ),
    judge: str = typer.Option("math-verify", "--judge", help=JUDGE_HELP),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Judge processes (default: all cores)."
    ),
    judge_timeout: float = typer.Option(
        10.0, "--judge-timeout", min=0.1, help="Seconds per math-verify check."
    ),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Sample rollouts for a suite into OUT/rollouts.jsonl (resumable), then score them."""
    from curate.evaluate.backends import check_available, make_backend
    from curate.evaluate.backends.base import Sampling
    from curate.evaluate.prompts import load_tokenizer
    from curate.evaluate.report import print_metrics
    from curate.evaluate.runner import RunSpec, generate
    from curate.evaluate.scoring import JUDGES, score_file
    from curate.evaluate.suites import resolve_suite
    from curate.ownership import claim

    if judge not in JUDGES:
        raise CurateError(f"unknown judge {judge!r}", hint=f"use one of {', '.join(JUDGES)}")
    if api not in ("completions", "chat"):
        raise CurateError(f"unknown --api {api!r}", hint="use completions or chat")
    check_available(backend)
    sampling = Sampling(
        rollouts=rollouts,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=max(top_k, 0),
        min_p=min_p,
        seed=seed,
    )
    problems = resolve_suite(suite, limit)
    # A chat server templates the prompt itself; everything else renders it here.
    templated_here = not (backend == "openai" and api == "chat")
    tok = load_tokenizer(tokenizer or model, chat_template) if templated_here or tokenizer else None
    if backend == "vllm":
        options: dict = {
            "tokenizer_name": tokenizer,
            "tensor_parallel": tensor_parallel,
            "max_model_len": max_model_len,
            "gpu_memory_utilization": gpu_memory_utilization,
            "seed": seed,
        }
    elif backend == "openai":
        options = {
            "base_url": base_url,
            "api": api,
            "api_key": os.environ.get("OPENAI_API_KEY"),
            "concurrency": concurrency,
            "timeout": request_timeout,
        }
    else:
        options = {}
    with claim(out, command="eval", force=force, writes=EVAL_FILES) as folder:
        folder.record(EVAL_FILES)
        engine = make_backend(backend, model, tokenizer=tok, **options)
        spec = RunSpec(model=model, suite=suite, sampling=sampling, out_dir=out, limit=limit)
        path = generate(spec, problems, engine, tok if templated_here else None)
        scored = score_file(path, out, judge, workers, judge_timeout)
    print_metrics(scored.metrics)
    typer.echo(f"{out}: rollouts.jsonl, scored.jsonl, metrics.json")


@eval_app.command("score")
def score(
    rollouts: Path = typer.Argument(..., help="A rollouts.jsonl: lines of id, dataset, answer, completions."),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (default: the rollouts file's folder)."
    ),
    judge: str = typer.Option("math-verify", "--judge", help=JUDGE_HELP),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Judge processes (default: all cores)."
    ),
    judge_timeout: float = typer.Option(
        10.0, "--judge-timeout", min=0.1, help="Seconds per math-verify check."
    ),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Judge a rollouts file: writes scored.jsonl and metrics.json and prints the model card's table."""
    from curate.evaluate.report import print_metrics
    from curate.evaluate.scoring import METRICS, SCORED, score_file
    from curate.ownership import claim

    target = out or rollouts.parent
    if not rollouts.is_file():
        raise CurateError("no such rollouts file", where=str(rollouts))
    with claim(target, command="eval", force=force, writes=[SCORED, METRICS]) as folder:
        folder.record([SCORED, METRICS])
        scored = score_file(rollouts, target, judge, workers, judge_timeout)
    print_metrics(scored.metrics)
    typer.echo(f"{target}: scored.jsonl, metrics.json")
