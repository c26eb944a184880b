"""`curate inspect DIR`: the funnel and a few rows of a curated output."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def inspect(
    out_dir: Path = typer.Argument(..., help="A `curate run` output folder."),
    rows: int = typer.Option(3, "--rows", "-n", min=0, help="Training rows to show."),
    chars: int = typer.Option(300, "--chars", help="Characters of each message to show."),
) -> None:
    """Print the funnel (rows in/out per filter, drops per reason) and a few training rows."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from curate.outputs import RunOutput
    from curate.ownership import settle

    settle(out_dir)
    output = RunOutput(out_dir)
    stats = output.stats()
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
    if rows and output.split_path("train").exists():
        shown = 0
        for batch in output.split_batches("train", ["uuid", "source", "num_tokens", "messages"]):
            for record in batch.slice(0, rows - shown).to_pylist():
                console.rule(f"{record['uuid']} ({record['source']}, {record['num_tokens']} tokens)")
                for message in record["messages"] or []:
                    text = message["content"] or ""
                    cut = text if len(text) <= chars else text[: chars // 2] + " [...] " + text[-chars // 2 :]
                    console.print(Text.assemble((str(message["role"]), "bold"), ": ", cut), highlight=False)
                shown += 1
            if shown >= rows:
                break
