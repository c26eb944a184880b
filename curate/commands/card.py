"""`curate card DIR`: (re)write the Hub data card of a curated output."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("card")(card)


def card(
    out_dir: Path = typer.Argument(..., help="A `curate run` output folder."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write into a folder curate did not create, or over a README.md it did not write.",
    ),
) -> None:
    """Write DIR/README.md (Hub front matter, funnel, token lengths, mix, decontamination, recipe, hashes,
    citations) and the token-length plot. `curate run` already does this; rerun it after editing reports."""
    from curate.card import TOKEN_PLOT, write_card
    from curate.ownership import claim

    names = ["README.md", TOKEN_PLOT]
    with claim(out_dir, command="card", force=force, writes=names) as folder:
        folder.record(names, owner="run")  # the card is part of the run's output: a rerun replaces it
        path = write_card(out_dir)
    plot = out_dir / TOKEN_PLOT
    typer.echo(f"{path}" + (f" and {plot}" if plot.exists() else ""))
