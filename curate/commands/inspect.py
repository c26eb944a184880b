"""`curate inspect DIR`: the funnel and a few rows of a curated output."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from curate.errors import CurateError


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def inspect(
    out_dir: Path = typer.Argument(..., help="A `curate run` output folder."),
    rows: int = typer.Option(3, "--rows", "-n", min=0, help="Training rows to show."),
    chars: int = typer.Option(300, "--chars", help="Characters of each message to show."),
) -> None:
    """Print the funnel (rows in/out per filter, drops per reason) and a few training rows."""
    import polars as pl
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from curate.outputs import read_stats
    from curate.ownership import settle

    settle(out_dir)
    stats = read_stats(out_dir)
    console = Console(width=None if sys.stdout.isatty() else 140)
    table = Table(title=f"{stats.get('recipe', out_dir.name)}: funnel")
    for column in ("step", "level", "rows in", "rows out", "dropped (by reason)", "seconds"):
        table.add_column(column, justify="right" if column.startswith(("rows", "sec")) else "left")
    for entry in stats["funnel"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in entry.get("dropped", {}).items())
        table.add_row(
            f"{entry['source']}/{entry['filter']}" if entry.get("source") else str(entry["filter"]),
            str(entry.get("level", "")),
            str(entry["rows_in"]),
            str(entry["rows_out"]),
            reasons,
            f"{entry.get('seconds', '')}",
        )
    console.print(table)
    counts = stats["rows"]
    console.print(
        f"source {counts['source']} -> pool {counts['pool']} -> train {counts['train']}, test {counts['test']}"
    )
    train = out_dir / "train.parquet"
    if rows and train.exists():
        try:
            frame = pl.read_parquet(train, n_rows=rows, columns=["uuid", "source", "num_tokens", "messages"])
        except Exception as exc:  # polars raises several types for a file that is not parquet
            raise CurateError(
                f"not a readable parquet file ({type(exc).__name__})",
                where=str(train),
                hint="re-run `curate run RECIPE` to write it again",
            ) from None
        for record in frame.iter_rows(named=True):
            console.rule(f"{record['uuid']} ({record['source']}, {record['num_tokens']} tokens)")
            for message in record["messages"] or []:
                text = message["content"] or ""
                shown = text if len(text) <= chars else text[: chars // 2] + " [...] " + text[-chars // 2 :]
                console.print(Text.assemble((str(message["role"]), "bold"), ": ", shown), highlight=False)
