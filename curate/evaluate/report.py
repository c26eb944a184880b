"""The model card's table (Dataset | pass@1 | any@N | perfect@N, then the pooled T0 row) from metrics.json."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from curate.benchmarks import T0

NAMES = {
    "aime2024": "AIME 2024",
    "aime2025": "AIME 2025",
    "aime2026": "AIME 2026",
    "amc22": "AMC 2022",
    "amc23": "AMC 2023",
    "amc24": "AMC 2024",
    "math500": "MATH-500",
}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def metrics_table(metrics: dict[str, Any]) -> Table:
    datasets: dict[str, dict[str, Any]] = metrics["datasets"]
    n = metrics["overall"]["rollouts"]
    table = Table(title=f"pass@1 = mean over {n} runs of the dataset accuracy (judge: {metrics['judge']})")
    table.add_column("Dataset")
    for column in (
        "problems",
        "pass@1",
        f"any@{n}",
        f"perfect@{n}",
        f"maj@{n}",
        "truncated",
        "median tokens",
    ):
        table.add_column(column, justify="right")

    def row(label: str, m: dict[str, Any], **style: Any) -> None:
        tokens = m["median_tokens"]
        table.add_row(
            label,
            str(m["problems"]),
            _pct(m["pass@1"]),
            _pct(m[f"any@{n}"]),
            _pct(m[f"perfect@{n}"]),
            _pct(m[f"maj@{n}"]),
            _pct(m["truncated"]),
            "-" if tokens is None else f"{tokens:,.0f}",
            **style,
        )

    for name, m in datasets.items():
        row(NAMES.get(name, name), m)
    if len(datasets) > 1:
        label = (
            "T0 (all 100)" if tuple(datasets) == T0 and metrics["overall"]["problems"] == 100 else "overall"
        )
        table.add_section()
        row(label, metrics["overall"], style="bold")
    return table


def print_metrics(metrics: dict[str, Any], console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # a log file: do not wrap the table at rich's 80-column default
            console = Console(width=120)
    console.print(metrics_table(metrics))
