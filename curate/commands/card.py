"""`curate card DIR`: (re)write the Hub data card of a curated output."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("card")(card)


def card(out_dir: Path = typer.Argument(..., help="A `curate run` output folder.")) -> None:
    """Write DIR/README.md (Hub front matter, funnel, token lengths, mix, decontamination, recipe, hashes,
    citations) and the token-length plot. `curate run` already does this; rerun it after editing reports."""
    from curate.card import TOKEN_PLOT, write_card

    path = write_card(out_dir)
    plot = out_dir / TOKEN_PLOT
    typer.echo(f"{path}" + (f" and {plot}" if plot.exists() else ""))
