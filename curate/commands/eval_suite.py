"""`curate eval suite`: a training pool's problems as an evaluation suite, for `pass_rate` selection."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from curate.commands.eval import eval_app

    eval_app.command("suite")(suite)


def suite(
    pool: str = typer.Argument(
        ...,
        help="A curate output folder, a recipe (its source), or a source: a parquet/jsonl path or glob, "
        "`sample`, OWNER/NAME[:CONFIG][@REV].",
    ),
    out: Path = typer.Option(..., "--out", help="The suite jsonl to write (id = the row's uuid)."),
    split: str = typer.Option("all", "--split", help="For an output folder: all, train or test."),
    dataset: str = typer.Option("pool", "--dataset", help="The dataset name the suite's lines carry."),
) -> None:
    """Write a pool's problems as an eval suite: `curate eval run --suite OUT`, then filter with `pass_rate`."""
    from curate.evaluate.pool import write_pool_suite

    written = write_pool_suite(pool, out, dataset=dataset, split=split)
    left = f" ({written.no_answer} without an answer left out)" if written.no_answer else ""
    typer.echo(f"{out}: {written.written} problems{left}")
