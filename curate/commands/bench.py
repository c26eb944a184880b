"""`curate bench`: time the 45K recipe end to end, each filter alone, a straightforward baseline, and the
MinHash / token counting / verification kernels against their references."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.errors import CurateError
from curate.limits import MAX_SAMPLE_ROWS


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


def _sizes(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CurateError(
            f"--scaling {text}: expected row counts separated by commas, e.g. 25000,100000,225000"
        ) from None
    if any(not 10 <= n <= MAX_SAMPLE_ROWS for n in sizes):
        raise CurateError(f"--scaling {text}: every size must be 10 to {MAX_SAMPLE_ROWS:,} rows")
    return sizes


def _sections(text: str | None) -> list[str]:
    from curate.bench.suite import SECTIONS

    if not text:
        return []
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise CurateError(f"--only {text}: unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    return names


def bench(
    rows: int = typer.Option(
        225_000,
        "--rows",
        "-n",
        help=f"Rows of the generated OpenR1-shaped corpus (10 to {MAX_SAMPLE_ROWS:,}; large corpora are "
        "generated once and streamed to disk).",
    ),
    out: Path = typer.Option(Path("bench"), "--out", "-o", help="Folder for bench.md and bench.json."),
    baseline_rows: int = typer.Option(
        2_000,
        "--baseline-rows",
        min=10,
        help="Rows the (slow) baseline and curate both run on, for the ratio.",
    ),
    scaling: str | None = typer.Option(
        None,
        "--scaling",
        help="Corpus sizes to time end to end, e.g. 25000,100000,225000 (default: rows/9, 4 rows/9, rows).",
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes (default: all cores)."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Corpus seed (corpora are cached by rows, seed and generator version)."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write into a folder curate did not create, or over files there it did not write.",
    ),
    ray_rows: int | None = typer.Option(
        None,
        "--ray-rows",
        min=10,
        help="Also run the recipe with --executor ray on this many rows, back to back with the local executor.",
    ),
    preset_rows: int | None = typer.Option(
        None,
        "--preset-rows",
        min=10,
        help="Also run each shipped source schema's recipe on this many rows rewritten in its schema, beside "
        "the OpenR1 trace-quality chain on the same text.",
    ),
    only: str | None = typer.Option(
        None,
        "--only",
        help="Run only these parts besides the end-to-end run, e.g. scaling,ray "
        "(scaling, filters, baseline, kernels, ray, presets; default: all but ray and presets, and those "
        "with --ray-rows / --preset-rows).",
    ),
) -> None:
    """Benchmark the 45K recipe on a generated corpus: end to end (wall, rows/s, MB/s, peak RSS of the whole
    process tree, where the time went), each filter alone, against a straightforward
    datasets/datasketch/math-verify/HF-tokenizer baseline on the same rows, MinHash vs rensa, token counting
    vs tiktoken, verification vs math-verify, how time and memory scale with rows, Ray against the local
    executor, and a projection to a 3.2M-row source on 64-core nodes. Writes OUT/bench.md and OUT/bench.json."""
    from curate.bench.machine import usable_cores
    from curate.bench.suite import BenchConfig, run_bench
    from curate.ownership import claim

    if not 10 <= rows <= MAX_SAMPLE_ROWS:
        raise CurateError(f"--rows {rows}: the corpus has 10 to {MAX_SAMPLE_ROWS:,} rows")
    config = BenchConfig(
        rows=rows,
        out=out,
        baseline_rows=min(baseline_rows, rows),
        scaling=_sizes(scaling),
        workers=workers or usable_cores(),
        seed=seed,
        ray_rows=ray_rows,
        preset_rows=preset_rows,
        only=_sections(only),
    )
    names = ["bench.md", "bench.json"]
    with claim(out, command="bench", force=force, writes=names) as folder:
        folder.record(names)
        run_bench(config)
    typer.echo((out / "bench.md").read_text(encoding="utf-8"))
    typer.echo(f"wrote {out / 'bench.md'} and {out / 'bench.json'}")
